-- Times are INTEGER microseconds since the Unix epoch, UTC; 0 means unset.
-- Lists are stored as space-separated text.

CREATE TABLE security_users (
	username TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	roles TEXT NOT NULL,
	totp_secret TEXT NOT NULL,
	fhir_user TEXT NOT NULL,
	location TEXT NOT NULL,
	disabled INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE security_clients (
	id TEXT PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('system', 'app')),
	name TEXT NOT NULL,
	jwks TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	scopes TEXT NOT NULL,
	roles TEXT NOT NULL,
	disabled INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);

-- NOTE: private keys are stored as PEM text; encryption at rest comes
-- from the key ring once it wraps this column.
CREATE TABLE security_signing_keys (
	id TEXT PRIMARY KEY,
	algorithm TEXT NOT NULL,
	private_key TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL
);
CREATE INDEX security_signing_keys_retired ON security_signing_keys (retired_at);

CREATE TABLE security_jti (
	issuer TEXT NOT NULL,
	jti TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	PRIMARY KEY (issuer, jti)
);
CREATE INDEX security_jti_expires ON security_jti (expires_at);

CREATE TABLE security_auth_codes (
	code_hash TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	scope TEXT NOT NULL,
	username TEXT NOT NULL,
	challenge TEXT NOT NULL,
	patient TEXT NOT NULL,
	expires_at INTEGER NOT NULL
);

CREATE TABLE security_grants (
	id TEXT PRIMARY KEY,
	subject TEXT NOT NULL,
	patient TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX security_grants_subject ON security_grants (subject, expires_at);

-- Sealed values stay bytes in the TEXT columns: decrypt before going
-- down.
CREATE TABLE security_users_old (
	username TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	roles TEXT NOT NULL,
	totp_secret TEXT NOT NULL,
	fhir_user TEXT NOT NULL,
	location TEXT NOT NULL,
	disabled INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	totp_last_step INTEGER NOT NULL DEFAULT 0
);
INSERT INTO security_users_old SELECT username, password_hash, roles, CAST(totp_secret AS TEXT),
	fhir_user, location, disabled, created_at, totp_last_step FROM security_users;
DROP TABLE security_users;
ALTER TABLE security_users_old RENAME TO security_users;

CREATE TABLE security_signing_keys_old (
	id TEXT PRIMARY KEY,
	algorithm TEXT NOT NULL,
	private_key TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL
);
INSERT INTO security_signing_keys_old SELECT id, algorithm, CAST(private_key AS TEXT), created_at, retired_at
	FROM security_signing_keys;
DROP TABLE security_signing_keys;
ALTER TABLE security_signing_keys_old RENAME TO security_signing_keys;
CREATE INDEX security_signing_keys_retired ON security_signing_keys (retired_at);

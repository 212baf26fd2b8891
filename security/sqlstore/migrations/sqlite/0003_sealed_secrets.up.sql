-- Private keys and TOTP secrets become BLOB columns: with a
-- storage.Cipher they hold sealed bytes. Existing rows keep their
-- plaintext, which the store still reads.
CREATE TABLE security_users_new (
	username TEXT PRIMARY KEY,
	password_hash TEXT NOT NULL,
	roles TEXT NOT NULL,
	totp_secret BLOB NOT NULL,
	fhir_user TEXT NOT NULL,
	location TEXT NOT NULL,
	disabled INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	totp_last_step INTEGER NOT NULL DEFAULT 0
);
INSERT INTO security_users_new SELECT username, password_hash, roles, CAST(totp_secret AS BLOB),
	fhir_user, location, disabled, created_at, totp_last_step FROM security_users;
DROP TABLE security_users;
ALTER TABLE security_users_new RENAME TO security_users;

CREATE TABLE security_signing_keys_new (
	id TEXT PRIMARY KEY,
	algorithm TEXT NOT NULL,
	private_key BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	retired_at INTEGER NOT NULL
);
INSERT INTO security_signing_keys_new SELECT id, algorithm, CAST(private_key AS BLOB), created_at, retired_at
	FROM security_signing_keys;
DROP TABLE security_signing_keys;
ALTER TABLE security_signing_keys_new RENAME TO security_signing_keys;
CREATE INDEX security_signing_keys_retired ON security_signing_keys (retired_at);

-- Data key versions, each a random 256-bit key wrapped (AES-256-GCM) by
-- the master key. A retired version keeps its row with the key erased.
CREATE TABLE security_keyring_keys (
	version BIGINT PRIMARY KEY,
	state TEXT NOT NULL CHECK (state IN ('active', 'decrypt-only', 'retired')),
	wrapped_key BYTEA,
	created_at BIGINT NOT NULL, -- microseconds since the Unix epoch, UTC
	state_changed_at BIGINT NOT NULL,
	CHECK ((state = 'retired') = (wrapped_key IS NULL))
);
CREATE UNIQUE INDEX security_keyring_keys_one_active ON security_keyring_keys (state) WHERE state = 'active';

-- Other wrapped secrets of the key ring, such as the index hash key.
CREATE TABLE security_keyring_secrets (
	name TEXT PRIMARY KEY,
	wrapped BYTEA NOT NULL,
	created_at BIGINT NOT NULL
);

-- Progress of the background rewrap, one row per store.
CREATE TABLE security_keyring_rewrap (
	component TEXT PRIMARY KEY,
	target_version BIGINT NOT NULL,
	cursor BIGINT NOT NULL,
	done BOOLEAN NOT NULL,
	rewrapped BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);

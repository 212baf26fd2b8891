-- Data key versions, each a random 256-bit key wrapped (AES-256-GCM) by
-- the master key. A retired version keeps its row with the key erased.
CREATE TABLE security_keyring_keys (
	version INTEGER PRIMARY KEY,
	state TEXT NOT NULL CHECK (state IN ('active', 'decrypt-only', 'retired')),
	wrapped_key BLOB,
	created_at INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
	state_changed_at INTEGER NOT NULL,
	CHECK ((state = 'retired') = (wrapped_key IS NULL))
);
CREATE UNIQUE INDEX security_keyring_keys_one_active ON security_keyring_keys (state) WHERE state = 'active';

-- Other wrapped secrets of the key ring, such as the index hash key.
CREATE TABLE security_keyring_secrets (
	name TEXT PRIMARY KEY,
	wrapped BLOB NOT NULL,
	created_at INTEGER NOT NULL
);

-- Progress of the background rewrap, one row per store.
CREATE TABLE security_keyring_rewrap (
	component TEXT PRIMARY KEY,
	target_version INTEGER NOT NULL,
	cursor INTEGER NOT NULL,
	done INTEGER NOT NULL,
	rewrapped INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- The hash-chained audit log. Rows are only ever inserted: the triggers
-- below reject UPDATE and DELETE, and a database administrator who drops
-- them to rewrite history is caught by `nexusd audit verify`.
CREATE TABLE audit_log (
	seq INTEGER PRIMARY KEY,
	recorded INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
	type TEXT NOT NULL,
	subtype TEXT NOT NULL,
	action TEXT NOT NULL,
	outcome TEXT NOT NULL,
	outcome_desc TEXT NOT NULL,
	agent_who TEXT NOT NULL,
	agent_client TEXT NOT NULL,
	agent_roles TEXT NOT NULL, -- JSON array of role codes
	agent_address TEXT NOT NULL,
	source TEXT NOT NULL,
	patient_id TEXT NOT NULL,
	what TEXT NOT NULL,
	query TEXT NOT NULL,
	purpose TEXT NOT NULL,
	stream TEXT NOT NULL,
	position INTEGER NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL,
	mac TEXT NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, seq);
CREATE INDEX audit_log_stream ON audit_log (stream, position);
CREATE INDEX audit_log_hash ON audit_log (hash);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The newest entry, with a MAC, so that removing entries from the end of
-- the log is detected.
CREATE TABLE audit_head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL,
	hash TEXT NOT NULL,
	mac TEXT NOT NULL
);

-- The Ed25519 checkpoint signing key. The seed is sealed by the key ring
-- when the database has one.
CREATE TABLE audit_signing_keys (
	id TEXT PRIMARY KEY,
	public_key BLOB NOT NULL,
	seed BLOB NOT NULL,
	created_at INTEGER NOT NULL
);

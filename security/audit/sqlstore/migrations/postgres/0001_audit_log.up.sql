-- The hash-chained audit log. Rows are only ever inserted: the triggers
-- below reject UPDATE, DELETE and TRUNCATE, and a database administrator
-- who disables them to rewrite history is caught by `nexusd audit verify`.
CREATE TABLE audit_log (
	seq BIGINT PRIMARY KEY,
	recorded BIGINT NOT NULL, -- microseconds since the Unix epoch, UTC
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
	patient_id TEXT NOT NULL COLLATE "C",
	what TEXT NOT NULL,
	query TEXT NOT NULL,
	purpose TEXT NOT NULL,
	stream TEXT NOT NULL COLLATE "C",
	position BIGINT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL COLLATE "C",
	mac TEXT NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient_id, seq);
CREATE INDEX audit_log_stream ON audit_log (stream, position);
CREATE INDEX audit_log_hash ON audit_log (hash);

CREATE FUNCTION audit_log_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();

-- The newest entry, with a MAC, so that removing entries from the end of
-- the log is detected.
CREATE TABLE audit_head (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL,
	hash TEXT NOT NULL,
	mac TEXT NOT NULL
);

-- The Ed25519 checkpoint signing key. The seed is sealed by the key ring
-- when the database has one.
CREATE TABLE audit_signing_keys (
	id TEXT PRIMARY KEY,
	public_key BYTEA NOT NULL,
	seed BYTEA NOT NULL,
	created_at BIGINT NOT NULL
);

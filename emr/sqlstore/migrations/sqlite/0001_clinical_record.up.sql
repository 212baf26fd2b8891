-- Every version of every resource, never updated or deleted.
CREATE TABLE resource_versions (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	res_type TEXT NOT NULL,
	res_id TEXT NOT NULL,
	version_id INTEGER NOT NULL,
	last_updated INTEGER NOT NULL, -- microseconds since the Unix epoch, UTC
	method TEXT NOT NULL,
	author TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	body BLOB,
	UNIQUE (res_type, res_id, version_id)
);
CREATE INDEX resource_versions_type ON resource_versions (res_type, seq);
CREATE INDEX resource_versions_hash ON resource_versions (res_type, res_id, content_hash);

-- The current version of each resource; rid is the row key that search
-- index rows and paging cursors use.
CREATE TABLE resources (
	rid INTEGER PRIMARY KEY AUTOINCREMENT,
	res_type TEXT NOT NULL,
	res_id TEXT NOT NULL,
	version_id INTEGER NOT NULL,
	seq INTEGER NOT NULL REFERENCES resource_versions (seq),
	last_updated INTEGER NOT NULL,
	deleted INTEGER NOT NULL DEFAULT 0,
	UNIQUE (res_type, res_id)
);
CREATE INDEX resources_updated ON resources (res_type, last_updated);

-- Search index rows are derived from the current versions and rebuilt on
-- every write, so they carry no foreign keys. They are keyed by resource
-- first (WITHOUT ROWID), so replacing a resource's rows needs no second
-- index on rid.
CREATE TABLE idx_string (
	rid INTEGER NOT NULL,
	res_type TEXT NOT NULL,
	param TEXT NOT NULL,
	text TEXT NOT NULL,
	exact TEXT NOT NULL,
	PRIMARY KEY (rid, param, text, exact)
) WITHOUT ROWID;
CREATE INDEX idx_string_text ON idx_string (res_type, param, text);

CREATE TABLE idx_token (
	rid INTEGER NOT NULL,
	res_type TEXT NOT NULL,
	param TEXT NOT NULL,
	system TEXT NOT NULL,
	code TEXT NOT NULL,
	text TEXT NOT NULL,
	PRIMARY KEY (rid, param, system, code, text)
) WITHOUT ROWID;
CREATE INDEX idx_token_code ON idx_token (res_type, param, code, system);

CREATE TABLE idx_date (
	rid INTEGER NOT NULL,
	res_type TEXT NOT NULL,
	param TEXT NOT NULL,
	lo INTEGER NOT NULL,
	hi INTEGER NOT NULL,
	PRIMARY KEY (rid, param, lo, hi)
) WITHOUT ROWID;
CREATE INDEX idx_date_lo ON idx_date (res_type, param, lo);

CREATE TABLE idx_reference (
	rid INTEGER NOT NULL,
	res_type TEXT NOT NULL,
	param TEXT NOT NULL,
	ref_type TEXT NOT NULL,
	ref_id TEXT NOT NULL,
	ref_version TEXT NOT NULL,
	exact TEXT NOT NULL,
	PRIMARY KEY (rid, param, ref_type, ref_id, ref_version, exact)
) WITHOUT ROWID;
CREATE INDEX idx_reference_target ON idx_reference (res_type, param, ref_id, ref_type);
CREATE INDEX idx_reference_exact ON idx_reference (res_type, param, exact);

CREATE TABLE idx_number (
	rid INTEGER NOT NULL,
	res_type TEXT NOT NULL,
	param TEXT NOT NULL,
	num REAL NOT NULL,
	lo REAL NOT NULL,
	hi REAL NOT NULL,
	system TEXT NOT NULL,
	code TEXT NOT NULL,
	PRIMARY KEY (rid, param, num, lo, hi, system, code)
) WITHOUT ROWID;
CREATE INDEX idx_number_num ON idx_number (res_type, param, num);

CREATE TABLE idx_uri (
	rid INTEGER NOT NULL,
	res_type TEXT NOT NULL,
	param TEXT NOT NULL,
	uri TEXT NOT NULL,
	PRIMARY KEY (rid, param, uri)
) WITHOUT ROWID;
CREATE INDEX idx_uri_uri ON idx_uri (res_type, param, uri);

-- Identifiers (system, value) held by current patients: one patient each.
CREATE TABLE patient_identifiers (
	system TEXT NOT NULL,
	value TEXT NOT NULL,
	rid INTEGER NOT NULL REFERENCES resources (rid),
	PRIMARY KEY (system, value)
);
CREATE INDEX patient_identifiers_rid ON patient_identifiers (rid);

-- Master patient index blocking keys of current patients.
CREATE TABLE mpi_keys (
	key TEXT NOT NULL,
	rid INTEGER NOT NULL REFERENCES resources (rid),
	PRIMARY KEY (key, rid)
);
CREATE INDEX mpi_keys_rid ON mpi_keys (rid);

CREATE TABLE sequences (
	name TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);

-- Transactional outbox of domain events, read by position.
CREATE TABLE outbox (
	position INTEGER PRIMARY KEY AUTOINCREMENT,
	topic TEXT NOT NULL,
	res_type TEXT NOT NULL,
	res_id TEXT NOT NULL,
	version_id INTEGER NOT NULL,
	author TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	data TEXT NOT NULL
);

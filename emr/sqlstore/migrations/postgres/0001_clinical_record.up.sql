-- Every version of every resource, never updated or deleted.
CREATE TABLE resource_versions (
	seq BIGSERIAL PRIMARY KEY,
	res_type TEXT NOT NULL COLLATE "C",
	res_id TEXT NOT NULL COLLATE "C",
	version_id BIGINT NOT NULL,
	last_updated BIGINT NOT NULL, -- microseconds since the Unix epoch, UTC
	method TEXT NOT NULL,
	author TEXT NOT NULL,
	content_hash TEXT NOT NULL,
	body BYTEA,
	UNIQUE (res_type, res_id, version_id)
);
CREATE INDEX resource_versions_type ON resource_versions (res_type, seq);
CREATE INDEX resource_versions_hash ON resource_versions (res_type, res_id, content_hash);

-- The current version of each resource; rid is the row key that search
-- index rows and paging cursors use.
CREATE TABLE resources (
	rid BIGSERIAL PRIMARY KEY,
	res_type TEXT NOT NULL COLLATE "C",
	res_id TEXT NOT NULL COLLATE "C",
	version_id BIGINT NOT NULL,
	seq BIGINT NOT NULL REFERENCES resource_versions (seq),
	last_updated BIGINT NOT NULL,
	deleted BOOLEAN NOT NULL DEFAULT FALSE,
	UNIQUE (res_type, res_id)
);
CREATE INDEX resources_updated ON resources (res_type, last_updated);

-- Search index rows are derived from the current versions and rebuilt on
-- every write, so they carry no foreign keys.
CREATE TABLE idx_string (
	rid BIGINT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	param TEXT NOT NULL COLLATE "C",
	text TEXT NOT NULL COLLATE "C",
	exact TEXT NOT NULL COLLATE "C"
);
CREATE INDEX idx_string_text ON idx_string (res_type, param, text);
CREATE INDEX idx_string_rid ON idx_string (rid);

CREATE TABLE idx_token (
	rid BIGINT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	param TEXT NOT NULL COLLATE "C",
	system TEXT NOT NULL COLLATE "C",
	code TEXT NOT NULL COLLATE "C",
	text TEXT NOT NULL COLLATE "C"
);
CREATE INDEX idx_token_code ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_date (
	rid BIGINT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	param TEXT NOT NULL COLLATE "C",
	lo BIGINT NOT NULL,
	hi BIGINT NOT NULL
);
CREATE INDEX idx_date_lo ON idx_date (res_type, param, lo);
CREATE INDEX idx_date_rid ON idx_date (rid);

CREATE TABLE idx_reference (
	rid BIGINT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	param TEXT NOT NULL COLLATE "C",
	ref_type TEXT NOT NULL COLLATE "C",
	ref_id TEXT NOT NULL COLLATE "C",
	ref_version TEXT NOT NULL,
	exact TEXT NOT NULL COLLATE "C"
);
CREATE INDEX idx_reference_target ON idx_reference (res_type, param, ref_id, ref_type);
CREATE INDEX idx_reference_exact ON idx_reference (res_type, param, exact);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

CREATE TABLE idx_number (
	rid BIGINT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	param TEXT NOT NULL COLLATE "C",
	num DOUBLE PRECISION NOT NULL,
	lo DOUBLE PRECISION NOT NULL,
	hi DOUBLE PRECISION NOT NULL,
	system TEXT NOT NULL COLLATE "C",
	code TEXT NOT NULL COLLATE "C"
);
CREATE INDEX idx_number_num ON idx_number (res_type, param, num);
CREATE INDEX idx_number_rid ON idx_number (rid);

CREATE TABLE idx_uri (
	rid BIGINT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	param TEXT NOT NULL COLLATE "C",
	uri TEXT NOT NULL COLLATE "C"
);
CREATE INDEX idx_uri_uri ON idx_uri (res_type, param, uri);
CREATE INDEX idx_uri_rid ON idx_uri (rid);

-- Identifiers (system, value) held by current patients: one patient each.
CREATE TABLE patient_identifiers (
	system TEXT NOT NULL COLLATE "C",
	value TEXT NOT NULL,
	rid BIGINT NOT NULL REFERENCES resources (rid),
	PRIMARY KEY (system, value)
);
CREATE INDEX patient_identifiers_rid ON patient_identifiers (rid);

-- Master patient index blocking keys of current patients.
CREATE TABLE mpi_keys (
	key TEXT NOT NULL COLLATE "C",
	rid BIGINT NOT NULL REFERENCES resources (rid),
	PRIMARY KEY (key, rid)
);
CREATE INDEX mpi_keys_rid ON mpi_keys (rid);

CREATE TABLE sequences (
	name TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);

-- Transactional outbox of domain events, read by position.
CREATE TABLE outbox (
	position BIGSERIAL PRIMARY KEY,
	topic TEXT NOT NULL,
	res_type TEXT NOT NULL COLLATE "C",
	res_id TEXT NOT NULL COLLATE "C",
	version_id BIGINT NOT NULL,
	author TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	data TEXT NOT NULL
);

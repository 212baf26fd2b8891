-- The patients in whose compartments each version is. History and version
-- reads of a caller restricted to some patients filter on it, because
-- search index rows exist for current versions only. Versions written
-- before this table existed have no rows.
CREATE TABLE version_patients (
	seq INTEGER NOT NULL REFERENCES resource_versions (seq),
	patient_id TEXT NOT NULL,
	PRIMARY KEY (seq, patient_id)
) WITHOUT ROWID;

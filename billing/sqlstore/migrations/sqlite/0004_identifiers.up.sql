-- Business identifiers that clients give accounts, charges and invoices,
-- kept as a JSON array on the row and one row each here for search.
ALTER TABLE billing_accounts ADD COLUMN identifiers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE billing_charges ADD COLUMN identifiers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE billing_invoices ADD COLUMN identifiers TEXT NOT NULL DEFAULT '[]';

CREATE TABLE billing_identifiers (
	kind TEXT NOT NULL CHECK (kind IN ('account', 'charge', 'invoice')),
	owner_id TEXT NOT NULL,
	system TEXT NOT NULL,
	value TEXT NOT NULL CHECK (value <> ''),
	PRIMARY KEY (kind, owner_id, system, value)
);
CREATE INDEX billing_identifiers_value ON billing_identifiers (kind, value, system);

-- Elements of a record's FHIR resource that the billing model has no
-- field for, kept verbatim as a JSON document per record version.
CREATE TABLE billing_kept_elements (
	kind TEXT NOT NULL CHECK (kind IN ('Account', 'ChargeItem', 'ChargeItemDefinition', 'Invoice', 'PaymentReconciliation')),
	record_id TEXT NOT NULL,
	version BIGINT NOT NULL CHECK (version > 0),
	document TEXT NOT NULL,
	PRIMARY KEY (kind, record_id, version)
);

-- Every payment advice posted, one row per payer and trace number (TRN03
-- and TRN02 of an 835). The primary key makes a second post of the same
-- payment fail, concurrent posts included.
CREATE TABLE billing_remittance_advices (
	payer_id TEXT COLLATE "C" NOT NULL,
	reference TEXT COLLATE "C" NOT NULL,
	claims INTEGER NOT NULL CHECK (claims > 0),
	received_at BIGINT NOT NULL,
	posted_at BIGINT NOT NULL,
	posted_by TEXT NOT NULL,
	PRIMARY KEY (payer_id, reference),
	CHECK (payer_id <> '' AND reference <> '')
);

CREATE TRIGGER billing_remittance_advices_frozen BEFORE UPDATE OR DELETE ON billing_remittance_advices
	FOR EACH ROW EXECUTE FUNCTION billing_reject_change();

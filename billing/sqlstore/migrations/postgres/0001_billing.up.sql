-- Times are BIGINT microseconds since the Unix epoch, UTC. Amounts are
-- BIGINT minor units with an ISO 4217 code beside them. Ids and codes
-- compare bytewise (COLLATE "C"), as on SQLite.

-- Every version of every chargemaster item; the latest is current.
CREATE TABLE billing_charge_definitions (
	code TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL CHECK (version > 0),
	system TEXT NOT NULL,
	display TEXT NOT NULL,
	tax_ppm BIGINT NOT NULL CHECK (tax_ppm BETWEEN 0 AND 1000000),
	prices TEXT NOT NULL, -- JSON array of prices
	active BOOLEAN NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL,
	PRIMARY KEY (code, version)
);

CREATE TABLE billing_accounts (
	id TEXT COLLATE "C" PRIMARY KEY,
	version BIGINT NOT NULL CHECK (version > 0),
	patient_id TEXT COLLATE "C" NOT NULL,
	encounter_id TEXT NOT NULL,
	currency TEXT NOT NULL CHECK (length(currency) = 3),
	status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
	guarantors TEXT NOT NULL, -- JSON
	coverages TEXT NOT NULL, -- JSON, in order of benefits
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL
);
CREATE INDEX billing_accounts_patient ON billing_accounts (patient_id, encounter_id);

-- Every version of every account, never updated or deleted.
CREATE TABLE billing_account_history (
	account_id TEXT COLLATE "C" NOT NULL REFERENCES billing_accounts (id),
	version BIGINT NOT NULL,
	snapshot TEXT NOT NULL, -- JSON of status, guarantors and coverages
	changed_at BIGINT NOT NULL,
	changed_by TEXT NOT NULL,
	PRIMARY KEY (account_id, version)
);

-- Charges are never updated or deleted; corrections are reversing rows.
CREATE TABLE billing_charges (
	id TEXT COLLATE "C" PRIMARY KEY,
	account_id TEXT COLLATE "C" NOT NULL REFERENCES billing_accounts (id),
	code TEXT COLLATE "C" NOT NULL,
	system TEXT NOT NULL,
	display TEXT NOT NULL,
	definition_version BIGINT NOT NULL,
	quantity BIGINT NOT NULL CHECK (quantity <> 0),
	unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
	currency TEXT NOT NULL CHECK (length(currency) = 3),
	discount_ppm BIGINT NOT NULL CHECK (discount_ppm BETWEEN 0 AND 1000000),
	tax_ppm BIGINT NOT NULL CHECK (tax_ppm BETWEEN 0 AND 1000000),
	factor_ppm BIGINT NOT NULL,
	override_reason TEXT NOT NULL,
	source TEXT NOT NULL,
	source_event_id TEXT COLLATE "C" NOT NULL,
	reason TEXT NOT NULL,
	reverses TEXT COLLATE "C" REFERENCES billing_charges (id),
	service_date BIGINT NOT NULL,
	entered_at BIGINT NOT NULL,
	entered_by TEXT NOT NULL,
	CHECK ((reverses IS NULL) = (quantity > 0)),
	CHECK (source <> '' OR reason <> '')
);
CREATE INDEX billing_charges_account ON billing_charges (account_id, entered_at);
-- One charge per source event, so a replayed event never bills twice.
CREATE UNIQUE INDEX billing_charges_source ON billing_charges (source, source_event_id) WHERE source <> '';
-- A charge is reversed at most once.
CREATE UNIQUE INDEX billing_charges_reverses ON billing_charges (reverses) WHERE reverses IS NOT NULL;

CREATE TABLE billing_invoices (
	id TEXT COLLATE "C" PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit-note')),
	version BIGINT NOT NULL CHECK (version > 0),
	account_id TEXT COLLATE "C" NOT NULL REFERENCES billing_accounts (id),
	facility_id TEXT COLLATE "C" NOT NULL,
	number BIGINT NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('draft', 'issued', 'balanced', 'cancelled')),
	currency TEXT NOT NULL CHECK (length(currency) = 3),
	total_net BIGINT NOT NULL,
	total_tax BIGINT NOT NULL,
	total_gross BIGINT NOT NULL,
	credits TEXT NOT NULL,
	credited_by TEXT NOT NULL,
	issued_at BIGINT NOT NULL,
	issued_by TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL,
	CHECK (total_gross = total_net + total_tax),
	-- A number is given at issue and kept; drafts and discarded drafts
	-- have none.
	CHECK ((number > 0) = (issued_at > 0))
);
CREATE INDEX billing_invoices_account ON billing_invoices (account_id, created_at);
CREATE UNIQUE INDEX billing_invoices_number ON billing_invoices (facility_id, kind, number) WHERE number > 0;

CREATE TABLE billing_invoice_lines (
	invoice_id TEXT COLLATE "C" NOT NULL REFERENCES billing_invoices (id),
	sequence INTEGER NOT NULL CHECK (sequence > 0),
	charge_id TEXT COLLATE "C" NOT NULL REFERENCES billing_charges (id),
	code TEXT COLLATE "C" NOT NULL,
	system TEXT NOT NULL,
	display TEXT NOT NULL,
	quantity BIGINT NOT NULL,
	unit_price BIGINT NOT NULL,
	tax_ppm BIGINT NOT NULL,
	gross BIGINT NOT NULL,
	discount BIGINT NOT NULL,
	net BIGINT NOT NULL,
	tax BIGINT NOT NULL,
	total BIGINT NOT NULL,
	PRIMARY KEY (invoice_id, sequence),
	CHECK (net = gross - discount AND total = net + tax)
);


-- Which invoice holds each charge while it is drafted or issued. The
-- primary key keeps a charge on at most one open invoice.
CREATE TABLE billing_invoiced_charges (
	charge_id TEXT COLLATE "C" PRIMARY KEY REFERENCES billing_charges (id),
	invoice_id TEXT COLLATE "C" NOT NULL REFERENCES billing_invoices (id)
);
CREATE INDEX billing_invoiced_charges_invoice ON billing_invoiced_charges (invoice_id);

-- Every version of every invoice, never updated or deleted.
CREATE TABLE billing_invoice_history (
	invoice_id TEXT COLLATE "C" NOT NULL REFERENCES billing_invoices (id),
	version BIGINT NOT NULL,
	status TEXT NOT NULL,
	number BIGINT NOT NULL,
	reason TEXT NOT NULL,
	changed_at BIGINT NOT NULL,
	changed_by TEXT NOT NULL,
	PRIMARY KEY (invoice_id, version)
);

-- The last number given per facility and kind. Incremented inside the
-- issuing transaction, so a rollback returns the number.
CREATE TABLE billing_number_sequences (
	facility_id TEXT COLLATE "C" NOT NULL,
	kind TEXT NOT NULL,
	last_number BIGINT NOT NULL CHECK (last_number > 0),
	PRIMARY KEY (facility_id, kind)
);

-- The double-entry ledger: each row moves a positive amount from the
-- credit book to the debit book, so every row balances on its own.
CREATE TABLE billing_ledger_entries (
	id BIGSERIAL PRIMARY KEY,
	journal_id TEXT COLLATE "C" NOT NULL,
	kind TEXT NOT NULL,
	debit_book TEXT NOT NULL,
	credit_book TEXT NOT NULL,
	amount BIGINT NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL CHECK (length(currency) = 3),
	account_id TEXT COLLATE "C" NOT NULL REFERENCES billing_accounts (id),
	invoice_id TEXT COLLATE "C" NOT NULL,
	payment_id TEXT NOT NULL,
	posted_at BIGINT NOT NULL,
	posted_by TEXT NOT NULL,
	memo TEXT NOT NULL,
	CHECK (debit_book <> credit_book),
	-- Receivable is kept per invoice, so its entries name the invoice.
	CHECK ((debit_book <> 'receivable' AND credit_book <> 'receivable') OR invoice_id <> '')
);
CREATE INDEX billing_ledger_account ON billing_ledger_entries (account_id, posted_at);
CREATE INDEX billing_ledger_invoice ON billing_ledger_entries (invoice_id) WHERE invoice_id <> '';

-- Running balances of the per-invoice receivable and per-account
-- unapplied books, moved in the transaction that posts the entries. The
-- CHECK rejects any posting that would take one below zero.
CREATE TABLE billing_balances (
	book TEXT NOT NULL,
	owner_id TEXT COLLATE "C" NOT NULL,
	currency TEXT NOT NULL,
	amount BIGINT NOT NULL CHECK (amount >= 0),
	PRIMARY KEY (book, owner_id)
);

CREATE TABLE billing_payments (
	id TEXT COLLATE "C" PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
	account_id TEXT COLLATE "C" NOT NULL REFERENCES billing_accounts (id),
	amount BIGINT NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL CHECK (length(currency) = 3),
	unapplied BIGINT NOT NULL CHECK (unapplied >= 0 AND unapplied <= amount),
	payer TEXT NOT NULL,
	method TEXT NOT NULL,
	reference TEXT NOT NULL,
	claim_id TEXT COLLATE "C" NOT NULL,
	allocations TEXT NOT NULL, -- JSON
	received_at BIGINT NOT NULL,
	posted_at BIGINT NOT NULL,
	posted_by TEXT NOT NULL
);
CREATE INDEX billing_payments_account ON billing_payments (account_id, received_at);

CREATE TABLE billing_claims (
	id TEXT COLLATE "C" PRIMARY KEY,
	version BIGINT NOT NULL CHECK (version > 0),
	account_id TEXT COLLATE "C" NOT NULL REFERENCES billing_accounts (id),
	invoice_id TEXT COLLATE "C" NOT NULL REFERENCES billing_invoices (id),
	patient_id TEXT COLLATE "C" NOT NULL,
	status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'accepted', 'rejected', 'paid', 'partially-paid')),
	currency TEXT NOT NULL,
	total BIGINT NOT NULL,
	paid BIGINT NOT NULL,
	adjusted BIGINT NOT NULL,
	patient_responsibility BIGINT NOT NULL,
	body TEXT NOT NULL, -- JSON of coverage, diagnoses and lines
	record_id TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL,
	CHECK (paid >= 0 AND adjusted >= 0 AND patient_responsibility >= 0
		AND paid + adjusted + patient_responsibility <= total)
);
CREATE INDEX billing_claims_invoice ON billing_claims (invoice_id);

CREATE TABLE billing_claim_history (
	claim_id TEXT COLLATE "C" NOT NULL REFERENCES billing_claims (id),
	version BIGINT NOT NULL,
	status TEXT NOT NULL,
	reason TEXT NOT NULL,
	changed_at BIGINT NOT NULL,
	changed_by TEXT NOT NULL,
	PRIMARY KEY (claim_id, version)
);

-- Transactional outbox of domain events, read by position.
CREATE TABLE billing_outbox (
	position BIGSERIAL PRIMARY KEY,
	event_type TEXT NOT NULL,
	subject_id TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	data TEXT NOT NULL
);

-- Once an invoice has left draft, its number, totals and owner are fixed,
-- and a cancelled invoice changes no more.
CREATE FUNCTION billing_check_invoice_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.status <> 'draft' AND (NEW.number <> OLD.number OR NEW.total_net <> OLD.total_net
		OR NEW.total_tax <> OLD.total_tax OR NEW.account_id <> OLD.account_id OR NEW.kind <> OLD.kind
		OR NEW.currency <> OLD.currency OR OLD.status = 'cancelled') THEN
		RAISE EXCEPTION 'billing_immutable: invoice is issued';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER billing_invoices_frozen BEFORE UPDATE ON billing_invoices
	FOR EACH ROW EXECUTE FUNCTION billing_check_invoice_update();

CREATE FUNCTION billing_check_line_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT status FROM billing_invoices WHERE id = NEW.invoice_id) <> 'draft' THEN
		RAISE EXCEPTION 'billing_immutable: lines of an issued invoice';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER billing_invoice_lines_insert BEFORE INSERT ON billing_invoice_lines
	FOR EACH ROW EXECUTE FUNCTION billing_check_line_insert();

CREATE FUNCTION billing_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'billing_immutable: %', TG_TABLE_NAME;
END $$;
CREATE TRIGGER billing_invoice_lines_frozen BEFORE UPDATE OR DELETE ON billing_invoice_lines
	FOR EACH ROW EXECUTE FUNCTION billing_reject_change();
CREATE TRIGGER billing_ledger_frozen BEFORE UPDATE OR DELETE ON billing_ledger_entries
	FOR EACH ROW EXECUTE FUNCTION billing_reject_change();
CREATE TRIGGER billing_charges_frozen BEFORE UPDATE OR DELETE ON billing_charges
	FOR EACH ROW EXECUTE FUNCTION billing_reject_change();

-- Currency codes are three upper-case letters wherever an amount is
-- stored. The service checks in addition that a code is a supported
-- ISO 4217 code.
ALTER TABLE billing_accounts ADD CONSTRAINT billing_accounts_currency_code CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE billing_charges ADD CONSTRAINT billing_charges_currency_code CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE billing_invoices ADD CONSTRAINT billing_invoices_currency_code CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE billing_ledger_entries ADD CONSTRAINT billing_ledger_entries_currency_code CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE billing_balances ADD CONSTRAINT billing_balances_currency_code CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE billing_payments ADD CONSTRAINT billing_payments_currency_code CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE billing_claims ADD CONSTRAINT billing_claims_currency_code CHECK (currency ~ '^[A-Z]{3}$');

-- A ledger entry is in the currency of its account. The invoice it
-- names, if any, exists, belongs to the same account and is in the same
-- currency. Only entries move billing_balances, so the running balances
-- keep these rules too. An invoice's account and currency are fixed, so
-- the rows read here need no lock.
CREATE FUNCTION billing_check_entry_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	account_currency TEXT;
	invoice_account TEXT;
	invoice_currency TEXT;
BEGIN
	IF NEW.invoice_id <> '' THEN
		SELECT account_id, currency INTO invoice_account, invoice_currency
			FROM billing_invoices WHERE id = NEW.invoice_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'billing_invoice_missing: the entry names no stored invoice';
		END IF;
		IF invoice_account <> NEW.account_id THEN
			RAISE EXCEPTION 'billing_invoice_owner: the entry names an invoice of another account';
		END IF;
		IF invoice_currency <> NEW.currency THEN
			RAISE EXCEPTION 'billing_currency_mismatch: the entry is not in the currency of its invoice';
		END IF;
	END IF;
	-- A missing account is left to the foreign key.
	SELECT currency INTO account_currency FROM billing_accounts WHERE id = NEW.account_id;
	IF FOUND AND account_currency <> NEW.currency THEN
		RAISE EXCEPTION 'billing_currency_mismatch: the entry is not in the currency of its account';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER billing_ledger_entries_checked BEFORE INSERT ON billing_ledger_entries
	FOR EACH ROW EXECUTE FUNCTION billing_check_entry_insert();

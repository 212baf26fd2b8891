-- Currency codes are three upper-case letters wherever an amount is
-- stored. The service checks in addition that a code is a supported
-- ISO 4217 code. SQLite cannot add a CHECK to a table, so triggers check
-- inserts and updates of each currency column.
CREATE TRIGGER billing_accounts_currency_insert BEFORE INSERT ON billing_accounts
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_accounts_currency_update BEFORE UPDATE OF currency ON billing_accounts
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_charges_currency_insert BEFORE INSERT ON billing_charges
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_charges_currency_update BEFORE UPDATE OF currency ON billing_charges
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_invoices_currency_insert BEFORE INSERT ON billing_invoices
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_invoices_currency_update BEFORE UPDATE OF currency ON billing_invoices
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_ledger_entries_currency_insert BEFORE INSERT ON billing_ledger_entries
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_ledger_entries_currency_update BEFORE UPDATE OF currency ON billing_ledger_entries
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_balances_currency_insert BEFORE INSERT ON billing_balances
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_balances_currency_update BEFORE UPDATE OF currency ON billing_balances
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_payments_currency_insert BEFORE INSERT ON billing_payments
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_payments_currency_update BEFORE UPDATE OF currency ON billing_payments
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_claims_currency_insert BEFORE INSERT ON billing_claims
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
CREATE TRIGGER billing_claims_currency_update BEFORE UPDATE OF currency ON billing_claims
WHEN NEW.currency NOT GLOB '[A-Z][A-Z][A-Z]'
BEGIN
	SELECT RAISE(ABORT, 'billing_currency_code: a currency code is three upper-case letters');
END;
-- A ledger entry is in the currency of its account. The invoice it
-- names, if any, exists, belongs to the same account and is in the same
-- currency. Only entries move billing_balances, so the running balances
-- keep these rules too.
CREATE TRIGGER billing_ledger_entries_checked BEFORE INSERT ON billing_ledger_entries
BEGIN
	SELECT RAISE(ABORT, 'billing_invoice_missing: the entry names no stored invoice')
	WHERE NEW.invoice_id <> '' AND NOT EXISTS (SELECT 1 FROM billing_invoices WHERE id = NEW.invoice_id);
	SELECT RAISE(ABORT, 'billing_invoice_owner: the entry names an invoice of another account')
	WHERE NEW.invoice_id <> '' AND (SELECT account_id FROM billing_invoices WHERE id = NEW.invoice_id) <> NEW.account_id;
	SELECT RAISE(ABORT, 'billing_currency_mismatch: the entry is not in the currency of its invoice')
	WHERE NEW.invoice_id <> '' AND (SELECT currency FROM billing_invoices WHERE id = NEW.invoice_id) <> NEW.currency;
	SELECT RAISE(ABORT, 'billing_currency_mismatch: the entry is not in the currency of its account')
	WHERE (SELECT currency FROM billing_accounts WHERE id = NEW.account_id) <> NEW.currency;
END;

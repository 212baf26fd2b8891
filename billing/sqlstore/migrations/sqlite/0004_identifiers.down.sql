DROP TABLE billing_identifiers;
ALTER TABLE billing_invoices DROP COLUMN identifiers;
ALTER TABLE billing_charges DROP COLUMN identifiers;
ALTER TABLE billing_accounts DROP COLUMN identifiers;

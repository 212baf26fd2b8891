DROP TABLE audit_signing_keys;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP FUNCTION audit_log_reject_change();

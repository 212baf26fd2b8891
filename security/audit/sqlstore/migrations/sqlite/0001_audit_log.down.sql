DROP TABLE audit_signing_keys;
DROP TABLE audit_head;
DROP TABLE audit_log;

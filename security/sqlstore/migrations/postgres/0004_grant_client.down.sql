ALTER TABLE security_grants DROP COLUMN client_id;

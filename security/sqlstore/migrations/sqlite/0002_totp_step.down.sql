ALTER TABLE security_users DROP COLUMN totp_last_step;

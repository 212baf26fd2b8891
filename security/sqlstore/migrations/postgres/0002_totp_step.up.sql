-- totp_last_step is the last TOTP time step (Unix time / 30 s) a sign-in
-- accepted, so a code is used at most once. 0 means none yet.
ALTER TABLE security_users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- client_id is the app a break-the-glass grant was made through; the
-- grant applies only to that app's tokens. Grants stored before have ''
-- and apply to no token.
ALTER TABLE security_grants ADD COLUMN client_id TEXT NOT NULL DEFAULT '';

-- Fails on a sealed value, which is not UTF-8 text: decrypt before going
-- down.
ALTER TABLE security_users ALTER COLUMN totp_secret TYPE TEXT USING convert_from(totp_secret, 'UTF8');
ALTER TABLE security_signing_keys ALTER COLUMN private_key TYPE TEXT USING convert_from(private_key, 'UTF8');

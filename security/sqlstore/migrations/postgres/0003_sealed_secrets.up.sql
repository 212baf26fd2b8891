-- Private keys and TOTP secrets become bytes: with a storage.Cipher they
-- hold sealed values, which may contain NUL bytes that TEXT rejects.
-- Existing rows keep their plaintext, which the store still reads.
ALTER TABLE security_signing_keys ALTER COLUMN private_key TYPE BYTEA USING convert_to(private_key, 'UTF8');
ALTER TABLE security_users ALTER COLUMN totp_secret TYPE BYTEA USING convert_to(totp_secret, 'UTF8');

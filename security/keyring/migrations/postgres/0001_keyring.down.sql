DROP TABLE security_keyring_rewrap;
DROP TABLE security_keyring_secrets;
DROP TABLE security_keyring_keys;

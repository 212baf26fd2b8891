DROP TABLE security_grants;
DROP TABLE security_auth_codes;
DROP TABLE security_jti;
DROP TABLE security_signing_keys;
DROP TABLE security_clients;
DROP TABLE security_users;

// Package keyring is the encryption-at-rest key ring of one Nexus database.
// A Ring implements storage.Cipher and storage.Hasher, so the SQL stores
// seal and hash through it without importing the security layer.
//
// Keys. Data keys are random 256-bit AES keys, each a numbered version in
// table security_keyring_keys, stored wrapped (AES-256-GCM) by the master
// key. The master key never enters the database: nexusd reads it from a
// file (--master-key-file) or from NEXUS_MASTER_KEY, as base64 of 32 bytes.
// One version is active and seals new values, older ones are decrypt-only,
// and a retired version has its wrapped key erased. Index hashes use an
// HMAC-SHA-256 key derived with HKDF from a separate random secret in
// security_keyring_secrets, so they stay valid across data key rotations.
//
// Sealed values. Seal writes the storage sealed header (format and key
// version), a random 96-bit nonce and the AES-256-GCM ciphertext and tag.
// The header and the caller's associated data are authenticated, so a value
// copied to another row, or with its header edited, does not open.
//
// Failing closed. Open without a master key returns ErrMasterKeyMissing,
// and InUse lets a caller without a key tell whether the database needs
// one. A master key under which a wrapped key does not authenticate returns
// ErrWrongMasterKey. Nothing in the package falls back to plaintext.
//
// Life cycle. Rotate adds an active version. Rewrap moves a store's rows to
// it in short batches through the store's storage.Rewrapper, saving its
// cursor in security_keyring_rewrap so that it resumes after a restart.
// A pass that reached the end continues from its cursor at the next call,
// so rows sealed later under an older version are found too, and
// RewrapFromStart reads every row again. Retire erases a decrypt-only
// version once no store reports rows under it. ChangeMasterKey wraps every
// key again under a new master key. Versions and ReadProgress read the
// state without the master key and write nothing.
//
// Concurrency: a Ring is safe for concurrent use. Rotate, Retire and
// ChangeMasterKey take a PostgreSQL advisory lock (on SQLite the single
// writer serialises them). Another process applies a rotation at its next
// Reload: RunBackground reloads every Config.RefreshInterval, and Open
// reloads at once when it meets a key version it does not know.
//
// Limits:
//   - A process that has not reloaded since a rotation still seals under
//     the previous version, so retire a version well after rotating. On
//     PostgreSQL such a row can commit behind the saved cursor, where
//     only RewrapFromStart finds it.
//   - Nonces are random, so one key version should seal fewer than 2^32
//     values (the NIST SP 800-38D bound for random 96-bit nonces); rotate
//     long before that.
//   - The index hash secret is not rotated: changing it would need every
//     hashed index row rebuilt.
//   - A ring holds all non-retired data keys in memory.
package keyring

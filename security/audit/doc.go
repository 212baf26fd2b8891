// Package audit is the tamper-evident audit log of Nexus: an append-only
// chain of entries shaped like FHIR R4 AuditEvent as IHE BALP profiles it
// (who, which patient, what, when, from where, outcome).
//
// Chain. Each entry stores the hash of the entry before it and its own
// hash, the hex SHA-256 of that previous hash and a canonical JSON
// encoding of the entry (Canonical). Each hash also carries an
// HMAC-SHA-256 under a key that only the audit component holds, and a head
// row records the newest entry with its own MAC. Verify walks the chain
// and reports the first bad Seq with its Kind: edited, inserted, removed
// or reordered. Hashes and links alone catch any change that does not
// recompute hashes. The MACs also catch a writer who recomputes them, and
// the head catches entries cut from the end. Open writes the head of a new
// log when it creates the signing key, so a log without entries or without
// a head record fails Verify as removed.
//
// Checkpoints. Checkpoint signs the head (Seq, hash, time) with an Ed25519
// key. WriteCheckpoint and Export produce a JSON file and an NDJSON log
// that can be copied off the machine. CheckCheckpoint verifies a
// checkpoint against the database or an exported log with the public key
// only. The key's seed is in the store, sealed by the key ring when the
// database has one. Its HKDF output is the MAC key.
//
// Writes in the same transaction. The clinical record and scheduling write
// an outbox event in the same database transaction as every change. A
// Follower reads those events through EventSource and appends, in
// position order, one entry per patient whose record the event changed,
// or one entry when it changed none. A deletion is therefore in the
// access log of the patients of the deleted version. The entries and their outbox positions
// commit together in one append transaction, and the Follower resumes
// after the highest stored position, so a crash neither loses nor repeats
// an event. The audit entry therefore follows its write by a short delay
// instead of sharing its transaction. Until the entry is appended, the
// outbox row written in the same transaction is the durable record. Reads, searches, exports, logins
// and break-the-glass accesses have no outbox event: callers record them
// with Log.Record, which returns once the entry is committed. Concurrent
// Record calls share append transactions (group commit).
//
// Access log. Log.Access returns the entries about one patient, newest
// first, for showing the patient who looked at their record.
// AuditEventJSON renders an entry as an AuditEvent resource.
//
// Concurrency: a Log and a Follower are safe for concurrent use. Appends
// are serialised by the Store, so several processes on one PostgreSQL
// database append one chain.
//
// Limits:
//   - Without a master key the signing key seed is stored in plaintext, so
//     a database administrator can forge MACs and sign checkpoints. Keep
//     exported checkpoints elsewhere: a rewrite before a checkpoint still
//     fails CheckCheckpoint.
//   - The Kind is a best-effort classification from the chain's shape. The
//     first bad Seq is exact.
//   - Verification reads the whole log. It does not start from the latest
//     checkpoint.
//   - The signing key is not rotated.
//   - A writer who removes the entries, the head and the signing key
//     leaves a database that Open treats as new. Only a checkpoint kept
//     elsewhere (CheckCheckpoint) or a caller that requires the key to
//     exist, as nexusd audit verify does, finds that. A log created
//     before Open wrote the empty head, and never appended to, fails
//     Verify too.
//   - Search query strings are stored as received and may contain patient
//     data, like the rest of the audit table.
package audit

package audit

import (
	"context"
	"time"
)

// Head is the newest entry of the chain as the store records it in a
// separate row, so that removing entries from the end is detected.
type Head struct {
	Seq  int64
	Hash string
	// MAC is the hex HMAC-SHA-256 of the head's seq and hash.
	MAC string
}

// SigningKey is the Ed25519 key pair that signs checkpoints. Its seed also
// derives the MAC key of entries.
type SigningKey struct {
	ID        string
	Public    []byte
	Seed      []byte
	CreatedAt time.Time
}

// AppendTx is the view of one append transaction. Appends are serialised,
// so Head and LastPosition stay valid until the transaction ends.
type AppendTx interface {
	// Head returns the chain head, with Seq 0 and GenesisHash on an empty
	// log.
	Head(ctx context.Context) (Head, error)
	// LastPosition returns the highest Position of the entries of stream,
	// 0 when there is none.
	LastPosition(ctx context.Context, stream string) (int64, error)
	// Insert appends records, whose Seq continue the head's, and moves the
	// head to the last one.
	Insert(ctx context.Context, records []Record, head Head) error
}

// Store keeps the append-only audit table. It only accesses data: hashing,
// signing and verification live in this package. Implementations are safe
// for concurrent use and reject UPDATE and DELETE of entries in the
// database itself, where the database can.
type Store interface {
	// Append runs fn in one transaction that excludes every other append,
	// and commits when fn returns nil.
	Append(ctx context.Context, fn func(ctx context.Context, tx AppendTx) error) error
	// Scan returns up to limit records with Seq greater than after, in
	// Seq order.
	Scan(ctx context.Context, after int64, limit int) ([]Record, error)
	// FindHash returns the Seq of a record with the given Hash, or
	// ErrNotFound.
	FindHash(ctx context.Context, hash string) (int64, error)
	// Head returns the chain head outside an append.
	Head(ctx context.Context) (Head, error)
	// LastPosition returns the highest Position of the entries of stream
	// outside an append, 0 when there is none.
	LastPosition(ctx context.Context, stream string) (int64, error)
	// ByPatient returns up to limit records about patient with Seq below
	// before (0 for the newest), newest first.
	ByPatient(ctx context.Context, patient string, before int64, limit int) ([]Record, error)
	// SigningKey returns the current signing key, or ErrNotFound.
	SigningKey(ctx context.Context) (SigningKey, error)
	// PutSigningKey stores the first signing key. It fails with
	// ErrConflict when another writer stored one first.
	PutSigningKey(ctx context.Context, k SigningKey) error
}

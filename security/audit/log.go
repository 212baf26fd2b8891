package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/hkdf"
)

// Config configures a Log. Its zero value is valid after WithDefaults.
type Config struct {
	// Source names this system as the observer of every entry. Default
	// "nexusd".
	Source string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives append failures and follower progress. Nil discards.
	Logger *slog.Logger
	// MaxBatch is the largest number of entries one append transaction
	// writes. Default 256.
	MaxBatch int
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Source == "" {
		c.Source = "nexusd"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	return c
}

// Validate names the first invalid field.
func (c Config) Validate() error {
	if c.MaxBatch > 10000 {
		return errorf(ErrInvalid, "config: MaxBatch %d is above 10000", c.MaxBatch)
	}
	return nil
}

// Log appends entries to the hash chain and verifies it. It is safe for
// concurrent use.
type Log struct {
	store  Store
	cfg    Config
	key    SigningKey
	signer ed25519.PrivateKey
	macKey []byte

	mu       sync.Mutex
	queue    []*pending
	flushing bool
	closed   bool
}

type pending struct {
	entry Entry
	done  chan error
}

// Open returns a Log on store, creating the signing key on first use.
func Open(ctx context.Context, store Store, cfg Config) (*Log, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	key, created, err := loadOrCreateKey(ctx, store, cfg.Now)
	if err != nil {
		return nil, err
	}
	if len(key.Seed) != ed25519.SeedSize {
		return nil, errorf(ErrInvalid, "signing key %s has a seed of %d bytes", key.ID, len(key.Seed))
	}
	macKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, key.Seed, nil, []byte("nexus audit entry mac v1")), macKey); err != nil {
		return nil, fmt.Errorf("audit: derive MAC key: %w", err)
	}
	l := &Log{store: store, cfg: cfg, key: key, signer: ed25519.NewKeyFromSeed(key.Seed), macKey: macKey}
	if created {
		if err := l.writeEmptyHead(ctx); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// writeEmptyHead records the head of the new, empty log, with its MAC.
// From then on the head record always exists, so Verify can separate a
// log that never had entries from one whose entries and head were removed.
func (l *Log) writeEmptyHead(ctx context.Context) error {
	err := l.store.Append(ctx, func(ctx context.Context, tx AppendTx) error {
		head, err := tx.Head(ctx)
		if err != nil {
			return err
		}
		if head.Seq != 0 || head.MAC != "" {
			return nil
		}
		empty := Head{Hash: GenesisHash}
		empty.MAC = l.headMAC(empty)
		return tx.Insert(ctx, nil, empty)
	})
	if err != nil {
		return fmt.Errorf("audit: record the head of the new log: %w", err)
	}
	return nil
}

// loadOrCreateKey returns the stored signing key, or creates one and
// reports created.
func loadOrCreateKey(ctx context.Context, store Store, now func() time.Time) (key SigningKey, created bool, err error) {
	key, err = store.SigningKey(ctx)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return SigningKey{}, false, err
	}
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed) // never returns an error since Go 1.24
	public := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	sum := sha256.Sum256(public)
	key = SigningKey{ID: hex.EncodeToString(sum[:8]), Public: public, Seed: seed, CreatedAt: now().UTC()}
	err = store.PutSigningKey(ctx, key)
	if errors.Is(err, ErrConflict) {
		key, err = store.SigningKey(ctx)
		return key, false, err
	}
	if err != nil {
		return SigningKey{}, false, err
	}
	return key, true, nil
}

// PublicKey returns the Ed25519 public key that checkpoints are signed
// with, and its id.
func (l *Log) PublicKey() (id string, key ed25519.PublicKey) {
	return l.key.ID, ed25519.PublicKey(l.key.Public)
}

// Record appends e to the chain and returns once the transaction holding
// it has committed. Concurrent calls share append transactions (group
// commit), so many callers cost few transactions. When ctx ends first,
// Record returns ctx.Err() and the entry may or may not be stored.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.Recorded.IsZero() {
		e.Recorded = l.cfg.Now()
	}
	e.Recorded = e.Recorded.UTC().Truncate(time.Microsecond)
	if e.Source == "" {
		e.Source = l.cfg.Source
	}
	if err := e.Validate(); err != nil {
		return err
	}
	p := &pending{entry: e, done: make(chan error, 1)}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return fmt.Errorf("audit: record: %w", ErrClosed)
	}
	l.queue = append(l.queue, p)
	start := !l.flushing
	l.flushing = true
	l.mu.Unlock()
	if start {
		go l.flushLoop()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushLoop appends queued entries in batches until the queue is empty.
func (l *Log) flushLoop() {
	for {
		l.mu.Lock()
		n := min(len(l.queue), l.cfg.MaxBatch)
		if n == 0 {
			l.flushing = false
			l.mu.Unlock()
			return
		}
		batch := l.queue[:n:n]
		l.queue = l.queue[n:]
		l.mu.Unlock()

		entries := make([]Entry, len(batch))
		for i, p := range batch {
			entries[i] = p.entry
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := l.appendEntries(ctx, entries, "")
		cancel()
		if err != nil {
			l.cfg.Logger.Error("audit append failed", "entries", len(entries), "err", err)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// Close rejects further Record calls. Entries already queued are still
// appended.
func (l *Log) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	return nil
}

// appendEntries chains and inserts entries in one transaction. With a
// stream, entries whose Position is not above the stream's last stored
// position are skipped, so a Follower never appends an event twice. It
// returns the number of entries inserted.
func (l *Log) appendEntries(ctx context.Context, entries []Entry, stream string) (int, error) {
	inserted := 0
	err := l.store.Append(ctx, func(ctx context.Context, tx AppendTx) error {
		head, err := tx.Head(ctx)
		if err != nil {
			return err
		}
		var last int64
		if stream != "" {
			if last, err = tx.LastPosition(ctx, stream); err != nil {
				return err
			}
		}
		records := make([]Record, 0, len(entries))
		for _, e := range entries {
			if stream != "" && e.Position <= last {
				continue
			}
			e.Seq = head.Seq + 1
			r := Record{Entry: e, PrevHash: head.Hash}
			r.Hash = ChainHash(r.PrevHash, e)
			r.MAC = entryMAC(l.macKey, r.Hash)
			records = append(records, r)
			head = Head{Seq: r.Seq, Hash: r.Hash}
		}
		if len(records) == 0 {
			return nil
		}
		head.MAC = l.headMAC(head)
		inserted = len(records)
		return tx.Insert(ctx, records, head)
	})
	if err != nil {
		return 0, fmt.Errorf("audit: append %d entries: %w", len(entries), err)
	}
	return inserted, nil
}

func (l *Log) headMAC(h Head) string {
	return entryMAC(l.macKey, "head|"+strconv.FormatInt(h.Seq, 10)+"|"+h.Hash)
}

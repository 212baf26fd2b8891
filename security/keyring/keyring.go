package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/nexus-health-360/nexus/storage"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the key ring's schema migrations.
func Migrations() storage.Migrations {
	return storage.EmbeddedMigrations("keyring", migrationFiles, "migrations")
}

// Sentinel errors. Every error of the package wraps one of them.
var (
	// ErrMasterKeyMissing: the database holds data keys but no master key
	// was given.
	ErrMasterKeyMissing = errors.New("keyring: master key missing")
	// ErrWrongMasterKey: a wrapped key failed GCM authentication under the
	// given master key.
	ErrWrongMasterKey = errors.New("keyring: wrong master key")
	// ErrInvalid: an argument or configuration value breaks a rule.
	ErrInvalid = errors.New("keyring: invalid")
	// ErrNotFound: no key version with that number exists.
	ErrNotFound = errors.New("keyring: not found")
	// ErrInUse: the key version cannot be retired, because it is active or
	// rows are still sealed under it.
	ErrInUse = errors.New("keyring: key version in use")
	// ErrOpen: a sealed value did not open: it was changed, belongs to
	// another row, or its key version is retired or unknown.
	ErrOpen = errors.New("keyring: sealed value did not open")
)

// State is the life cycle state of a key version.
type State string

// Key version states.
const (
	// Active is the one version that seals new values.
	Active State = "active"
	// DecryptOnly versions still open values but seal none.
	DecryptOnly State = "decrypt-only"
	// Retired versions have their key erased and open nothing.
	Retired State = "retired"
)

// Config configures Open. Its zero value, with MasterKey set, is valid
// after WithDefaults.
type Config struct {
	// MasterKey is the 32-byte key that wraps the data keys.
	MasterKey []byte
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives rotation, retirement and rewrap records. Nil
	// discards them.
	Logger *slog.Logger
	// RewrapBatch is the number of rows one rewrap transaction examines.
	// Default 200.
	RewrapBatch int
	// RewrapPause is the wait between two rewrap batches, which leaves
	// the SQLite writer to requests. Default 20ms.
	RewrapPause time.Duration
	// RefreshInterval is how often RunBackground reloads the key versions,
	// so that a rotation by another process reaches this one. Default 30s.
	RefreshInterval time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.RewrapBatch <= 0 {
		c.RewrapBatch = 200
	}
	if c.RewrapPause <= 0 {
		c.RewrapPause = 20 * time.Millisecond
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = 30 * time.Second
	}
	return c
}

// Validate names the first invalid field.
func (c Config) Validate() error {
	if len(c.MasterKey) == 0 {
		return fmt.Errorf("keyring config: MasterKey: %w", ErrMasterKeyMissing)
	}
	if len(c.MasterKey) != MasterKeySize {
		return fmt.Errorf("keyring config: MasterKey is %d bytes, want %d: %w", len(c.MasterKey), MasterKeySize, ErrInvalid)
	}
	return nil
}

// Ring is the set of data key versions of one database. It implements
// storage.Cipher and storage.Hasher.
type Ring struct {
	db  *storage.DB
	cfg Config

	mu     sync.RWMutex
	master cipher.AEAD
	keys   map[uint32]cipher.AEAD
	active uint32
	// hashKey is the HMAC-SHA-256 key for index hashes.
	hashKey []byte
	// lastMissReload limits reloads triggered by unknown key versions to
	// one per second.
	lastMissReload time.Time
}

var (
	_ storage.Cipher = (*Ring)(nil)
	_ storage.Hasher = (*Ring)(nil)
)

// indexSecretName is the secret row that the index hash key is derived
// from.
const indexSecretName = "index-hash"

// InUse reports whether the database holds data keys, so that a caller
// without a master key can fail closed instead of writing plaintext next
// to sealed rows. The schema must be migrated.
func InUse(ctx context.Context, db *storage.DB) (bool, error) {
	var n int
	if err := db.Reader.GetContext(ctx, &n, `SELECT COUNT(*) FROM security_keyring_keys`); err != nil {
		return false, fmt.Errorf("keyring: check for data keys: %w", err)
	}
	return n > 0, nil
}

// Open loads the key ring of db under cfg.MasterKey. On a database without
// data keys it creates version 1 and the index hash secret. It returns
// ErrMasterKeyMissing without a master key and ErrWrongMasterKey when a
// wrapped key does not authenticate, and never falls back to plaintext.
func Open(ctx context.Context, db *storage.DB, cfg Config) (*Ring, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	master, err := newAEAD(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	r := &Ring{db: db, cfg: cfg, master: master}
	if err := r.initialise(ctx); err != nil {
		return nil, err
	}
	if err := r.Reload(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w: %w", ErrInvalid, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w: %w", ErrInvalid, err)
	}
	return aead, nil
}

// initialise creates version 1 and the index secret when the database has
// no keys yet.
func (r *Ring) initialise(ctx context.Context) error {
	tx, err := r.db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("keyring: begin initialise: %w", err)
	}
	defer tx.Rollback()
	if err := lockRing(ctx, tx, r.db); err != nil {
		return err
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM security_keyring_keys`); err != nil {
		return fmt.Errorf("keyring: count key versions: %w", err)
	}
	if n > 0 {
		return nil
	}

	now := r.cfg.Now().UTC().UnixMicro()
	wrapped, err := r.wrapNewKey(1)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, r.db.Rebind(`INSERT INTO security_keyring_keys
		(version, state, wrapped_key, created_at, state_changed_at) VALUES (?, ?, ?, ?, ?)`),
		1, string(Active), wrapped, now, now); err != nil {
		return fmt.Errorf("keyring: insert key version 1: %w", err)
	}

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("keyring: generate index secret: %w", err)
	}
	if _, err := tx.ExecContext(ctx, r.db.Rebind(`INSERT INTO security_keyring_secrets (name, wrapped, created_at) VALUES (?, ?, ?)`),
		indexSecretName, r.wrap(secret, secretAAD(indexSecretName)), now); err != nil {
		return fmt.Errorf("keyring: insert index secret: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("keyring: commit initialise: %w", err)
	}
	r.cfg.Logger.Info("key ring created", "active_version", 1)
	return nil
}

// lockRing serialises key ring changes across PostgreSQL processes. SQLite
// write transactions already exclude each other.
func lockRing(ctx context.Context, tx execer, db *storage.DB) error {
	if db.Dialect != storage.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('nexus.keyring'))`); err != nil {
		return fmt.Errorf("keyring: lock: %w", err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func keyAAD(version uint32) []byte {
	return []byte("nexus keyring data key v" + strconv.FormatUint(uint64(version), 10))
}

func secretAAD(name string) []byte { return []byte("nexus keyring secret " + name) }

// wrapNewKey generates a random data key and wraps it for version.
func (r *Ring) wrapNewKey(version uint32) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("keyring: generate data key: %w", err)
	}
	return r.wrap(key, keyAAD(version)), nil
}

// wrap seals key under the master key as nonce || ciphertext || tag.
func (r *Ring) wrap(key, aad []byte) []byte {
	master := r.masterAEAD()
	nonce := make([]byte, master.NonceSize())
	// Since Go 1.24, crypto/rand.Read never returns an error: it crashes
	// the program when the system source fails.
	rand.Read(nonce)
	return master.Seal(nonce, nonce, key, aad)
}

func (r *Ring) masterAEAD() cipher.AEAD {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.master
}

func (r *Ring) unwrap(wrapped, aad []byte) ([]byte, error) {
	master := r.masterAEAD()
	n := master.NonceSize()
	if len(wrapped) < n+master.Overhead() {
		return nil, fmt.Errorf("wrapped key of %d bytes is truncated: %w", len(wrapped), ErrWrongMasterKey)
	}
	key, err := master.Open(nil, wrapped[:n], wrapped[n:], aad)
	if err != nil {
		return nil, ErrWrongMasterKey
	}
	return key, nil
}

type keyRow struct {
	Version        int64  `db:"version"`
	State          string `db:"state"`
	Wrapped        []byte `db:"wrapped_key"`
	CreatedAt      int64  `db:"created_at"`
	StateChangedAt int64  `db:"state_changed_at"`
}

// Reload reads the key versions again, so that a rotation or retirement by
// another process takes effect here.
func (r *Ring) Reload(ctx context.Context) error {
	var rows []keyRow
	if err := r.db.Reader.SelectContext(ctx, &rows,
		`SELECT version, state, wrapped_key, created_at, state_changed_at FROM security_keyring_keys`); err != nil {
		return fmt.Errorf("keyring: load key versions: %w", err)
	}

	var wrappedSecret []byte
	if err := r.db.Reader.GetContext(ctx, &wrappedSecret, r.db.Rebind(
		`SELECT wrapped FROM security_keyring_secrets WHERE name = ?`), indexSecretName); err != nil {
		return fmt.Errorf("keyring: load index secret: %w", err)
	}
	secret, err := r.unwrap(wrappedSecret, secretAAD(indexSecretName))
	if err != nil {
		return fmt.Errorf("keyring: unwrap index secret: %w", err)
	}
	hashKey := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte("nexus index hash v1")), hashKey); err != nil {
		return fmt.Errorf("keyring: derive index hash key: %w", err)
	}

	keys := map[uint32]cipher.AEAD{}
	var active uint32
	for _, row := range rows {
		v := uint32(row.Version)
		if State(row.State) == Retired {
			continue
		}
		key, err := r.unwrap(row.Wrapped, keyAAD(v))
		if err != nil {
			return fmt.Errorf("keyring: unwrap key version %d: %w", v, err)
		}
		aead, err := newAEAD(key)
		if err != nil {
			return err
		}
		keys[v] = aead
		if State(row.State) == Active {
			active = v
		}
	}
	if active == 0 {
		return fmt.Errorf("keyring: no active key version: %w", ErrNotFound)
	}
	r.mu.Lock()
	r.keys, r.active, r.hashKey = keys, active, hashKey
	r.mu.Unlock()
	return nil
}

// ActiveKeyVersion returns the version Seal uses.
func (r *Ring) ActiveKeyVersion() uint32 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.active
}

// Seal encrypts plaintext with AES-256-GCM under the active version. The
// result is the storage sealed header, a random 12-byte nonce and the
// ciphertext with its tag. GCM authenticates the header together with aad.
func (r *Ring) Seal(plaintext, aad []byte) ([]byte, error) {
	r.mu.RLock()
	version, aead := r.active, r.keys[r.active]
	r.mu.RUnlock()
	header := storage.SealedHeader(version)
	out := make([]byte, len(header), len(header)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	copy(out, header)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("keyring: seal: read random nonce: %w", err)
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, sealAAD(header, aad)), nil
}

func sealAAD(header, aad []byte) []byte {
	full := make([]byte, 0, len(header)+len(aad))
	return append(append(full, header...), aad...)
}

// Open decrypts a value from Seal. A value under a version this process
// has not loaded triggers one reload, limited to one per second, because
// another process may have rotated.
func (r *Ring) Open(ciphertext, aad []byte) ([]byte, error) {
	version, sealed, err := storage.ParseSealed(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("keyring: open: %w", err)
	}
	if !sealed {
		return nil, fmt.Errorf("keyring: open: value has no sealed header: %w", ErrOpen)
	}
	aead, err := r.keyFor(version)
	if err != nil {
		return nil, err
	}
	body := ciphertext[storage.SealedHeaderLen:]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("keyring: open: value of %d bytes is truncated: %w", len(ciphertext), ErrOpen)
	}
	nonce := body[:aead.NonceSize()]
	plaintext, err := aead.Open(nil, nonce, body[aead.NonceSize():], sealAAD(ciphertext[:storage.SealedHeaderLen], aad))
	if err != nil {
		return nil, fmt.Errorf("keyring: open value under key version %d: authentication failed: %w", version, ErrOpen)
	}
	return plaintext, nil
}

func (r *Ring) keyFor(version uint32) (cipher.AEAD, error) {
	r.mu.RLock()
	aead, ok := r.keys[version]
	r.mu.RUnlock()
	if ok {
		return aead, nil
	}
	r.mu.Lock()
	now := r.cfg.Now()
	reload := now.Sub(r.lastMissReload) >= time.Second
	if reload {
		r.lastMissReload = now
	}
	r.mu.Unlock()
	if reload {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.Reload(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("keyring: open: reload for key version %d: %w", version, err)
		}
		r.mu.RLock()
		aead, ok = r.keys[version]
		r.mu.RUnlock()
		if ok {
			return aead, nil
		}
	}
	return nil, fmt.Errorf("keyring: open: key version %d is retired or unknown: %w", version, ErrOpen)
}

// Hash returns the HMAC-SHA-256 of domain and value under the index hash
// key, as unpadded URL-safe base64 (43 characters). The index hash key is
// the same for every data key version, so rotation keeps hashes valid.
func (r *Ring) Hash(domain, value string) string {
	r.mu.RLock()
	mac := hmac.New(sha256.New, r.hashKey)
	r.mu.RUnlock()
	mac.Write([]byte(domain))
	mac.Write([]byte{0})
	mac.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

package emr

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// Config configures a Service. The zero value works after WithDefaults.
type Config struct {
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// NewID returns a new resource id; nil means a random UUID.
	NewID func() string
	// Registry holds the search parameters; nil means the R4 definitions.
	Registry *searchparam.Registry
	// MRNSystem is the identifier system of the medical record numbers
	// that registration assigns.
	MRNSystem string
	// MRNPrefix starts every assigned medical record number.
	MRNPrefix string
	// DuplicateThreshold is the match score, from 0 to 1, at or above
	// which registration rejects a patient as a likely duplicate unless
	// the caller gives an override reason.
	DuplicateThreshold float64
	// DefaultCount and MaxCount bound search and history page sizes.
	DefaultCount int
	MaxCount     int
	// MaxBundleEntries is the largest batch or transaction accepted.
	MaxBundleEntries int
	// CursorKey signs the paging cursors of search next links, so a
	// client cannot alter one. Every server of a deployment needs the same
	// key. Empty means a built-in key, with which altered and misused
	// cursors are still rejected but a client that reads the source can
	// forge one.
	CursorKey []byte
}

// Defaults for Config.
const (
	DefaultMRNSystem        = "urn:nexus-health-360:mrn"
	DefaultMRNPrefix        = "MRN"
	DefaultCount            = 50
	DefaultMaxCount         = 1000
	DefaultMaxBundleEntries = 10000
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.NewID == nil {
		c.NewID = newUUID
	}
	if c.Registry == nil {
		c.Registry = searchparam.R4()
	}
	if c.MRNSystem == "" {
		c.MRNSystem = DefaultMRNSystem
	}
	if c.MRNPrefix == "" {
		c.MRNPrefix = DefaultMRNPrefix
	}
	if c.DuplicateThreshold == 0 {
		c.DuplicateThreshold = defaultDuplicateThreshold
	}
	if c.DefaultCount == 0 {
		c.DefaultCount = DefaultCount
	}
	if c.MaxCount == 0 {
		c.MaxCount = DefaultMaxCount
	}
	if c.MaxBundleEntries == 0 {
		c.MaxBundleEntries = DefaultMaxBundleEntries
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.DuplicateThreshold <= 0 || c.DuplicateThreshold > 1:
		return errors.New("emr config: DuplicateThreshold must be in (0, 1]")
	case c.DefaultCount <= 0 || c.MaxCount < c.DefaultCount:
		return errors.New("emr config: DefaultCount must be positive and at most MaxCount")
	case c.MaxBundleEntries <= 0:
		return errors.New("emr config: MaxBundleEntries must be positive")
	case c.MRNSystem == "":
		return errors.New("emr config: MRNSystem must not be empty")
	}
	return nil
}

// Service holds the rules of the clinical record: validation, versioning,
// search indexing, registration and the master patient index. It is safe
// for concurrent use.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
}

// NewService returns a Service on store.
func NewService(store Store, cfg Config) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{store: store, cfg: cfg, log: cfg.Logger}, nil
}

// Store returns the store the service writes to.
func (s *Service) Store() Store { return s.store }

// Registry returns the search parameter registry in use.
func (s *Service) Registry() *searchparam.Registry { return s.cfg.Registry }

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time {
	// Stored times have microsecond precision and meta.lastUpdated shows
	// milliseconds; truncating keeps both the same instant.
	return s.cfg.Clock().UTC().Truncate(time.Millisecond)
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read returns no error since Go 1.24; it crashes instead
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// inTx runs fn in a write transaction and retries it when a concurrent
// writer won a race for the same row or the database broke a deadlock.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.store.InTx(ctx, fn)
		if !errors.Is(err, errRetry) && !errors.Is(err, ErrTransient) {
			return err
		}
		s.log.DebugContext(ctx, "retrying write after a concurrent change", "attempt", attempt+1)
		// A short, growing, random pause keeps the retries of two
		// colliding transactions from colliding again.
		time.Sleep(time.Duration(attempt+1) * time.Duration(1+mrand.IntN(20)) * time.Millisecond)
	}
	var r retryable
	if errors.As(err, &r) {
		return r.err
	}
	return err
}

// errRetry marks a conflict that a fresh attempt can resolve.
var errRetry = errors.New("retry")

type retryable struct{ err error }

func (r retryable) Error() string        { return r.err.Error() }
func (r retryable) Unwrap() []error      { return []error{errRetry, r.err} }
func (r retryable) Is(target error) bool { return target == errRetry }

// Read returns the current version. A deleted resource gives ErrGone
// together with the deletion version.
func (s *Service) Read(ctx context.Context, typ, id string) (*Resource, error) {
	if err := s.checkTypeID(typ, id); err != nil {
		return nil, err
	}
	res, err := s.store.Read(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if res.Deleted {
		return res, fmt.Errorf("read %s/%s: %w", typ, id, ErrGone)
	}
	return res, nil
}

// VRead returns one version. A version that records a deletion gives
// ErrGone together with it.
func (s *Service) VRead(ctx context.Context, typ, id string, version int64) (*Resource, error) {
	if err := s.checkTypeID(typ, id); err != nil {
		return nil, err
	}
	res, err := s.store.ReadVersion(ctx, typ, id, version)
	if err != nil {
		return nil, err
	}
	if res.Deleted {
		return res, fmt.Errorf("read %s/%s version %d: %w", typ, id, version, ErrGone)
	}
	return res, nil
}

// History returns versions newest first. Empty type and id select the
// whole system; an empty id selects a type.
func (s *Service) History(ctx context.Context, q HistoryQuery) (*HistoryPage, error) {
	if q.Type != "" && !IsResourceType(q.Type) {
		return nil, fmt.Errorf("history: unknown resource type %s: %w", q.Type, ErrNotFound)
	}
	if q.ID != "" && !ValidID(q.ID) {
		return nil, fmt.Errorf("history: invalid id: %w", ErrNotFound)
	}
	q.Count = s.pageSize(q.Count)
	return s.store.History(ctx, q)
}

func (s *Service) pageSize(n int) int {
	switch {
	case n <= 0:
		return s.cfg.DefaultCount
	case n > s.cfg.MaxCount:
		return s.cfg.MaxCount
	}
	return n
}

func (s *Service) checkTypeID(typ, id string) error {
	if !IsResourceType(typ) {
		return fmt.Errorf("unknown resource type %s: %w", typ, ErrNotFound)
	}
	if !ValidID(id) {
		return fmt.Errorf("invalid resource id: %w", ErrNotFound)
	}
	return nil
}

// Events returns outbox events after position, oldest first.
func (s *Service) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	return s.store.Events(ctx, after, limit)
}

// eventData encodes event details.
func eventData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

package billing

import (
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Service. The zero value works after WithDefaults.
type Config struct {
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// NewID returns a new id for accounts, charges, invoices, payments
	// and claims; nil means a random UUID.
	NewID func() string
	// Currency is the currency of accounts opened without one, such as
	// by charge capture. Default "USD".
	Currency string
	// FacilityID numbers invoices when a draft names no facility.
	// Default "main".
	FacilityID string
	// MaxInvoiceLines caps the lines of one invoice. Default 1000.
	MaxInvoiceLines int
	// Recorder, when set, receives every claim the service submits and
	// supplies the coverage and claim responses of the clinical record.
	Recorder ClaimRecorder
}

// Defaults for Config.
const (
	DefaultCurrency        = "USD"
	DefaultFacilityID      = "main"
	DefaultMaxInvoiceLines = 1000
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
	if c.Currency == "" {
		c.Currency = DefaultCurrency
	}
	if c.FacilityID == "" {
		c.FacilityID = DefaultFacilityID
	}
	if c.MaxInvoiceLines == 0 {
		c.MaxInvoiceLines = DefaultMaxInvoiceLines
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if err := ValidCurrency(c.Currency); err != nil {
		return fmt.Errorf("billing config: Currency: %w", err)
	}
	if c.MaxInvoiceLines < 1 {
		return fmt.Errorf("billing config: MaxInvoiceLines must be positive: %w", ErrInvalid)
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

package scheduling

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
	// NewID returns a new id for schedules, rules, appointments and
	// waitlist entries; nil means a random UUID.
	NewID func() string
	// TimeZone is the facility's IANA zone, such as "Europe/Berlin". The
	// service returns times in it, and schedules without a zone of their
	// own read their weekly rules in it. Default "UTC".
	TimeZone string
	// Granularity is the seat grid of schedules that set none. It
	// divides an hour. Default 5 minutes.
	Granularity time.Duration
	// HoldTTL is how long a hold lasts when the request gives no
	// duration. Default 10 minutes.
	HoldTTL time.Duration
	// OfferTTL is how long a slot offered to a waitlist entry stays held
	// for that patient. Default 24 hours.
	OfferTTL time.Duration
	// ReminderLeads are the times before an appointment's start at which
	// a reminder is due; each booking writes one reminder event per lead
	// still in the future. Default 24 hours and 2 hours. Set an empty,
	// non-nil slice for no reminders.
	ReminderLeads []time.Duration
	// DefaultSlots and MaxSlots bound the number of slots a search
	// returns. Defaults 50 and 5000.
	DefaultSlots int
	MaxSlots     int
	// MaxWindow is the longest time window a slot search may cover.
	// Default 400 days.
	MaxWindow time.Duration
}

// Defaults for Config.
const (
	DefaultTimeZone     = "UTC"
	DefaultGranularity  = 5 * time.Minute
	DefaultHoldTTL      = 10 * time.Minute
	DefaultOfferTTL     = 24 * time.Hour
	DefaultSlotCount    = 50
	DefaultMaxSlotCount = 5000
	DefaultMaxWindow    = 400 * 24 * time.Hour
)

// DefaultReminderLeads are the reminder lead times used when
// Config.ReminderLeads is nil.
var DefaultReminderLeads = []time.Duration{24 * time.Hour, 2 * time.Hour}

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
	if c.TimeZone == "" {
		c.TimeZone = DefaultTimeZone
	}
	if c.Granularity == 0 {
		c.Granularity = DefaultGranularity
	}
	if c.HoldTTL == 0 {
		c.HoldTTL = DefaultHoldTTL
	}
	if c.OfferTTL == 0 {
		c.OfferTTL = DefaultOfferTTL
	}
	if c.ReminderLeads == nil {
		c.ReminderLeads = append([]time.Duration(nil), DefaultReminderLeads...)
	}
	if c.DefaultSlots == 0 {
		c.DefaultSlots = DefaultSlotCount
	}
	if c.MaxSlots == 0 {
		c.MaxSlots = DefaultMaxSlotCount
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = DefaultMaxWindow
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("scheduling config: TimeZone %q is not an IANA time zone: %w", c.TimeZone, ErrInvalid)
	}
	if err := validGranularity(c.Granularity); err != nil {
		return fmt.Errorf("scheduling config: Granularity: %w", err)
	}
	switch {
	case c.HoldTTL <= 0:
		return fmt.Errorf("scheduling config: HoldTTL must be positive: %w", ErrInvalid)
	case c.OfferTTL <= 0:
		return fmt.Errorf("scheduling config: OfferTTL must be positive: %w", ErrInvalid)
	case c.DefaultSlots <= 0 || c.MaxSlots < c.DefaultSlots:
		return fmt.Errorf("scheduling config: DefaultSlots must be positive and at most MaxSlots: %w", ErrInvalid)
	case c.MaxWindow <= 0:
		return fmt.Errorf("scheduling config: MaxWindow must be positive: %w", ErrInvalid)
	}
	for _, lead := range c.ReminderLeads {
		if lead <= 0 {
			return fmt.Errorf("scheduling config: ReminderLeads must all be positive: %w", ErrInvalid)
		}
	}
	return nil
}

// validGranularity accepts whole minutes that divide an hour, so grid
// cells line up with the hour in every zone whose offset from UTC is a
// whole number of such cells.
func validGranularity(g time.Duration) error {
	if g < time.Minute || g > time.Hour || g%time.Minute != 0 || time.Hour%g != 0 {
		return fmt.Errorf("%v must be whole minutes that divide an hour, such as 5m or 15m: %w", g, ErrInvalid)
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

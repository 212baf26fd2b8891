package scheduling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"
)

// Service holds the scheduling rules: availability, slot search, booking,
// the appointment workflow, capacity and the waitlist. It is safe for
// concurrent use.
type Service struct {
	store Store
	cfg   Config
	log   *slog.Logger
	loc   *time.Location
	// zones caches loaded time zones by name, because time.LoadLocation
	// reads the zone database on every call.
	zones sync.Map
}

// NewService returns a Service on store.
func NewService(store Store, cfg Config) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("scheduling config: TimeZone %q: %w", cfg.TimeZone, ErrInvalid)
	}
	return &Service{store: store, cfg: cfg, log: cfg.Logger, loc: loc}, nil
}

// Store returns the store the service writes to.
func (s *Service) Store() Store { return s.store }

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Location returns the facility's time zone, in which the service returns
// times.
func (s *Service) Location() *time.Location { return s.loc }

// now returns the clock's time in UTC, truncated to the microsecond that
// the stores keep.
func (s *Service) now() time.Time {
	return s.cfg.Clock().UTC().Truncate(time.Microsecond)
}

func (s *Service) zone(name string) (*time.Location, error) {
	if name == "" {
		return s.loc, nil
	}
	if loc, ok := s.zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalidf("time zone %q is not an IANA time zone", name)
	}
	s.zones.Store(name, loc)
	return loc, nil
}

// inTx runs fn in a write transaction and retries it when the database
// broke a deadlock or a serialisation conflict.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.store.InTx(ctx, fn)
		if !errors.Is(err, ErrTransient) {
			return err
		}
		s.log.DebugContext(ctx, "retrying scheduling write after a concurrent change", "attempt", attempt+1)
		// A short, growing, random pause keeps two colliding transactions
		// from colliding again.
		time.Sleep(time.Duration(attempt+1) * time.Duration(1+mrand.IntN(20)) * time.Millisecond)
	}
	return err
}

// emit appends an event about appointment a.
func emit(ctx context.Context, tx Tx, now time.Time, typ string, a *Appointment, extra map[string]any) error {
	data := map[string]any{
		"status":           a.Status,
		"appointment_type": a.AppointmentType,
		"start":            a.Start.UTC().Format(time.RFC3339),
		"end":              a.End.UTC().Format(time.RFC3339),
		"participants":     actorRefs(a.Participants),
	}
	for k, v := range extra {
		data[k] = v
	}
	e := Event{Type: typ, AppointmentID: a.ID, Version: a.Version, WaitlistEntryID: a.WaitlistEntryID, Time: now}
	if due, ok := extra["due_at"].(time.Time); ok {
		e.DueAt = due
		data["due_at"] = due.UTC().Format(time.RFC3339)
	}
	e.Data = encodeData(data)
	if err := tx.Emit(ctx, e); err != nil {
		return fmt.Errorf("emit %s for appointment %s: %w", typ, a.ID, err)
	}
	return nil
}

func encodeData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

func actorRefs(actors []Actor) []string {
	out := make([]string, len(actors))
	for i, a := range actors {
		out[i] = a.String()
	}
	return out
}

// Events returns outbox events after position, oldest first.
func (s *Service) Events(ctx context.Context, after int64, limit int) ([]Event, error) {
	events, err := s.store.Events(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	for i := range events {
		events[i].Time = events[i].Time.In(s.loc)
		if !events[i].DueAt.IsZero() {
			events[i].DueAt = events[i].DueAt.In(s.loc)
		}
	}
	return events, nil
}

// present returns a copy of a with its times in the facility's zone.
func (s *Service) present(a *Appointment) *Appointment {
	out := *a
	out.Start = a.Start.In(s.loc)
	out.End = a.End.In(s.loc)
	if !a.HoldExpires.IsZero() {
		out.HoldExpires = a.HoldExpires.In(s.loc)
	}
	out.Created = a.Created.In(s.loc)
	out.Updated = a.Updated.In(s.loc)
	return &out
}

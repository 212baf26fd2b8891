package scheduling

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// CreateScheduleParams describes a new schedule.
type CreateScheduleParams struct {
	Actor      Actor
	Name       string
	LocationID string
	// TimeZone is the IANA zone of the weekly rules; empty means the
	// facility's zone.
	TimeZone string
	// Granularity is the seat grid; zero means Config.Granularity.
	Granularity time.Duration
	Overbooking OverbookingPolicy
}

// CreateSchedule creates the active schedule of an actor. A second
// schedule for the same actor is rejected with ErrConflict.
func (s *Service) CreateSchedule(ctx context.Context, p CreateScheduleParams) (*Schedule, error) {
	now := s.now()
	sc := Schedule{
		ID:          s.cfg.NewID(),
		Actor:       p.Actor,
		Name:        p.Name,
		LocationID:  p.LocationID,
		TimeZone:    p.TimeZone,
		Granularity: p.Granularity,
		Overbooking: p.Overbooking,
		Active:      true,
		Created:     now,
		Updated:     now,
	}
	if sc.Granularity == 0 {
		sc.Granularity = s.cfg.Granularity
	}
	if sc.Overbooking.Mode == "" {
		sc.Overbooking.Mode = OverbookNone
	}
	if err := s.validateSchedule(sc); err != nil {
		return nil, fmt.Errorf("create schedule: %w", err)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutSchedule(ctx, sc) })
	if err != nil {
		return nil, fmt.Errorf("create schedule for %s: %w", sc.Actor, err)
	}
	return &sc, nil
}

// UpdateSchedule replaces the name, location, time zone, overbooking
// policy and active flag of a schedule. The actor and granularity cannot
// change, because booked seats are counted on the granularity's grid. A
// new policy applies to bookings made after the change; existing bookings
// are kept even where they now exceed it.
func (s *Service) UpdateSchedule(ctx context.Context, sc Schedule) (*Schedule, error) {
	var out Schedule
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		old, err := s.store.GetSchedule(ctx, sc.ID)
		if err != nil {
			return err
		}
		if sc.Actor != old.Actor || (sc.Granularity != 0 && sc.Granularity != old.Granularity) {
			return invalidf("actor and granularity of a schedule cannot change")
		}
		out = *old
		out.Name, out.LocationID, out.TimeZone = sc.Name, sc.LocationID, sc.TimeZone
		out.Overbooking, out.Active = sc.Overbooking, sc.Active
		if out.Overbooking.Mode == "" {
			out.Overbooking.Mode = OverbookNone
		}
		out.Updated = s.now()
		if err := s.validateSchedule(out); err != nil {
			return err
		}
		return tx.PutSchedule(ctx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("update schedule %s: %w", sc.ID, err)
	}
	return &out, nil
}

func (s *Service) validateSchedule(sc Schedule) error {
	if err := sc.Actor.Validate(); err != nil {
		return err
	}
	if sc.LocationID != "" && !validID(sc.LocationID) {
		return invalidf("LocationID must be a FHIR id")
	}
	if _, err := s.zone(sc.TimeZone); err != nil {
		return err
	}
	if err := validGranularity(sc.Granularity); err != nil {
		return fmt.Errorf("Granularity %w", err)
	}
	return sc.Overbooking.Validate()
}

// GetSchedule returns a schedule by id.
func (s *Service) GetSchedule(ctx context.Context, id string) (*Schedule, error) {
	return s.store.GetSchedule(ctx, id)
}

// ListSchedules returns the schedules that match f.
func (s *Service) ListSchedules(ctx context.Context, f ScheduleFilter) ([]Schedule, error) {
	return s.store.ListSchedules(ctx, f)
}

// AddAvailability adds a weekly rule, a one-off addition or an exception
// to a schedule and returns it with its new id. Bookings already made
// inside a new exception are kept; the caller finds them with
// ListAppointments and cancels or reschedules them.
func (s *Service) AddAvailability(ctx context.Context, a Availability) (*Availability, error) {
	a.ID = s.cfg.NewID()
	a.Start, a.End = a.Start.UTC(), a.End.UTC()
	if err := validateAvailability(a); err != nil {
		return nil, fmt.Errorf("add availability to schedule %s: %w", a.ScheduleID, err)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if _, err := s.store.GetSchedule(ctx, a.ScheduleID); err != nil {
			return err
		}
		return tx.PutAvailability(ctx, a)
	})
	if err != nil {
		return nil, fmt.Errorf("add availability to schedule %s: %w", a.ScheduleID, err)
	}
	return &a, nil
}

func validateAvailability(a Availability) error {
	switch a.Kind {
	case Weekly:
		if a.Weekday < time.Sunday || a.Weekday > time.Saturday {
			return invalidf("Weekday %d is not a day of the week", a.Weekday)
		}
		if !a.StartTime.valid() || !a.EndTime.valid() || a.StartTime >= a.EndTime {
			return invalidf("StartTime must be before EndTime, both from 00:00 to 24:00")
		}
		if !a.ValidFrom.IsZero() && !a.ValidUntil.IsZero() && a.ValidUntil.Before(a.ValidFrom) {
			return invalidf("ValidUntil must not be before ValidFrom")
		}
	case Addition, Exception:
		if a.Start.IsZero() || !a.Start.Before(a.End) {
			return invalidf("Start must be set and before End")
		}
	default:
		return invalidf("Kind %q is not weekly, addition or exception", a.Kind)
	}
	if a.Capacity < 0 || a.Capacity > 1000 {
		return invalidf("Capacity must be from 0 to 1000")
	}
	if len(a.Reason) > 200 {
		return invalidf("Reason must be at most 200 bytes")
	}
	return nil
}

// RemoveAvailability deletes a rule. Bookings made under it are kept.
func (s *Service) RemoveAvailability(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error { return tx.DeleteAvailability(ctx, id) })
	if err != nil {
		return fmt.Errorf("remove availability %s: %w", id, err)
	}
	return nil
}

// ListAvailability returns every rule of a schedule.
func (s *Service) ListAvailability(ctx context.Context, scheduleID string) ([]Availability, error) {
	rules, err := s.store.ListAvailability(ctx, AvailabilityFilter{ScheduleIDs: []string{scheduleID}})
	if err != nil {
		return nil, err
	}
	for i := range rules {
		if !rules[i].Start.IsZero() {
			rules[i].Start, rules[i].End = rules[i].Start.In(s.loc), rules[i].End.In(s.loc)
		}
	}
	return rules, nil
}

// PutAppointmentType creates or replaces an appointment type. A changed
// duration or buffer applies to bookings made after the change.
func (s *Service) PutAppointmentType(ctx context.Context, t AppointmentType) error {
	switch {
	case !validID(t.Code):
		return fmt.Errorf("put appointment type: Code must be 1 to 64 letters, digits, '-' or '.': %w", ErrInvalid)
	case t.Duration < time.Minute || t.Duration > 24*time.Hour || t.Duration%time.Minute != 0:
		return fmt.Errorf("put appointment type %s: Duration must be whole minutes from 1m to 24h: %w", t.Code, ErrInvalid)
	case t.BufferBefore < 0 || t.BufferAfter < 0 || t.BufferBefore > 4*time.Hour || t.BufferAfter > 4*time.Hour:
		return fmt.Errorf("put appointment type %s: buffers must be from 0 to 4h: %w", t.Code, ErrInvalid)
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error { return tx.PutAppointmentType(ctx, t) })
	if err != nil {
		return fmt.Errorf("put appointment type %s: %w", t.Code, err)
	}
	return nil
}

// ListAppointmentTypes returns every appointment type by code.
func (s *Service) ListAppointmentTypes(ctx context.Context) ([]AppointmentType, error) {
	return s.store.ListAppointmentTypes(ctx)
}

// participants returns the actors sorted by kind and id, or an error for
// an empty, invalid or repeated actor.
func participants(actors []Actor) ([]Actor, error) {
	if len(actors) == 0 {
		return nil, invalidf("at least one actor is required")
	}
	if len(actors) > 20 {
		return nil, invalidf("at most 20 actors may take part in one appointment")
	}
	out := slices.Clone(actors)
	for _, a := range out {
		if err := a.Validate(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, compareActors)
	for i := 1; i < len(out); i++ {
		if out[i] == out[i-1] {
			return nil, invalidf("actor %s is listed twice", out[i])
		}
	}
	return out, nil
}

func compareActors(a, b Actor) int {
	if a.Kind != b.Kind {
		if a.Kind < b.Kind {
			return -1
		}
		return 1
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

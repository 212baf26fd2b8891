package scheduling

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BookParams requests a booking: either a new appointment for a patient
// with every actor it needs, or, with HoldID set, the booking of an
// existing hold.
type BookParams struct {
	PatientID       string
	AppointmentType string
	// Actors lists every actor the appointment needs, such as a surgeon,
	// a theatre and a device. All must be free.
	Actors []Actor
	Start  time.Time
	// HoldID books this pending hold; the fields above must then be
	// empty, except PatientID, which must match the hold's when set.
	HoldID string
}

// HoldParams requests a hold: a pending appointment that keeps its seats
// until it is booked, cancelled or expires.
type HoldParams struct {
	PatientID       string
	AppointmentType string
	Actors          []Actor
	Start           time.Time
	// TTL is how long the hold lasts; zero means Config.HoldTTL.
	TTL time.Duration
}

// CancelParams requests a cancellation.
type CancelParams struct {
	AppointmentID string
	// Reason is a code or short text, such as "patient-request". It must
	// not hold patient data.
	Reason string
}

// RescheduleParams moves an appointment to a new start and, optionally,
// new actors.
type RescheduleParams struct {
	AppointmentID string
	Start         time.Time
	// Actors replaces the participants when set.
	Actors []Actor
	Reason string
}

// Hold claims seats for a pending appointment that lapses after its TTL.
func (s *Service) Hold(ctx context.Context, p HoldParams) (*Appointment, error) {
	ttl := p.TTL
	if ttl == 0 {
		ttl = s.cfg.HoldTTL
	}
	if ttl < 0 {
		return nil, fmt.Errorf("hold: TTL must be positive: %w", ErrInvalid)
	}
	req := BookParams{PatientID: p.PatientID, AppointmentType: p.AppointmentType, Actors: p.Actors, Start: p.Start}
	a, err := s.create(ctx, req, StatusPending, ttl, "")
	if err != nil {
		return nil, fmt.Errorf("hold: %w", err)
	}
	return a, nil
}

// Book books a new appointment, or a hold when p.HoldID is set, in one
// transaction with its seats, its events and its reminders. A full slot
// gives ErrSlotFull, a time outside availability ErrUnavailable.
func (s *Service) Book(ctx context.Context, p BookParams) (*Appointment, error) {
	if p.HoldID != "" {
		a, err := s.bookHold(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("book hold %s: %w", p.HoldID, err)
		}
		return a, nil
	}
	a, err := s.create(ctx, p, StatusBooked, 0, "")
	if err != nil {
		return nil, fmt.Errorf("book: %w", err)
	}
	return a, nil
}

// Propose stores a proposed appointment: a request that claims no seats
// until every participant accepts it through Respond. The time must be
// within the actors' availability, but its seats may be taken.
func (s *Service) Propose(ctx context.Context, p BookParams) (*Appointment, error) {
	if p.HoldID != "" {
		return nil, fmt.Errorf("propose: HoldID must be empty: %w", ErrInvalid)
	}
	a, err := s.create(ctx, p, StatusProposed, 0, "")
	if err != nil {
		return nil, fmt.Errorf("propose: %w", err)
	}
	return a, nil
}

// create stores a new appointment in status, pending for ttl when it is a
// hold, and claims its seats.
func (s *Service) create(ctx context.Context, p BookParams, status Status, ttl time.Duration, replaces string) (*Appointment, error) {
	if !validID(p.PatientID) {
		return nil, invalidf("PatientID must be a FHIR id")
	}
	now := s.now()
	if p.Start.Before(now) {
		return nil, invalidf("start %s is in the past", p.Start.UTC().Format(time.RFC3339))
	}
	plan, err := s.planBooking(ctx, p.AppointmentType, p.Actors, p.Start)
	if err != nil {
		return nil, err
	}
	a := Appointment{
		ID:              s.cfg.NewID(),
		Version:         1,
		Status:          status,
		AppointmentType: plan.typ.Code,
		PatientID:       p.PatientID,
		Participants:    plan.actors,
		Start:           plan.start,
		End:             plan.end,
		Replaces:        replaces,
		Created:         now,
		Updated:         now,
	}
	if status == StatusPending {
		a.HoldExpires = now.Add(ttl)
	}
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		return s.insert(ctx, tx, &a, plan.cells, now)
	})
	if err != nil {
		return nil, err
	}
	s.log.DebugContext(ctx, "appointment created", "appointment", a.ID, "status", a.Status, "actors", plan.actorList())
	return s.present(&a), nil
}

// insert writes a new appointment, claims its cells unless it is a
// proposal, expiring lapsed holds on them first if they are full, and
// emits its events.
func (s *Service) insert(ctx context.Context, tx Tx, a *Appointment, cells []Cell, now time.Time) error {
	if err := tx.PutAppointment(ctx, *a, string(a.Status)); err != nil {
		return err
	}
	if a.Status.holdsSeats() {
		if err := s.claim(ctx, tx, a, cells, now); err != nil {
			return err
		}
	}
	typ := "scheduling.appointment.booked"
	switch a.Status {
	case StatusPending:
		typ = "scheduling.appointment.held"
	case StatusProposed:
		typ = "scheduling.appointment.proposed"
	}
	if err := emit(ctx, tx, now, typ, a, nil); err != nil {
		return err
	}
	if a.Status == StatusBooked {
		return s.emitReminders(ctx, tx, a, now)
	}
	return nil
}

// claim takes the cells for a, and when they are full expires the lapsed
// holds on the same actors and time and tries once more.
func (s *Service) claim(ctx context.Context, tx Tx, a *Appointment, cells []Cell, now time.Time) error {
	err := tx.Claim(ctx, a.ID, cells)
	if !errors.Is(err, ErrSlotFull) {
		return err
	}
	first, last := cells[0].Start, cells[0].Start
	for _, c := range cells {
		first, last = earlier(first, c.Start), later(last, c.Start)
	}
	lapsed, lerr := tx.ListAppointments(ctx, AppointmentFilter{
		Actors:        a.Participants,
		Statuses:      []Status{StatusPending},
		HoldExpiredBy: now,
		From:          first.Add(-4 * time.Hour),
		To:            last.Add(4 * time.Hour),
	})
	if lerr != nil {
		return lerr
	}
	expired := 0
	for _, h := range lapsed {
		ok, xerr := s.expireHold(ctx, tx, h.ID, now, false)
		if xerr != nil {
			return xerr
		}
		if ok {
			expired++
		}
	}
	if expired == 0 {
		return err
	}
	return tx.Claim(ctx, a.ID, cells)
}

// emitReminders writes one reminder event per lead time still ahead.
func (s *Service) emitReminders(ctx context.Context, tx Tx, a *Appointment, now time.Time) error {
	for _, lead := range s.cfg.ReminderLeads {
		due := a.Start.Add(-lead)
		if !due.After(now) {
			continue
		}
		extra := map[string]any{"due_at": due, "lead": lead.String()}
		if err := emit(ctx, tx, now, "scheduling.reminder.due", a, extra); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) bookHold(ctx context.Context, p BookParams) (*Appointment, error) {
	if p.AppointmentType != "" || len(p.Actors) > 0 || !p.Start.IsZero() {
		return nil, invalidf("AppointmentType, Actors and Start must be empty when HoldID is set")
	}
	var out Appointment
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		now := s.now()
		a, err := tx.GetAppointment(ctx, p.HoldID)
		if err != nil {
			return err
		}
		if p.PatientID != "" && p.PatientID != a.PatientID {
			return invalidf("PatientID does not match the hold")
		}
		if err := checkTransition(a.ID, a.Status, StatusBooked); err != nil {
			return err
		}
		if a.Status == StatusPending && !a.HoldExpires.After(now) {
			return fmt.Errorf("hold lapsed at %s: %w", a.HoldExpires.Format(time.RFC3339), ErrHoldExpired)
		}
		if a.Status != StatusPending {
			return invalidf("appointment in status %s holds no seats, book a new one", a.Status)
		}
		a.Status, a.HoldExpires, a.Version, a.Updated = StatusBooked, time.Time{}, a.Version+1, now
		if err := tx.PutAppointment(ctx, *a, "hold booked"); err != nil {
			return err
		}
		if err := emit(ctx, tx, now, "scheduling.appointment.booked", a, nil); err != nil {
			return err
		}
		if err := s.emitReminders(ctx, tx, a, now); err != nil {
			return err
		}
		if err := s.markWaitlist(ctx, tx, a, WaitlistBooked, now); err != nil {
			return err
		}
		out = *a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.present(&out), nil
}

// Cancel cancels an appointment, returns its seats and offers the freed
// slot to the next eligible waitlist entry.
func (s *Service) Cancel(ctx context.Context, p CancelParams) (*Appointment, error) {
	if err := checkReason(p.Reason); err != nil {
		return nil, fmt.Errorf("cancel appointment %s: %w", p.AppointmentID, err)
	}
	a, err := s.changeStatus(ctx, p.AppointmentID, StatusCancelled, p.Reason)
	if err != nil {
		return nil, fmt.Errorf("cancel appointment %s: %w", p.AppointmentID, err)
	}
	return a, nil
}

// CheckIn records that the patient checked in.
func (s *Service) CheckIn(ctx context.Context, id string) (*Appointment, error) {
	return s.setStatus(ctx, id, StatusCheckedIn)
}

// Arrive records that the patient arrived.
func (s *Service) Arrive(ctx context.Context, id string) (*Appointment, error) {
	return s.setStatus(ctx, id, StatusArrived)
}

// Fulfil records that the appointment took place.
func (s *Service) Fulfil(ctx context.Context, id string) (*Appointment, error) {
	return s.setStatus(ctx, id, StatusFulfilled)
}

// NoShow records that the patient did not come. The seats stay taken.
func (s *Service) NoShow(ctx context.Context, id string) (*Appointment, error) {
	return s.setStatus(ctx, id, StatusNoShow)
}

// MarkEnteredInError marks an appointment recorded by mistake and returns
// its seats.
func (s *Service) MarkEnteredInError(ctx context.Context, id, reason string) (*Appointment, error) {
	if err := checkReason(reason); err != nil {
		return nil, fmt.Errorf("mark appointment %s entered in error: %w", id, err)
	}
	a, err := s.changeStatus(ctx, id, StatusEnteredInError, reason)
	if err != nil {
		return nil, fmt.Errorf("mark appointment %s entered in error: %w", id, err)
	}
	return a, nil
}

func (s *Service) setStatus(ctx context.Context, id string, to Status) (*Appointment, error) {
	a, err := s.changeStatus(ctx, id, to, "")
	if err != nil {
		return nil, fmt.Errorf("set appointment %s to %s: %w", id, to, err)
	}
	return a, nil
}

func checkReason(reason string) error {
	if len(reason) > 200 {
		return invalidf("Reason must be at most 200 bytes")
	}
	return nil
}

// changeStatus moves an appointment to status to, returning its seats
// when the new status holds none.
func (s *Service) changeStatus(ctx context.Context, id string, to Status, reason string) (*Appointment, error) {
	var out Appointment
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		now := s.now()
		a, err := tx.GetAppointment(ctx, id)
		if err != nil {
			return err
		}
		if err := checkTransition(a.ID, a.Status, to); err != nil {
			return err
		}
		if err := s.transition(ctx, tx, a, to, reason, now); err != nil {
			return err
		}
		out = *a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.present(&out), nil
}

// transition stores a in status to and does what the change implies:
// seats returned and offered to the waitlist, the waitlist entry of a
// declined offer expired, an event emitted.
func (s *Service) transition(ctx context.Context, tx Tx, a *Appointment, to Status, reason string, now time.Time) error {
	held := a.Status.holdsSeats()
	wasHold := a.Status == StatusPending
	a.Status, a.Version, a.Updated = to, a.Version+1, now
	if to != StatusPending {
		a.HoldExpires = time.Time{}
	}
	if to == StatusCancelled || to == StatusEnteredInError {
		a.CancelReason = reason
	}
	if err := tx.PutAppointment(ctx, *a, reasonOr(reason, string(to))); err != nil {
		return err
	}
	if err := emit(ctx, tx, now, "scheduling.appointment."+string(to), a, nil); err != nil {
		return err
	}
	if wasHold && to != StatusBooked {
		if err := s.markWaitlist(ctx, tx, a, WaitlistExpired, now); err != nil {
			return err
		}
	}
	if held && !to.holdsSeats() {
		return s.free(ctx, tx, a, now)
	}
	return nil
}

func reasonOr(reason, fallback string) string {
	if reason != "" {
		return reason
	}
	return fallback
}

// free returns the seats of a and offers them to the waitlist.
func (s *Service) free(ctx context.Context, tx Tx, a *Appointment, now time.Time) error {
	cells, err := tx.Release(ctx, a.ID)
	if err != nil {
		return err
	}
	if len(cells) == 0 || !a.Start.After(now) {
		return nil
	}
	return s.offer(ctx, tx, a, cells, now)
}

// Reschedule cancels an appointment with reason "rescheduled" (or the one
// given) and books a new one linked to it through Replaces and
// ReplacedBy, in one transaction. It returns the new appointment. The old
// one keeps its history. Its seats are returned before the new ones are
// claimed, so a move by a few minutes can reuse them.
func (s *Service) Reschedule(ctx context.Context, p RescheduleParams) (*Appointment, error) {
	if err := checkReason(p.Reason); err != nil {
		return nil, fmt.Errorf("reschedule appointment %s: %w", p.AppointmentID, err)
	}
	old, err := s.store.GetAppointment(ctx, p.AppointmentID)
	if err != nil {
		return nil, fmt.Errorf("reschedule appointment %s: %w", p.AppointmentID, err)
	}
	actors := p.Actors
	if len(actors) == 0 {
		actors = old.Participants
	}
	plan, err := s.planBooking(ctx, old.AppointmentType, actors, p.Start)
	if err != nil {
		return nil, fmt.Errorf("reschedule appointment %s: %w", p.AppointmentID, err)
	}
	var out Appointment
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		now := s.now()
		if plan.start.Before(now) {
			return invalidf("start %s is in the past", plan.start.Format(time.RFC3339))
		}
		cur, err := tx.GetAppointment(ctx, p.AppointmentID)
		if err != nil {
			return err
		}
		if cur.Status != StatusBooked && cur.Status != StatusPending {
			return &TransitionError{AppointmentID: cur.ID, From: cur.Status, To: StatusCancelled}
		}
		next := Appointment{
			ID: s.cfg.NewID(), Version: 1, Status: StatusBooked, AppointmentType: cur.AppointmentType,
			PatientID: cur.PatientID, Participants: plan.actors, Start: plan.start, End: plan.end,
			Replaces: cur.ID, Created: now, Updated: now,
		}
		cur.ReplacedBy = next.ID
		freed, err := tx.Release(ctx, cur.ID)
		if err != nil {
			return err
		}
		cur.Status, cur.Version, cur.Updated = StatusCancelled, cur.Version+1, now
		cur.HoldExpires, cur.CancelReason = time.Time{}, reasonOr(p.Reason, "rescheduled")
		if err := tx.PutAppointment(ctx, *cur, cur.CancelReason); err != nil {
			return err
		}
		if err := tx.PutAppointment(ctx, next, "rescheduled"); err != nil {
			return err
		}
		if err := s.claim(ctx, tx, &next, plan.cells, now); err != nil {
			return err
		}
		extra := map[string]any{"replaced_by": next.ID}
		if err := emit(ctx, tx, now, "scheduling.appointment.rescheduled", cur, extra); err != nil {
			return err
		}
		if err := emit(ctx, tx, now, "scheduling.appointment.booked", &next, map[string]any{"replaces": cur.ID}); err != nil {
			return err
		}
		if err := s.emitReminders(ctx, tx, &next, now); err != nil {
			return err
		}
		if len(freed) > 0 && cur.Start.After(now) {
			if err := s.offer(ctx, tx, cur, freed, now); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reschedule appointment %s: %w", p.AppointmentID, err)
	}
	return s.present(&out), nil
}

// ReleaseExpiredHolds cancels every hold whose expiry has passed, returns
// its seats and offers them to the waitlist. Booking does the same for the
// holds in its way, so running this periodically only makes lapsed seats
// visible to searches sooner. It returns how many holds it released.
func (s *Service) ReleaseExpiredHolds(ctx context.Context) (int, error) {
	lapsed, err := s.store.ListAppointments(ctx, AppointmentFilter{Statuses: []Status{StatusPending}, HoldExpiredBy: s.now(), Limit: 1000})
	if err != nil {
		return 0, fmt.Errorf("release expired holds: %w", err)
	}
	released := 0
	for _, h := range lapsed {
		var ok bool
		err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
			var err error
			ok, err = s.expireHold(ctx, tx, h.ID, s.now(), true)
			return err
		})
		if err != nil {
			s.log.ErrorContext(ctx, "releasing an expired hold failed", "appointment", h.ID, "error", err)
			return released, fmt.Errorf("release expired hold %s: %w", h.ID, err)
		}
		if ok {
			released++
		}
	}
	if released > 0 {
		s.log.InfoContext(ctx, "released expired holds", "count", released)
	}
	return released, nil
}

// expireHold cancels hold id if it is still pending and lapsed, and
// reports whether it did. With offer set the freed seats go to the
// waitlist; a booking that expires holds in its way takes them itself.
func (s *Service) expireHold(ctx context.Context, tx Tx, id string, now time.Time, offer bool) (bool, error) {
	h, err := tx.GetAppointment(ctx, id)
	if err != nil {
		return false, err
	}
	if h.Status != StatusPending || h.HoldExpires.After(now) {
		return false, nil
	}
	h.Status, h.Version, h.Updated = StatusCancelled, h.Version+1, now
	h.HoldExpires, h.CancelReason = time.Time{}, "hold-expired"
	if err := tx.PutAppointment(ctx, *h, "hold-expired"); err != nil {
		return false, err
	}
	if err := emit(ctx, tx, now, "scheduling.appointment.hold-expired", h, nil); err != nil {
		return false, err
	}
	if err := s.markWaitlist(ctx, tx, h, WaitlistExpired, now); err != nil {
		return false, err
	}
	if !offer {
		_, err := tx.Release(ctx, h.ID)
		return true, err
	}
	return true, s.free(ctx, tx, h, now)
}

// GetAppointment returns an appointment by id.
func (s *Service) GetAppointment(ctx context.Context, id string) (*Appointment, error) {
	a, err := s.store.GetAppointment(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.present(a), nil
}

// ListAppointments returns the appointments that match f, by start.
func (s *Service) ListAppointments(ctx context.Context, f AppointmentFilter) ([]Appointment, error) {
	list, err := s.store.ListAppointments(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = *s.present(&list[i])
	}
	return list, nil
}

// AppointmentHistory returns every version of an appointment, oldest
// first.
func (s *Service) AppointmentHistory(ctx context.Context, id string) ([]AppointmentVersion, error) {
	versions, err := s.store.AppointmentHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := range versions {
		v := &versions[i]
		v.Start, v.End, v.Time = v.Start.In(s.loc), v.End.In(s.loc), v.Time.In(s.loc)
	}
	return versions, nil
}

// NoShowRecord summarises a patient's attendance.
type NoShowRecord struct {
	// NoShows lists the appointments the patient missed, by start.
	NoShows []Appointment
	// Fulfilled counts the appointments that took place.
	Fulfilled int
}

// Rate returns the share of finished appointments that were missed, 0
// when there are none.
func (r NoShowRecord) Rate() float64 {
	total := len(r.NoShows) + r.Fulfilled
	if total == 0 {
		return 0
	}
	return float64(len(r.NoShows)) / float64(total)
}

// NoShowHistory returns a patient's missed and fulfilled appointments.
func (s *Service) NoShowHistory(ctx context.Context, patientID string) (*NoShowRecord, error) {
	if !validID(patientID) {
		return nil, fmt.Errorf("no-show history: patient id must be a FHIR id: %w", ErrInvalid)
	}
	list, err := s.ListAppointments(ctx, AppointmentFilter{PatientID: patientID, Statuses: []Status{StatusNoShow, StatusFulfilled}})
	if err != nil {
		return nil, fmt.Errorf("no-show history: %w", err)
	}
	rec := &NoShowRecord{NoShows: []Appointment{}}
	for _, a := range list {
		if a.Status == StatusNoShow {
			rec.NoShows = append(rec.NoShows, a)
		} else {
			rec.Fulfilled++
		}
	}
	return rec, nil
}

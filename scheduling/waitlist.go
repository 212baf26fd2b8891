package scheduling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// JoinWaitlistParams puts a patient on the waitlist.
type JoinWaitlistParams struct {
	PatientID       string
	AppointmentType string
	// Actor is the requested actor; the zero Actor accepts any.
	Actor Actor
	// From and To bound the acceptable appointment times.
	From, To time.Time
}

// JoinWaitlist adds a waiting entry. When a matching slot frees up, the
// oldest eligible entry is offered it as a hold that lasts
// Config.OfferTTL; booking that hold with Book and HoldID accepts the
// offer.
func (s *Service) JoinWaitlist(ctx context.Context, p JoinWaitlistParams) (*WaitlistEntry, error) {
	switch {
	case !validID(p.PatientID):
		return nil, fmt.Errorf("join waitlist: PatientID must be a FHIR id: %w", ErrInvalid)
	case p.From.IsZero() || !p.From.Before(p.To):
		return nil, fmt.Errorf("join waitlist: From must be set and before To: %w", ErrInvalid)
	}
	if p.Actor != (Actor{}) {
		if err := p.Actor.Validate(); err != nil {
			return nil, fmt.Errorf("join waitlist: %w", err)
		}
	}
	if _, err := s.store.GetAppointmentType(ctx, p.AppointmentType); err != nil {
		return nil, fmt.Errorf("join waitlist: appointment type %s: %w", p.AppointmentType, err)
	}
	now := s.now()
	e := WaitlistEntry{
		ID: s.cfg.NewID(), PatientID: p.PatientID, AppointmentType: p.AppointmentType, Actor: p.Actor,
		From: p.From.UTC(), To: p.To.UTC(), Status: WaitlistWaiting, Created: now, Updated: now,
	}
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		if err := tx.PutWaitlistEntry(ctx, e); err != nil {
			return err
		}
		return emitWaitlist(ctx, tx, "scheduling.waitlist.joined", &e, "", now)
	})
	if err != nil {
		return nil, fmt.Errorf("join waitlist: %w", err)
	}
	return s.presentEntry(&e), nil
}

// LeaveWaitlist withdraws an entry. An open offer is cancelled and its
// slot offered to the next entry.
func (s *Service) LeaveWaitlist(ctx context.Context, id string) (*WaitlistEntry, error) {
	var out WaitlistEntry
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		now := s.now()
		e, err := tx.GetWaitlistEntry(ctx, id)
		if err != nil {
			return err
		}
		if e.Status != WaitlistWaiting && e.Status != WaitlistOffered {
			return fmt.Errorf("entry is %s, only waiting or offered entries can be withdrawn: %w", e.Status, ErrConflict)
		}
		offered := e.OfferedAppointmentID
		e.Status, e.Updated = WaitlistWithdrawn, now
		if err := tx.PutWaitlistEntry(ctx, *e); err != nil {
			return err
		}
		if err := emitWaitlist(ctx, tx, "scheduling.waitlist.withdrawn", e, offered, now); err != nil {
			return err
		}
		if offered != "" {
			hold, err := tx.GetAppointment(ctx, offered)
			if err != nil {
				return err
			}
			if hold.Status == StatusPending {
				if err := s.transition(ctx, tx, hold, StatusCancelled, "waitlist-withdrawn", now); err != nil {
					return err
				}
			}
		}
		out = *e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("leave waitlist %s: %w", id, err)
	}
	return s.presentEntry(&out), nil
}

// GetWaitlistEntry returns a waitlist entry by id.
func (s *Service) GetWaitlistEntry(ctx context.Context, id string) (*WaitlistEntry, error) {
	e, err := s.store.GetWaitlistEntry(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.presentEntry(e), nil
}

// ListWaitlist returns the entries that match f, oldest first.
func (s *Service) ListWaitlist(ctx context.Context, f WaitlistFilter) ([]WaitlistEntry, error) {
	list, err := s.store.ListWaitlist(ctx, f)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = *s.presentEntry(&list[i])
	}
	return list, nil
}

// offer gives the seats freed by appointment a to the oldest eligible
// waiting entry, as a hold for that entry's patient. Finding no entry is
// not an error, and neither is losing the seats to another claim.
func (s *Service) offer(ctx context.Context, tx Tx, a *Appointment, cells []Cell, now time.Time) error {
	e, err := tx.NextWaitlistEntry(ctx, WaitlistMatch{AppointmentType: a.AppointmentType, Actors: a.Participants, Start: a.Start, End: a.End})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	hold := Appointment{
		ID: s.cfg.NewID(), Version: 1, Status: StatusPending, AppointmentType: a.AppointmentType,
		PatientID: e.PatientID, Participants: slices.Clone(a.Participants), Start: a.Start, End: a.End,
		HoldExpires: now.Add(s.cfg.OfferTTL), WaitlistEntryID: e.ID, Created: now, Updated: now,
	}
	if err := tx.PutAppointment(ctx, hold, "waitlist-offer"); err != nil {
		return err
	}
	if err := tx.Claim(ctx, hold.ID, cells); err != nil {
		if errors.Is(err, ErrSlotFull) {
			// A reschedule that overlaps its old time takes some of the
			// freed seats itself, so nothing is left to offer. The hold
			// row is already written, so it is stored as cancelled and
			// the entry keeps waiting.
			return s.dropOffer(ctx, tx, &hold, now)
		}
		return err
	}
	e.Status, e.OfferedAppointmentID, e.Updated = WaitlistOffered, hold.ID, now
	if err := tx.PutWaitlistEntry(ctx, *e); err != nil {
		return err
	}
	if err := emit(ctx, tx, now, "scheduling.appointment.held", &hold, nil); err != nil {
		return err
	}
	s.log.DebugContext(ctx, "offered freed slot to waitlist", "entry", e.ID, "appointment", hold.ID)
	return emitWaitlist(ctx, tx, "scheduling.waitlist.offered", e, hold.ID, now)
}

// dropOffer cancels a hold created for an offer whose seats were taken.
func (s *Service) dropOffer(ctx context.Context, tx Tx, hold *Appointment, now time.Time) error {
	hold.Status, hold.Version, hold.Updated = StatusCancelled, hold.Version+1, now
	hold.HoldExpires, hold.CancelReason = time.Time{}, "slot-taken"
	return tx.PutAppointment(ctx, *hold, "slot-taken")
}

// markWaitlist moves the waitlist entry that appointment a was offered
// to, if any and if still offered, to status.
func (s *Service) markWaitlist(ctx context.Context, tx Tx, a *Appointment, status WaitlistStatus, now time.Time) error {
	if a.WaitlistEntryID == "" {
		return nil
	}
	e, err := tx.GetWaitlistEntry(ctx, a.WaitlistEntryID)
	if err != nil {
		return err
	}
	if e.Status != WaitlistOffered || e.OfferedAppointmentID != a.ID {
		return nil
	}
	e.Status, e.Updated = status, now
	if err := tx.PutWaitlistEntry(ctx, *e); err != nil {
		return err
	}
	return emitWaitlist(ctx, tx, "scheduling.waitlist."+string(status), e, a.ID, now)
}

func emitWaitlist(ctx context.Context, tx Tx, typ string, e *WaitlistEntry, appointmentID string, now time.Time) error {
	data := map[string]any{"status": e.Status, "appointment_type": e.AppointmentType}
	if e.Actor != (Actor{}) {
		data["actor"] = e.Actor.String()
	}
	ev := Event{Type: typ, AppointmentID: appointmentID, WaitlistEntryID: e.ID, Time: now, Data: encodeData(data)}
	if err := tx.Emit(ctx, ev); err != nil {
		return fmt.Errorf("emit %s for waitlist entry %s: %w", typ, e.ID, err)
	}
	return nil
}

func (s *Service) presentEntry(e *WaitlistEntry) *WaitlistEntry {
	out := *e
	out.From, out.To = e.From.In(s.loc), e.To.In(s.loc)
	out.Created, out.Updated = e.Created.In(s.loc), e.Updated.In(s.loc)
	return &out
}

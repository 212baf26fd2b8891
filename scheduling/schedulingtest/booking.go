package schedulingtest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

func testBooking(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{TimeZone: "Europe/Berlin"})
	f.Type(t, "op", 60*time.Minute, 0, 15*time.Minute)
	surgeon, theatre, laser := Practitioner("book-surgeon"), Room("book-theatre"), Device("book-laser")
	for _, a := range []scheduling.Actor{surgeon, theatre, laser} {
		f.Schedule(t, a, scheduling.CreateScheduleParams{}, "08:00", "16:00", Weekdays...)
	}
	start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

	t.Run("book with several actors", func(t *testing.T) {
		a := f.Book(t, "pat-book-1", "op", start, theatre, surgeon, laser)
		assert.Equal(t, scheduling.StatusBooked, a.Status)
		assert.Equal(t, int64(1), a.Version)
		assert.Equal(t, []scheduling.Actor{laser, theatre, surgeon}, a.Participants, "participants are sorted by kind and id")
		assert.Equal(t, start, a.Start.UTC())
		assert.Equal(t, start.Add(time.Hour), a.End.UTC())
		assert.Equal(t, "Europe/Berlin", a.Start.Location().String())

		got, err := f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, a.Participants, got.Participants)
		assert.Equal(t, "pat-book-1", got.PatientID)
		assert.True(t, a.Start.Equal(got.Start))

		for _, actor := range []scheduling.Actor{surgeon, theatre, laser} {
			_, err := f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-book-2", AppointmentType: "op", Actors: []scheduling.Actor{actor}, Start: start.Add(30 * time.Minute)})
			assert.ErrorIs(t, err, scheduling.ErrSlotFull, "%s is busy", actor)
		}
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-book-2", AppointmentType: "op", Actors: []scheduling.Actor{surgeon}, Start: start.Add(time.Hour)})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull, "the 15-minute turnover buffer keeps the surgeon busy until 11:15")
		f.Book(t, "pat-book-2", "op", start.Add(75*time.Minute), surgeon)
	})
	t.Run("outside availability", func(t *testing.T) {
		_, err := f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-book-3", AppointmentType: "op", Actors: []scheduling.Actor{surgeon}, Start: time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)})
		assert.ErrorIs(t, err, scheduling.ErrUnavailable, "15:30 UTC is 16:30 in Berlin, after the rule ends")
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-book-3", AppointmentType: "op", Actors: []scheduling.Actor{surgeon}, Start: time.Date(2025, 3, 8, 10, 0, 0, 0, time.UTC)})
		assert.ErrorIs(t, err, scheduling.ErrUnavailable, "no rule on Saturday")
		assert.ErrorIs(t, err, scheduling.ErrConflict)
	})
	t.Run("invalid requests", func(t *testing.T) {
		cases := []struct {
			name string
			p    scheduling.BookParams
			want error
		}{
			{"no patient", scheduling.BookParams{AppointmentType: "op", Actors: []scheduling.Actor{surgeon}, Start: start}, scheduling.ErrInvalid},
			{"no actors", scheduling.BookParams{PatientID: "p", AppointmentType: "op", Start: start}, scheduling.ErrInvalid},
			{"actor twice", scheduling.BookParams{PatientID: "p", AppointmentType: "op", Actors: []scheduling.Actor{surgeon, surgeon}, Start: start}, scheduling.ErrInvalid},
			{"unknown type", scheduling.BookParams{PatientID: "p", AppointmentType: "nope", Actors: []scheduling.Actor{surgeon}, Start: start}, scheduling.ErrNotFound},
			{"past", scheduling.BookParams{PatientID: "p", AppointmentType: "op", Actors: []scheduling.Actor{surgeon}, Start: Start.Add(-24 * time.Hour)}, scheduling.ErrInvalid},
			{"unknown actor", scheduling.BookParams{PatientID: "p", AppointmentType: "op", Actors: []scheduling.Actor{Practitioner("ghost")}, Start: start}, scheduling.ErrNotFound},
		}
		for _, c := range cases {
			_, err := f.Service.Book(f.Ctx, c.p)
			assert.ErrorIs(t, err, c.want, c.name)
		}
	})
	t.Run("inactive schedule takes no bookings", func(t *testing.T) {
		list, err := f.Service.ListSchedules(f.Ctx, scheduling.ScheduleFilter{Actors: []scheduling.Actor{laser}})
		require.NoError(t, err)
		require.Len(t, list, 1)
		sc := list[0]
		sc.Active = false
		_, err = f.Service.UpdateSchedule(f.Ctx, sc)
		require.NoError(t, err)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-book-4", AppointmentType: "op", Actors: []scheduling.Actor{laser}, Start: start.Add(24 * time.Hour)})
		assert.ErrorIs(t, err, scheduling.ErrUnavailable)
		sc.Active = true
		_, err = f.Service.UpdateSchedule(f.Ctx, sc)
		require.NoError(t, err)
	})
	t.Run("list by actor and patient", func(t *testing.T) {
		list, err := f.Service.ListAppointments(f.Ctx, scheduling.AppointmentFilter{Actors: []scheduling.Actor{theatre}})
		require.NoError(t, err)
		assert.Len(t, list, 1)
		list, err = f.Service.ListAppointments(f.Ctx, scheduling.AppointmentFilter{Actors: []scheduling.Actor{surgeon}, From: start.Add(70 * time.Minute), To: start.Add(3 * time.Hour)})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "pat-book-2", list[0].PatientID)
		list, err = f.Service.ListAppointments(f.Ctx, scheduling.AppointmentFilter{PatientID: "pat-book-1", Statuses: []scheduling.Status{scheduling.StatusBooked}})
		require.NoError(t, err)
		assert.Len(t, list, 1)
	})
}

func testTransitions(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	f.Type(t, "consult", 15*time.Minute, 0, 0)
	doc := Practitioner("tr-doc")
	f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "08:00", "18:00", Weekdays...)
	slot := utc(3, 3, 8, 0)
	next := func() time.Time { slot = slot.Add(15 * time.Minute); return slot }

	t.Run("full visit", func(t *testing.T) {
		a := f.Book(t, "pat-tr-1", "consult", next(), doc)
		a, err := f.Service.Arrive(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusArrived, a.Status)
		a, err = f.Service.CheckIn(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCheckedIn, a.Status)
		a, err = f.Service.Fulfil(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusFulfilled, a.Status)
		assert.Equal(t, int64(4), a.Version)

		history, err := f.Service.AppointmentHistory(f.Ctx, a.ID)
		require.NoError(t, err)
		var statuses []scheduling.Status
		for _, v := range history {
			statuses = append(statuses, v.Status)
		}
		assert.Equal(t, []scheduling.Status{scheduling.StatusBooked, scheduling.StatusArrived, scheduling.StatusCheckedIn, scheduling.StatusFulfilled}, statuses)
	})
	t.Run("invalid transitions name both statuses", func(t *testing.T) {
		a := f.Book(t, "pat-tr-2", "consult", next(), doc)
		_, err := f.Service.Fulfil(f.Ctx, a.ID)
		require.ErrorIs(t, err, scheduling.ErrInvalidTransition, "booked cannot jump to fulfilled")
		var te *scheduling.TransitionError
		require.True(t, errors.As(err, &te))
		assert.Equal(t, scheduling.StatusBooked, te.From)
		assert.Equal(t, scheduling.StatusFulfilled, te.To)
		assert.Contains(t, err.Error(), "from booked to fulfilled")

		_, err = f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: a.ID, Reason: "patient-request"})
		require.NoError(t, err)
		for name, op := range map[string]func(string) (*scheduling.Appointment, error){
			"arrive":   func(id string) (*scheduling.Appointment, error) { return f.Service.Arrive(f.Ctx, id) },
			"check in": func(id string) (*scheduling.Appointment, error) { return f.Service.CheckIn(f.Ctx, id) },
			"no-show":  func(id string) (*scheduling.Appointment, error) { return f.Service.NoShow(f.Ctx, id) },
			"cancel": func(id string) (*scheduling.Appointment, error) {
				return f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: id})
			},
		} {
			_, err := op(a.ID)
			assert.ErrorIs(t, err, scheduling.ErrInvalidTransition, "%s after cancellation", name)
		}
		a, err = f.Service.MarkEnteredInError(f.Ctx, a.ID, "duplicate")
		require.NoError(t, err, "a cancelled record can still be corrected")
		_, err = f.Service.MarkEnteredInError(f.Ctx, a.ID, "again")
		assert.ErrorIs(t, err, scheduling.ErrInvalidTransition)
	})
	t.Run("status table", func(t *testing.T) {
		cases := []struct {
			from, to scheduling.Status
			ok       bool
		}{
			{scheduling.StatusProposed, scheduling.StatusBooked, true},
			{scheduling.StatusWaitlist, scheduling.StatusPending, true},
			{scheduling.StatusPending, scheduling.StatusArrived, false},
			{scheduling.StatusBooked, scheduling.StatusNoShow, true},
			{scheduling.StatusArrived, scheduling.StatusNoShow, false},
			{scheduling.StatusCheckedIn, scheduling.StatusArrived, true},
			{scheduling.StatusFulfilled, scheduling.StatusBooked, false},
			{scheduling.StatusNoShow, scheduling.StatusBooked, false},
			{scheduling.StatusEnteredInError, scheduling.StatusBooked, false},
		}
		for _, c := range cases {
			assert.Equal(t, c.ok, c.from.CanMoveTo(c.to), "%s to %s", c.from, c.to)
		}
	})
	t.Run("cancel frees the seat", func(t *testing.T) {
		at := next()
		a := f.Book(t, "pat-tr-3", "consult", at, doc)
		a, err := f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: a.ID, Reason: "clinic-closed"})
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCancelled, a.Status)
		assert.Equal(t, "clinic-closed", a.CancelReason)
		f.Book(t, "pat-tr-4", "consult", at, doc)
	})
	t.Run("no-show keeps the seat and the record", func(t *testing.T) {
		at := next()
		a := f.Book(t, "pat-tr-5", "consult", at, doc)
		_, err := f.Service.NoShow(f.Ctx, a.ID)
		require.NoError(t, err)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-tr-6", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull)

		b := f.Book(t, "pat-tr-5", "consult", next(), doc)
		_, err = f.Service.Arrive(f.Ctx, b.ID)
		require.NoError(t, err)
		_, err = f.Service.Fulfil(f.Ctx, b.ID)
		require.NoError(t, err)
		c := f.Book(t, "pat-tr-5", "consult", next(), doc)
		_, err = f.Service.NoShow(f.Ctx, c.ID)
		require.NoError(t, err)

		rec, err := f.Service.NoShowHistory(f.Ctx, "pat-tr-5")
		require.NoError(t, err)
		assert.Len(t, rec.NoShows, 2)
		assert.Equal(t, 1, rec.Fulfilled)
		assert.InDelta(t, 2.0/3.0, rec.Rate(), 1e-9)
		empty, err := f.Service.NoShowHistory(f.Ctx, "pat-tr-none")
		require.NoError(t, err)
		assert.Empty(t, empty.NoShows)
		assert.Zero(t, empty.Rate())
	})
	t.Run("unknown appointment", func(t *testing.T) {
		_, err := f.Service.Arrive(f.Ctx, "no-such-appointment")
		assert.ErrorIs(t, err, scheduling.ErrNotFound)
		_, err = f.Service.GetAppointment(f.Ctx, "no-such-appointment")
		assert.ErrorIs(t, err, scheduling.ErrNotFound)
		_, err = f.Service.AppointmentHistory(f.Ctx, "no-such-appointment")
		assert.ErrorIs(t, err, scheduling.ErrNotFound)
	})
}

func testHolds(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{HoldTTL: 5 * time.Minute})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	doc := Practitioner("hold-doc")
	f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "12:00", Weekdays...)
	at := utc(3, 3, 9, 0)

	t.Run("hold then book", func(t *testing.T) {
		h, err := f.Service.Hold(f.Ctx, scheduling.HoldParams{PatientID: "pat-hold-1", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at})
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusPending, h.Status)
		assert.Equal(t, Start.Add(5*time.Minute), h.HoldExpires.UTC())
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-hold-2", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull, "a hold keeps its seat")

		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID, PatientID: "pat-hold-2"})
		assert.ErrorIs(t, err, scheduling.ErrInvalid, "another patient cannot take the hold")
		b, err := f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID})
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusBooked, b.Status)
		assert.True(t, b.HoldExpires.IsZero())
		assert.Equal(t, h.ID, b.ID)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID})
		assert.ErrorIs(t, err, scheduling.ErrInvalidTransition, "booked twice")
	})
	t.Run("lapsed hold yields to a booking", func(t *testing.T) {
		slot := at.Add(30 * time.Minute)
		h, err := f.Service.Hold(f.Ctx, scheduling.HoldParams{PatientID: "pat-hold-3", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: slot})
		require.NoError(t, err)
		f.Clock.Advance(6 * time.Minute)
		f.Book(t, "pat-hold-4", "consult", slot, doc)
		got, err := f.Service.GetAppointment(f.Ctx, h.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCancelled, got.Status)
		assert.Equal(t, "hold-expired", got.CancelReason)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID})
		assert.ErrorIs(t, err, scheduling.ErrInvalidTransition)
	})
	t.Run("lapsed hold cannot be booked", func(t *testing.T) {
		h, err := f.Service.Hold(f.Ctx, scheduling.HoldParams{PatientID: "pat-hold-5", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at.Add(time.Hour), TTL: time.Minute})
		require.NoError(t, err)
		f.Clock.Advance(2 * time.Minute)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID})
		assert.ErrorIs(t, err, scheduling.ErrHoldExpired)
		assert.ErrorIs(t, err, scheduling.ErrConflict)
	})
	t.Run("sweep releases lapsed holds", func(t *testing.T) {
		n, err := f.Service.ReleaseExpiredHolds(f.Ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		f.Book(t, "pat-hold-6", "consult", at.Add(time.Hour), doc)
		n, err = f.Service.ReleaseExpiredHolds(f.Ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("cancelled hold frees its seat", func(t *testing.T) {
		slot := at.Add(90 * time.Minute)
		h, err := f.Service.Hold(f.Ctx, scheduling.HoldParams{PatientID: "pat-hold-7", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: slot})
		require.NoError(t, err)
		_, err = f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: h.ID, Reason: "declined"})
		require.NoError(t, err)
		f.Book(t, "pat-hold-8", "consult", slot, doc)
	})
}

func testReschedule(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	docA, docB := Practitioner("re-a"), Practitioner("re-b")
	f.Schedule(t, docA, scheduling.CreateScheduleParams{}, "09:00", "12:00", Weekdays...)
	f.Schedule(t, docB, scheduling.CreateScheduleParams{}, "09:00", "12:00", Weekdays...)
	at := utc(3, 3, 9, 0)

	t.Run("links old and new", func(t *testing.T) {
		old := f.Book(t, "pat-re-1", "consult", at, docA)
		moved, err := f.Service.Reschedule(f.Ctx, scheduling.RescheduleParams{AppointmentID: old.ID, Start: at.Add(time.Hour)})
		require.NoError(t, err)
		assert.NotEqual(t, old.ID, moved.ID)
		assert.Equal(t, old.ID, moved.Replaces)
		assert.Equal(t, scheduling.StatusBooked, moved.Status)
		assert.Equal(t, "pat-re-1", moved.PatientID)
		assert.Equal(t, []scheduling.Actor{docA}, moved.Participants)

		prev, err := f.Service.GetAppointment(f.Ctx, old.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCancelled, prev.Status)
		assert.Equal(t, moved.ID, prev.ReplacedBy)
		assert.Equal(t, "rescheduled", prev.CancelReason)
		history, err := f.Service.AppointmentHistory(f.Ctx, old.ID)
		require.NoError(t, err)
		require.Len(t, history, 2)
		assert.Equal(t, scheduling.StatusBooked, history[0].Status)
		assert.Equal(t, scheduling.StatusCancelled, history[1].Status)
		assert.True(t, history[0].Start.Equal(at))

		f.Book(t, "pat-re-2", "consult", at, docA)
	})
	t.Run("small move reuses its own seats", func(t *testing.T) {
		old := f.Book(t, "pat-re-3", "consult", at.Add(2*time.Hour), docA)
		moved, err := f.Service.Reschedule(f.Ctx, scheduling.RescheduleParams{AppointmentID: old.ID, Start: at.Add(2*time.Hour + 15*time.Minute)})
		require.NoError(t, err)
		assert.True(t, moved.Start.Equal(at.Add(2*time.Hour+15*time.Minute)))
	})
	t.Run("to another actor", func(t *testing.T) {
		old := f.Book(t, "pat-re-4", "consult", at.Add(24*time.Hour), docA)
		moved, err := f.Service.Reschedule(f.Ctx, scheduling.RescheduleParams{AppointmentID: old.ID, Start: at.Add(24 * time.Hour), Actors: []scheduling.Actor{docB}, Reason: "doctor-ill"})
		require.NoError(t, err)
		assert.Equal(t, []scheduling.Actor{docB}, moved.Participants)
		prev, err := f.Service.GetAppointment(f.Ctx, old.ID)
		require.NoError(t, err)
		assert.Equal(t, "doctor-ill", prev.CancelReason)
	})
	t.Run("to a full slot keeps the original", func(t *testing.T) {
		blocker := f.Book(t, "pat-re-5", "consult", at.Add(48*time.Hour), docA)
		old := f.Book(t, "pat-re-6", "consult", at.Add(49*time.Hour), docA)
		_, err := f.Service.Reschedule(f.Ctx, scheduling.RescheduleParams{AppointmentID: old.ID, Start: blocker.Start})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull)
		got, err := f.Service.GetAppointment(f.Ctx, old.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusBooked, got.Status)
		assert.Equal(t, int64(1), got.Version)
	})
	t.Run("finished appointment cannot move", func(t *testing.T) {
		a := f.Book(t, "pat-re-7", "consult", at.Add(72*time.Hour), docA)
		_, err := f.Service.Arrive(f.Ctx, a.ID)
		require.NoError(t, err)
		_, err = f.Service.Reschedule(f.Ctx, scheduling.RescheduleParams{AppointmentID: a.ID, Start: at.Add(73 * time.Hour)})
		assert.ErrorIs(t, err, scheduling.ErrInvalidTransition)
	})
}

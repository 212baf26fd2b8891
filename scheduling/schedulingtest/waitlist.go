package schedulingtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

func testWaitlist(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{OfferTTL: time.Hour})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	f.Type(t, "review", 30*time.Minute, 0, 0)
	doc, other := Practitioner("wl-doc"), Practitioner("wl-other")
	f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
	f.Schedule(t, other, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
	at := utc(3, 3, 9, 0)
	join := func(t *testing.T, patient, typ string, actor scheduling.Actor, from, to time.Time) *scheduling.WaitlistEntry {
		t.Helper()
		e, err := f.Service.JoinWaitlist(f.Ctx, scheduling.JoinWaitlistParams{PatientID: patient, AppointmentType: typ, Actor: actor, From: from, To: to})
		require.NoError(t, err)
		assert.Equal(t, scheduling.WaitlistWaiting, e.Status)
		return e
	}
	entry := func(t *testing.T, id string) *scheduling.WaitlistEntry {
		t.Helper()
		e, err := f.Service.GetWaitlistEntry(f.Ctx, id)
		require.NoError(t, err)
		return e
	}

	first := f.Book(t, "pat-wl-0", "consult", at, doc)
	wrongType := join(t, "pat-wl-1", "review", scheduling.Actor{}, at, at.Add(time.Hour))
	wrongActor := join(t, "pat-wl-2", "consult", other, at, at.Add(time.Hour))
	tooLate := join(t, "pat-wl-3", "consult", scheduling.Actor{}, at.Add(15*time.Minute), at.Add(time.Hour))
	f.Clock.Advance(time.Second)
	eligible := join(t, "pat-wl-4", "consult", doc, at.Add(-time.Hour), at.Add(time.Hour))
	f.Clock.Advance(time.Second)
	second := join(t, "pat-wl-5", "consult", scheduling.Actor{}, at, at.Add(2*time.Hour))
	f.Clock.Advance(time.Second)
	third := join(t, "pat-wl-6", "consult", scheduling.Actor{}, at, at.Add(2*time.Hour))

	t.Run("cancellation offers the oldest eligible entry", func(t *testing.T) {
		_, err := f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: first.ID, Reason: "patient-request"})
		require.NoError(t, err)
		e := entry(t, eligible.ID)
		require.Equal(t, scheduling.WaitlistOffered, e.Status)
		for _, id := range []string{wrongType.ID, wrongActor.ID, tooLate.ID, second.ID} {
			assert.Equal(t, scheduling.WaitlistWaiting, entry(t, id).Status, "entry %s keeps waiting", id)
		}
		hold, err := f.Service.GetAppointment(f.Ctx, e.OfferedAppointmentID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusPending, hold.Status)
		assert.Equal(t, "pat-wl-4", hold.PatientID)
		assert.Equal(t, eligible.ID, hold.WaitlistEntryID)
		assert.True(t, hold.Start.Equal(at))
		assert.Equal(t, f.Clock.Now().Add(time.Hour), hold.HoldExpires.UTC())

		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-wl-9", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull, "the offer holds the seat")

		booked, err := f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: hold.ID, PatientID: "pat-wl-4"})
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusBooked, booked.Status)
		assert.Equal(t, scheduling.WaitlistBooked, entry(t, eligible.ID).Status)
	})
	t.Run("lapsed offer passes to the next entry", func(t *testing.T) {
		a, err := f.Service.ListAppointments(f.Ctx, scheduling.AppointmentFilter{PatientID: "pat-wl-4", Statuses: []scheduling.Status{scheduling.StatusBooked}})
		require.NoError(t, err)
		require.Len(t, a, 1)
		_, err = f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: a[0].ID})
		require.NoError(t, err)
		require.Equal(t, scheduling.WaitlistOffered, entry(t, second.ID).Status)

		f.Clock.Advance(61 * time.Minute)
		n, err := f.Service.ReleaseExpiredHolds(f.Ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Equal(t, scheduling.WaitlistExpired, entry(t, second.ID).Status)
		e := entry(t, third.ID)
		require.Equal(t, scheduling.WaitlistOffered, e.Status)
		hold, err := f.Service.GetAppointment(f.Ctx, e.OfferedAppointmentID)
		require.NoError(t, err)
		assert.Equal(t, "pat-wl-6", hold.PatientID)
	})
	t.Run("withdrawal cancels the offer", func(t *testing.T) {
		e := entry(t, third.ID)
		left, err := f.Service.LeaveWaitlist(f.Ctx, third.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.WaitlistWithdrawn, left.Status)
		hold, err := f.Service.GetAppointment(f.Ctx, e.OfferedAppointmentID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCancelled, hold.Status)
		_, err = f.Service.LeaveWaitlist(f.Ctx, third.ID)
		assert.ErrorIs(t, err, scheduling.ErrConflict)
		f.Book(t, "pat-wl-7", "consult", at, doc)
	})
	t.Run("list entries", func(t *testing.T) {
		list, err := f.Service.ListWaitlist(f.Ctx, scheduling.WaitlistFilter{Statuses: []scheduling.WaitlistStatus{scheduling.WaitlistWaiting}})
		require.NoError(t, err)
		assert.Len(t, list, 3)
		list, err = f.Service.ListWaitlist(f.Ctx, scheduling.WaitlistFilter{PatientID: "pat-wl-5"})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, scheduling.WaitlistExpired, list[0].Status)
	})
	t.Run("invalid entries", func(t *testing.T) {
		_, err := f.Service.JoinWaitlist(f.Ctx, scheduling.JoinWaitlistParams{PatientID: "pat-wl-8", AppointmentType: "consult", From: at, To: at})
		assert.ErrorIs(t, err, scheduling.ErrInvalid)
		_, err = f.Service.JoinWaitlist(f.Ctx, scheduling.JoinWaitlistParams{PatientID: "pat-wl-8", AppointmentType: "nope", From: at, To: at.Add(time.Hour)})
		assert.ErrorIs(t, err, scheduling.ErrNotFound)
		_, err = f.Service.GetWaitlistEntry(f.Ctx, "no-such-entry")
		assert.ErrorIs(t, err, scheduling.ErrNotFound)
	})
}

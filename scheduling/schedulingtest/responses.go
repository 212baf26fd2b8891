package schedulingtest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

func testResponses(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{TimeZone: "UTC"})
	f.Type(t, "visit", 30*time.Minute, 0, 0)
	doc, room := Practitioner("resp-doc"), Room("resp-room")
	for _, a := range []scheduling.Actor{doc, room} {
		f.Schedule(t, a, scheduling.CreateScheduleParams{}, "08:00", "16:00", Weekdays...)
	}
	slot := utc(time.March, 3, 8, 0)
	next := func() time.Time {
		slot = slot.Add(30 * time.Minute)
		return slot
	}
	propose := func(t *testing.T, patient string, at time.Time) *scheduling.Appointment {
		t.Helper()
		a, err := f.Service.Propose(f.Ctx, scheduling.BookParams{PatientID: patient, AppointmentType: "visit", Actors: []scheduling.Actor{doc, room}, Start: at})
		require.NoError(t, err)
		require.Equal(t, scheduling.StatusProposed, a.Status)
		return a
	}
	respond := func(id string, who scheduling.Actor, status scheduling.ResponseStatus) (*scheduling.Response, error) {
		return f.Service.Respond(f.Ctx, scheduling.RespondParams{AppointmentID: id, Participant: who, Status: status})
	}
	patient := func(id string) scheduling.Actor { return scheduling.Actor{Kind: scheduling.Patient, ID: id} }

	t.Run("all accept books a proposal", func(t *testing.T) {
		a := propose(t, "pat-resp-1", next())
		r, err := f.Service.Respond(f.Ctx, scheduling.RespondParams{AppointmentID: a.ID, Participant: doc, Status: scheduling.ResponseAccepted, Comment: "fine"})
		require.NoError(t, err)
		assert.NotEmpty(t, r.ID)
		assert.Equal(t, "fine", r.Comment)
		_, err = respond(a.ID, room, scheduling.ResponseAccepted)
		require.NoError(t, err)
		got, err := f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusProposed, got.Status, "the patient has not accepted yet")

		_, err = respond(a.ID, patient("pat-resp-1"), scheduling.ResponseAccepted)
		require.NoError(t, err)
		got, err = f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusBooked, got.Status)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-resp-x", AppointmentType: "visit", Actors: []scheduling.Actor{doc}, Start: a.Start})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull, "the booked proposal holds the seat")

		list, err := f.Service.ListResponses(f.Ctx, scheduling.ResponseFilter{AppointmentIDs: []string{a.ID}})
		require.NoError(t, err)
		require.Len(t, list, 3)
		assert.Equal(t, r.ID, list[0].ID)
		read, err := f.Service.GetResponse(f.Ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, doc, read.Participant)
		assert.Equal(t, scheduling.ResponseAccepted, read.Status)
	})
	t.Run("decline cancels a proposal", func(t *testing.T) {
		a := propose(t, "pat-resp-2", next())
		_, err := respond(a.ID, room, scheduling.ResponseDeclined)
		require.NoError(t, err)
		got, err := f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusCancelled, got.Status)
		assert.Equal(t, "declined by participant", got.CancelReason)

		_, err = respond(a.ID, doc, scheduling.ResponseAccepted)
		assert.ErrorIs(t, err, scheduling.ErrInvalidTransition, "a cancelled appointment takes no responses")
	})
	t.Run("tentative keeps the status", func(t *testing.T) {
		a := propose(t, "pat-resp-3", next())
		_, err := respond(a.ID, doc, scheduling.ResponseTentative)
		require.NoError(t, err)
		got, err := f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusProposed, got.Status)
	})
	t.Run("all accept books a hold", func(t *testing.T) {
		h, err := f.Service.Hold(f.Ctx, scheduling.HoldParams{PatientID: "pat-resp-4", AppointmentType: "visit", Actors: []scheduling.Actor{doc}, Start: next()})
		require.NoError(t, err)
		_, err = respond(h.ID, doc, scheduling.ResponseAccepted)
		require.NoError(t, err)
		_, err = respond(h.ID, patient("pat-resp-4"), scheduling.ResponseAccepted)
		require.NoError(t, err)
		got, err := f.Service.GetAppointment(f.Ctx, h.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusBooked, got.Status)
	})
	t.Run("response on booked keeps it", func(t *testing.T) {
		a := f.Book(t, "pat-resp-5", "visit", next(), doc)
		_, err := respond(a.ID, doc, scheduling.ResponseDeclined)
		require.NoError(t, err)
		got, err := f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusBooked, got.Status)
	})
	t.Run("invalid responses", func(t *testing.T) {
		a := propose(t, "pat-resp-6", next())
		_, err := respond(a.ID, Device("resp-other"), scheduling.ResponseAccepted)
		assert.ErrorIs(t, err, scheduling.ErrInvalid, "an actor not on the appointment")
		_, err = respond(a.ID, patient("pat-other"), scheduling.ResponseAccepted)
		assert.ErrorIs(t, err, scheduling.ErrInvalid, "another patient")
		_, err = respond(a.ID, doc, "maybe")
		assert.ErrorIs(t, err, scheduling.ErrInvalid, "an unknown status")
		_, err = respond("resp-missing", doc, scheduling.ResponseAccepted)
		assert.ErrorIs(t, err, scheduling.ErrNotFound)

		b := f.Book(t, "pat-resp-7", "visit", next(), doc)
		_, err = f.Service.Fulfil(f.Ctx, b.ID)
		require.ErrorIs(t, err, scheduling.ErrInvalidTransition, "booked cannot be fulfilled before arrival")
		_, err = f.Service.MarkEnteredInError(f.Ctx, b.ID, "duplicate")
		require.NoError(t, err)
		_, err = respond(b.ID, doc, scheduling.ResponseAccepted)
		assert.ErrorIs(t, err, scheduling.ErrInvalidTransition, "entered in error")
	})
	t.Run("seats gone keeps the response", func(t *testing.T) {
		at := next()
		a := propose(t, "pat-resp-8", at)
		f.Book(t, "pat-resp-9", "visit", at, doc)
		_, err := respond(a.ID, doc, scheduling.ResponseAccepted)
		require.NoError(t, err)
		_, err = respond(a.ID, room, scheduling.ResponseAccepted)
		require.NoError(t, err)
		r, err := respond(a.ID, patient("pat-resp-8"), scheduling.ResponseAccepted)
		assert.ErrorIs(t, err, scheduling.ErrSlotFull)
		require.NotNil(t, r, "the response is stored")
		got, err := f.Service.GetAppointment(f.Ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, scheduling.StatusProposed, got.Status)
		list, err := f.Service.ListResponses(f.Ctx, scheduling.ResponseFilter{AppointmentIDs: []string{a.ID}, Participant: patient("pat-resp-8")})
		require.NoError(t, err)
		assert.Len(t, list, 1)
	})
	t.Run("events per response", func(t *testing.T) {
		a := propose(t, "pat-resp-10", next())
		_, err := respond(a.ID, doc, scheduling.ResponseTentative)
		require.NoError(t, err)
		events, err := f.Service.Events(f.Ctx, 0, 10000)
		require.NoError(t, err)
		found := 0
		for _, e := range events {
			if e.AppointmentID == a.ID && e.Type == "scheduling.appointment.responded" {
				found++
				assert.Contains(t, string(e.Data), `"participant_status":"tentative"`)
			}
		}
		assert.Equal(t, 1, found)
	})
	t.Run("concurrent acceptance books one", func(t *testing.T) {
		at := next()
		proposals := []*scheduling.Appointment{propose(t, "pat-resp-11", at), propose(t, "pat-resp-12", at)}
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for _, a := range proposals {
			for _, who := range []scheduling.Actor{doc, room, patient(a.PatientID)} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := respond(a.ID, who, scheduling.ResponseAccepted)
					errs <- err
				}()
			}
		}
		wg.Wait()
		close(errs)
		full := 0
		for err := range errs {
			if err != nil {
				assert.ErrorIs(t, err, scheduling.ErrSlotFull)
				full++
			}
		}
		assert.Equal(t, 1, full, "the last acceptance of the losing proposal finds the seats gone")
		booked := 0
		for _, a := range proposals {
			got, err := f.Service.GetAppointment(f.Ctx, a.ID)
			require.NoError(t, err)
			if got.Status == scheduling.StatusBooked {
				booked++
			}
		}
		assert.Equal(t, 1, booked)
	})
}

package schedulingtest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

func testEvents(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{ReminderLeads: []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour}})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	doc := Practitioner("ev-doc")
	f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "12:00", Weekdays...)
	at := utc(3, 4, 9, 0) // 3 days and 9 hours after the clock's start

	a := f.Book(t, "pat-ev-1", "consult", at, doc)
	events, err := f.Service.Events(f.Ctx, 0, 100)
	require.NoError(t, err)
	var types []string
	var reminders []scheduling.Event
	for _, e := range events {
		types = append(types, e.Type)
		if e.Type == "scheduling.reminder.due" {
			reminders = append(reminders, e)
		}
	}
	require.Equal(t, []string{"scheduling.appointment.booked", "scheduling.reminder.due", "scheduling.reminder.due"}, types,
		"the 7-day reminder would be due before the booking and is left out")
	assert.Equal(t, at.Add(-24*time.Hour), reminders[0].DueAt.UTC())
	assert.Equal(t, at.Add(-time.Hour), reminders[1].DueAt.UTC())
	for i, e := range events {
		assert.Equal(t, a.ID, e.AppointmentID)
		assert.Equal(t, int64(1), e.Version)
		if i > 0 {
			assert.Greater(t, e.Position, events[i-1].Position)
		}
		var data map[string]any
		require.NoError(t, json.Unmarshal(e.Data, &data))
		assert.Equal(t, "booked", data["status"])
		assert.Equal(t, []any{"Practitioner/ev-doc"}, data["participants"])
	}

	_, err = f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: a.ID, Reason: "patient-request"})
	require.NoError(t, err)
	later, err := f.Service.Events(f.Ctx, events[len(events)-1].Position, 100)
	require.NoError(t, err)
	require.Len(t, later, 1)
	assert.Equal(t, "scheduling.appointment.cancelled", later[0].Type)
	assert.Equal(t, int64(2), later[0].Version)

	b := f.Book(t, "pat-ev-2", "consult", at, doc)
	_, err = f.Service.Reschedule(f.Ctx, scheduling.RescheduleParams{AppointmentID: b.ID, Start: at.Add(time.Hour)})
	require.NoError(t, err)
	all, err := f.Service.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)
	counts := map[string]int{}
	for _, e := range all {
		counts[e.Type]++
	}
	assert.Equal(t, 1, counts["scheduling.appointment.rescheduled"])
	assert.Equal(t, 3, counts["scheduling.appointment.booked"])
	assert.Equal(t, 6, counts["scheduling.reminder.due"])

	page, err := f.Service.Events(f.Ctx, 0, 2)
	require.NoError(t, err)
	assert.Len(t, page, 2)
}

// testPatientData feeds a recognisable patient id through failing paths
// and checks that it appears in no error, log line or event.
func testPatientData(t *testing.T, newStore NewStore) {
	const patient = "Jane-Doe-MRN-4711"
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := NewFixture(t, newStore, scheduling.Config{Logger: logger, HoldTTL: time.Minute})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	doc := Practitioner("pd-doc")
	f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
	at := utc(3, 3, 9, 0)

	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	a := f.Book(t, patient, "consult", at, doc)
	collect(f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: patient, AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at}))
	collect(f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: patient, AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at.Add(-72 * time.Hour)}))
	collect(f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: patient, AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at.Add(3 * time.Hour)}))
	collect(f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: patient + "!", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at}))
	collect(f.Service.Fulfil(f.Ctx, a.ID))
	h, err := f.Service.Hold(f.Ctx, scheduling.HoldParams{PatientID: patient, AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at.Add(30 * time.Minute)})
	require.NoError(t, err)
	collect(f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID, PatientID: "someone-else"}))
	f.Clock.Advance(2 * time.Minute)
	collect(f.Service.Book(f.Ctx, scheduling.BookParams{HoldID: h.ID, PatientID: patient}))
	collect(f.Service.ReleaseExpiredHolds(f.Ctx))
	collect(f.Service.JoinWaitlist(f.Ctx, scheduling.JoinWaitlistParams{PatientID: patient, AppointmentType: "consult", From: at, To: at.Add(time.Hour)}))
	collect(f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: a.ID}))
	collect(f.Service.NoShowHistory(f.Ctx, patient+"?"))

	failures := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		failures++
		assert.NotContains(t, err.Error(), patient)
		assert.NotContains(t, err.Error(), "Jane")
	}
	assert.GreaterOrEqual(t, failures, 7, "the failing paths must fail")
	assert.NotContains(t, logs.String(), "Jane")
	events, err := f.Service.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, events)
	for _, e := range events {
		assert.False(t, strings.Contains(string(e.Data), "Jane"), "event %s", e.Type)
	}
}

func testStoreErrors(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	doc := Practitioner("err-doc")
	_, err := f.Service.CreateSchedule(f.Ctx, scheduling.CreateScheduleParams{Actor: doc})
	require.NoError(t, err)

	_, err = f.Service.CreateSchedule(f.Ctx, scheduling.CreateScheduleParams{Actor: doc})
	assert.ErrorIs(t, err, scheduling.ErrConflict, "one schedule per actor")
	_, err = f.Service.GetSchedule(f.Ctx, "no-such-schedule")
	assert.ErrorIs(t, err, scheduling.ErrNotFound)
	_, err = f.Service.CreateSchedule(f.Ctx, scheduling.CreateScheduleParams{Actor: Practitioner("err-zone"), TimeZone: "Mars/Olympus"})
	assert.ErrorIs(t, err, scheduling.ErrInvalid)
	_, err = f.Service.CreateSchedule(f.Ctx, scheduling.CreateScheduleParams{Actor: Practitioner("err-grid"), Granularity: 7 * time.Minute})
	assert.ErrorIs(t, err, scheduling.ErrInvalid)
	assert.ErrorIs(t, f.Service.PutAppointmentType(f.Ctx, scheduling.AppointmentType{Code: "x", Duration: 30 * time.Second}), scheduling.ErrInvalid)

	require.NoError(t, f.Service.PutAppointmentType(f.Ctx, scheduling.AppointmentType{Code: "b-type", Duration: time.Hour}))
	require.NoError(t, f.Service.PutAppointmentType(f.Ctx, scheduling.AppointmentType{Code: "a-type", Duration: time.Hour, BufferAfter: 10 * time.Minute}))
	require.NoError(t, f.Service.PutAppointmentType(f.Ctx, scheduling.AppointmentType{Code: "a-type", Duration: 45 * time.Minute, BufferAfter: 10 * time.Minute}))
	types, err := f.Service.ListAppointmentTypes(f.Ctx)
	require.NoError(t, err)
	require.Len(t, types, 2)
	assert.Equal(t, "a-type", types[0].Code)
	assert.Equal(t, 45*time.Minute, types[0].Duration)
	assert.Equal(t, 10*time.Minute, types[0].BufferAfter)

	list, err := f.Service.ListSchedules(f.Ctx, scheduling.ScheduleFilter{Kind: scheduling.Practitioner})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, doc, list[0].Actor)
	assert.Equal(t, scheduling.DefaultGranularity, list[0].Granularity)
	assert.True(t, list[0].Active)
}

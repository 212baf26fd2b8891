package fhir_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/scheduling"
	schedsql "github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// schedulingNow is the clock of the scheduling tests: Saturday 1 March
// 2025, 09:00 in Berlin.
var schedulingNow = time.Date(2025, time.March, 1, 8, 0, 0, 0, time.UTC)

// schedulingServer is a test server whose Schedule, Slot and Appointment
// go to a scheduling.Service on the same SQLite database as the clinical
// record. The clinic has a 20-minute "consult" type, Dr Weber on Mondays
// from 09:00 to 10:00 Berlin time and room-1 on Mondays from 09:00 to
// 12:00.
type schedulingServer struct {
	*testServer
	sched      *scheduling.Service
	weberID    string
	roomID     string
	weber      scheduling.Actor
	firstStart time.Time
}

func newSchedulingServer(t *testing.T) *schedulingServer {
	t.Helper()
	ctx := context.Background()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(ctx, sqlstore.Migrations()))
	require.NoError(t, db.Migrate(ctx, schedsql.Migrations()))
	clock := func() time.Time { return schedulingNow }
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	sched, err := scheduling.NewService(schedsql.New(db), scheduling.Config{TimeZone: "Europe/Berlin", Clock: clock})
	require.NoError(t, err)

	require.NoError(t, sched.PutAppointmentType(ctx, scheduling.AppointmentType{Code: "consult", Display: "Consultation", Duration: 20 * time.Minute}))
	weber := scheduling.Actor{Kind: scheduling.Practitioner, ID: "dr-weber"}
	room := scheduling.Actor{Kind: scheduling.Location, ID: "room-1"}
	s := &schedulingServer{sched: sched, weber: weber}
	for _, c := range []struct {
		actor scheduling.Actor
		end   int
		id    *string
	}{{weber, 10, &s.weberID}, {room, 12, &s.roomID}} {
		sc, err := sched.CreateSchedule(ctx, scheduling.CreateScheduleParams{Actor: c.actor, Name: c.actor.ID})
		require.NoError(t, err)
		_, err = sched.AddAvailability(ctx, scheduling.Availability{
			ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: time.Monday,
			StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(c.end, 0),
		})
		require.NoError(t, err)
		*c.id = sc.ID
	}
	s.firstStart = time.Date(2025, time.March, 3, 9, 0, 0, 0, sched.Location())

	logs := &syncBuffer{}
	h := http.StripPrefix("/fhir", fhir.NewHandler(fhir.Config{
		Service:    svc,
		Scheduling: sched,
		Clock:      clock,
		Logger:     slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}))
	mux := http.NewServeMux()
	mux.Handle("/fhir", h)
	mux.Handle("/fhir/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.testServer = &testServer{t: t, srv: srv, base: srv.URL + "/fhir", svc: svc, logs: logs}
	return s
}

// slotOf returns the id of Dr Weber's consult slot at start.
func (s *schedulingServer) slotOf(start time.Time) string {
	return s.weberID + "." + strconv.FormatInt(start.Unix(), 10) + ".consult"
}

// bookingBody returns an Appointment for patient pat-1 with Dr Weber, with
// extra added as further members, such as a slot or start and end.
func bookingBody(status, extra string) string {
	return `{"resourceType":"Appointment","status":"` + status + `",` + extra +
		`,"participant":[{"actor":{"reference":"Patient/pat-1"},"status":"accepted"},` +
		`{"actor":{"reference":"Practitioner/dr-weber"},"status":"accepted"}]}`
}

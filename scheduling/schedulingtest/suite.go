// Package schedulingtest is the conformance suite of scheduling.Store:
// every backend runs the same cases through a scheduling.Service and must
// give the same results, concurrency cases included. Outside backends can
// run it too:
//
//	func TestConformance(t *testing.T) {
//		schedulingtest.Run(t, func(t *testing.T) scheduling.Store { return newMyStore(t) })
//	}
package schedulingtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

// NewStore opens an empty, migrated store for one test.
type NewStore func(t *testing.T) scheduling.Store

// Run runs every area of the suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("availability", func(t *testing.T) { testAvailability(t, newStore) })
	t.Run("daylight saving", func(t *testing.T) { testDaylightSaving(t, newStore) })
	t.Run("slots", func(t *testing.T) { testSlots(t, newStore) })
	t.Run("booking", func(t *testing.T) { testBooking(t, newStore) })
	t.Run("transitions", func(t *testing.T) { testTransitions(t, newStore) })
	t.Run("holds", func(t *testing.T) { testHolds(t, newStore) })
	t.Run("reschedule", func(t *testing.T) { testReschedule(t, newStore) })
	t.Run("capacity", func(t *testing.T) { testCapacity(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("store claims", func(t *testing.T) { testStoreClaims(t, newStore) })
	t.Run("waitlist", func(t *testing.T) { testWaitlist(t, newStore) })
	t.Run("responses", func(t *testing.T) { testResponses(t, newStore) })
	t.Run("events", func(t *testing.T) { testEvents(t, newStore) })
	t.Run("patient data", func(t *testing.T) { testPatientData(t, newStore) })
	t.Run("store errors", func(t *testing.T) { testStoreErrors(t, newStore) })
}

// Start is the suite's initial clock reading: Saturday 1 March 2025,
// 00:00 UTC. Monday 3 March 2025 is the first working day after it.
var Start = time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the current reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Fixture is a service on a fresh store with a settable clock.
type Fixture struct {
	Service *scheduling.Service
	Clock   *Clock
	Ctx     context.Context
}

// NewFixture opens a store and a service on it. cfg.Clock is replaced by
// the fixture's clock, which starts at Start.
func NewFixture(t *testing.T, newStore NewStore, cfg scheduling.Config) *Fixture {
	t.Helper()
	clock := NewClock(Start)
	cfg.Clock = clock.Now
	svc, err := scheduling.NewService(newStore(t), cfg)
	require.NoError(t, err)
	return &Fixture{Service: svc, Clock: clock, Ctx: context.Background()}
}

// Type stores an appointment type.
func (f *Fixture) Type(t *testing.T, code string, duration, before, after time.Duration) {
	t.Helper()
	require.NoError(t, f.Service.PutAppointmentType(f.Ctx, scheduling.AppointmentType{
		Code: code, Display: code, Duration: duration, BufferBefore: before, BufferAfter: after,
	}))
}

// Schedule creates the schedule of actor with weekly rules for each of
// the given weekdays from start to end (as "09:00"), capacity 1.
func (f *Fixture) Schedule(t *testing.T, actor scheduling.Actor, p scheduling.CreateScheduleParams, start, end string, days ...time.Weekday) *scheduling.Schedule {
	t.Helper()
	p.Actor = actor
	sc, err := f.Service.CreateSchedule(f.Ctx, p)
	require.NoError(t, err)
	for _, d := range days {
		f.Weekly(t, sc.ID, d, start, end, 0)
	}
	return sc
}

// Weekly adds a weekly rule to a schedule.
func (f *Fixture) Weekly(t *testing.T, scheduleID string, day time.Weekday, start, end string, capacity int) *scheduling.Availability {
	t.Helper()
	from, err := scheduling.ParseTimeOfDay(start)
	require.NoError(t, err)
	to, err := scheduling.ParseTimeOfDay(end)
	require.NoError(t, err)
	a, err := f.Service.AddAvailability(f.Ctx, scheduling.Availability{
		ScheduleID: scheduleID, Kind: scheduling.Weekly, Weekday: day, StartTime: from, EndTime: to, Capacity: capacity,
	})
	require.NoError(t, err)
	return a
}

// Book books an appointment and fails the test on error.
func (f *Fixture) Book(t *testing.T, patient, typ string, start time.Time, actors ...scheduling.Actor) *scheduling.Appointment {
	t.Helper()
	a, err := f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: patient, AppointmentType: typ, Actors: actors, Start: start})
	require.NoError(t, err)
	return a
}

// Weekdays lists Monday to Friday.
var Weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}

// Practitioner returns the actor Practitioner/id.
func Practitioner(id string) scheduling.Actor {
	return scheduling.Actor{Kind: scheduling.Practitioner, ID: id}
}

// Room returns the actor Location/id.
func Room(id string) scheduling.Actor { return scheduling.Actor{Kind: scheduling.Location, ID: id} }

// Device returns the actor Device/id.
func Device(id string) scheduling.Actor { return scheduling.Actor{Kind: scheduling.Device, ID: id} }

// utc returns the instant of a UTC wall-clock time in 2025.
func utc(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2025, month, day, hour, minute, 0, 0, time.UTC)
}

// starts returns the slot starts in UTC.
func starts(slots []scheduling.Slot) []time.Time {
	out := make([]time.Time, len(slots))
	for i, s := range slots {
		out[i] = s.Start.UTC()
	}
	return out
}

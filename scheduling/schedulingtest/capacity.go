package schedulingtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

// Requests is the number of concurrent booking requests per case.
const Requests = 100

func testCapacity(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	at := utc(3, 3, 9, 0)
	cases := []struct {
		name     string
		policy   scheduling.OverbookingPolicy
		capacity int
		want     int
	}{
		{"no overbooking", scheduling.OverbookingPolicy{Mode: scheduling.OverbookNone}, 1, 1},
		{"two extra", scheduling.OverbookingPolicy{Mode: scheduling.OverbookExtra, Extra: 2}, 1, 3},
		{"group of four", scheduling.OverbookingPolicy{}, 4, 4},
		{"fifty percent of four", scheduling.OverbookingPolicy{Mode: scheduling.OverbookPercent, Percent: 50}, 4, 6},
		{"fifty percent of one rounds down", scheduling.OverbookingPolicy{Mode: scheduling.OverbookPercent, Percent: 50}, 1, 1},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := Practitioner(fmt.Sprintf("cap-%d", i))
			sc := f.Schedule(t, doc, scheduling.CreateScheduleParams{Overbooking: c.policy}, "", "")
			f.Weekly(t, sc.ID, time.Monday, "09:00", "10:00", c.capacity)
			for n := 0; n < c.want; n++ {
				f.Book(t, fmt.Sprintf("pat-cap-%d-%d", i, n), "consult", at, doc)
			}
			_, err := f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-cap-over", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at})
			assert.ErrorIs(t, err, scheduling.ErrSlotFull, "seat %d", c.want+1)

			slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{doc}, From: at, To: at.Add(time.Hour)})
			require.NoError(t, err)
			require.Len(t, slots, 1, "only 09:30 is left")
			assert.Equal(t, c.want, slots[0].Seats)
		})
	}
	t.Run("invalid policies", func(t *testing.T) {
		for _, p := range []scheduling.OverbookingPolicy{
			{Mode: scheduling.OverbookExtra},
			{Mode: scheduling.OverbookPercent, Percent: -5},
			{Mode: "lots"},
		} {
			_, err := f.Service.CreateSchedule(f.Ctx, scheduling.CreateScheduleParams{Actor: Practitioner("cap-invalid"), Overbooking: p})
			assert.ErrorIs(t, err, scheduling.ErrInvalid, "%+v", p)
		}
	})
	t.Run("policy change applies to new bookings", func(t *testing.T) {
		doc := Practitioner("cap-change")
		sc := f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
		f.Book(t, "pat-cap-c1", "consult", at, doc)
		sc.Overbooking = scheduling.OverbookingPolicy{Mode: scheduling.OverbookExtra, Extra: 1}
		_, err := f.Service.UpdateSchedule(f.Ctx, *sc)
		require.NoError(t, err)
		f.Book(t, "pat-cap-c2", "consult", at, doc)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-cap-c3", AppointmentType: "consult", Actors: []scheduling.Actor{doc}, Start: at})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull)
	})
}

// bookConcurrently sends Requests bookings at once, request i for the
// actors actorsFor(i), and returns how many succeeded. Every failure must
// be ErrSlotFull.
func bookConcurrently(t *testing.T, f *Fixture, prefix string, at time.Time, actorsFor func(i int) []scheduling.Actor) int {
	t.Helper()
	var wg sync.WaitGroup
	var booked atomic.Int64
	errs := make([]error, Requests)
	ready := make(chan struct{})
	for i := 0; i < Requests; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-ready
			_, err := f.Service.Book(f.Ctx, scheduling.BookParams{
				PatientID: fmt.Sprintf("%s-%d", prefix, i), AppointmentType: "consult", Actors: actorsFor(i), Start: at,
			})
			if err == nil {
				booked.Add(1)
			}
			errs[i] = err
		}(i)
	}
	close(ready)
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, scheduling.ErrSlotFull) {
			t.Errorf("request %d: %v", i, err)
		}
	}
	return int(booked.Load())
}

func testConcurrency(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	at := utc(3, 3, 9, 0)
	count := func(t *testing.T, actor scheduling.Actor) int {
		t.Helper()
		list, err := f.Service.ListAppointments(f.Ctx, scheduling.AppointmentFilter{Actors: []scheduling.Actor{actor}, Statuses: []scheduling.Status{scheduling.StatusBooked}})
		require.NoError(t, err)
		return len(list)
	}

	t.Run("one seat, one booking", func(t *testing.T) {
		doc := Practitioner("race-one")
		f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
		got := bookConcurrently(t, f, "pat-race-one", at, func(int) []scheduling.Actor { return []scheduling.Actor{doc} })
		assert.Equal(t, 1, got)
		assert.Equal(t, 1, count(t, doc))
	})
	t.Run("overbooking policy number", func(t *testing.T) {
		doc := Practitioner("race-extra")
		f.Schedule(t, doc, scheduling.CreateScheduleParams{Overbooking: scheduling.OverbookingPolicy{Mode: scheduling.OverbookExtra, Extra: 2}}, "09:00", "10:00", time.Monday)
		got := bookConcurrently(t, f, "pat-race-extra", at, func(int) []scheduling.Actor { return []scheduling.Actor{doc} })
		assert.Equal(t, 3, got)
		assert.Equal(t, 3, count(t, doc))
	})
	t.Run("overlapping actor sets", func(t *testing.T) {
		surgeonA, surgeonB, theatre := Practitioner("race-sa"), Practitioner("race-sb"), Room("race-theatre")
		for _, a := range []scheduling.Actor{surgeonA, surgeonB, theatre} {
			f.Schedule(t, a, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
		}
		got := bookConcurrently(t, f, "pat-race-overlap", at, func(i int) []scheduling.Actor {
			if i%2 == 0 {
				return []scheduling.Actor{surgeonA, theatre}
			}
			return []scheduling.Actor{theatre, surgeonB}
		})
		assert.Equal(t, 1, got, "the shared theatre admits one of the two teams")
		assert.Equal(t, 1, count(t, theatre))
		assert.Equal(t, 1, count(t, surgeonA)+count(t, surgeonB))
	})
	t.Run("shared surgeon, separate rooms", func(t *testing.T) {
		surgeon, roomA, roomB := Practitioner("race-shared"), Room("race-ra"), Room("race-rb")
		for _, a := range []scheduling.Actor{surgeon, roomA, roomB} {
			f.Schedule(t, a, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
		}
		got := bookConcurrently(t, f, "pat-race-shared", at, func(i int) []scheduling.Actor {
			if i%2 == 0 {
				return []scheduling.Actor{surgeon, roomA}
			}
			return []scheduling.Actor{roomB, surgeon}
		})
		assert.Equal(t, 1, got)
		assert.Equal(t, 1, count(t, surgeon))
	})
	t.Run("disjoint actor sets both book", func(t *testing.T) {
		a1, r1, a2, r2 := Practitioner("race-d1"), Room("race-dr1"), Practitioner("race-d2"), Room("race-dr2")
		for _, a := range []scheduling.Actor{a1, r1, a2, r2} {
			f.Schedule(t, a, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
		}
		got := bookConcurrently(t, f, "pat-race-disjoint", at, func(i int) []scheduling.Actor {
			if i%2 == 0 {
				return []scheduling.Actor{a1, r1}
			}
			return []scheduling.Actor{r2, a2}
		})
		assert.Equal(t, 2, got)
	})
	t.Run("cancellations and bookings interleave", func(t *testing.T) {
		doc := Practitioner("race-churn")
		f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "10:00", time.Monday)
		first := f.Book(t, "pat-churn-0", "consult", at, doc)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Service.Cancel(f.Ctx, scheduling.CancelParams{AppointmentID: first.ID})
			assert.NoError(t, err)
		}()
		got := bookConcurrently(t, f, "pat-churn", at, func(int) []scheduling.Actor { return []scheduling.Actor{doc} })
		wg.Wait()
		assert.LessOrEqual(t, got, 1)
		assert.LessOrEqual(t, count(t, doc), 1, "never more bookings than seats")
	})
}

// testStoreClaims races Tx.Claim directly, without the service's checks,
// so only the database keeps the requests from overfilling a cell.
func testStoreClaims(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	store := f.Service.Store()
	sc, err := f.Service.CreateSchedule(f.Ctx, scheduling.CreateScheduleParams{Actor: Practitioner("claim-doc")})
	require.NoError(t, err)
	at := utc(3, 3, 9, 0)
	cells := []scheduling.Cell{{ScheduleID: sc.ID, Start: at, Seats: 2}, {ScheduleID: sc.ID, Start: at.Add(5 * time.Minute), Seats: 2}}

	var wg sync.WaitGroup
	var claimed atomic.Int64
	ready := make(chan struct{})
	for i := 0; i < Requests; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-ready
			id := fmt.Sprintf("claim-%d", i)
			err := store.InTx(f.Ctx, func(ctx context.Context, tx scheduling.Tx) error {
				a := scheduling.Appointment{ID: id, Version: 1, Status: scheduling.StatusBooked, AppointmentType: "t",
					PatientID: "p", Participants: []scheduling.Actor{Practitioner("claim-doc")}, Start: at, End: at.Add(10 * time.Minute),
					Created: Start, Updated: Start}
				if err := tx.PutAppointment(ctx, a, "booked"); err != nil {
					return err
				}
				return tx.Claim(ctx, id, cells)
			})
			switch {
			case err == nil:
				claimed.Add(1)
			case !errors.Is(err, scheduling.ErrSlotFull):
				t.Errorf("claim %d: %v", i, err)
			}
		}(i)
	}
	close(ready)
	wg.Wait()
	assert.Equal(t, int64(2), claimed.Load())

	occupied, err := store.ListCells(f.Ctx, scheduling.CellFilter{ScheduleIDs: []string{sc.ID}, From: at, To: at.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, occupied, 2)
	for _, c := range occupied {
		assert.Equal(t, 2, c.Booked)
		assert.Equal(t, 2, c.Seats)
	}
	err = store.InTx(f.Ctx, func(ctx context.Context, tx scheduling.Tx) error {
		freed, err := tx.Release(ctx, "claim-does-not-exist")
		assert.Empty(t, freed)
		return err
	})
	require.NoError(t, err)
}

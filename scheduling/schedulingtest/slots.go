package schedulingtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

func testSlots(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	f.Type(t, "scan", 20*time.Minute, 5*time.Minute, 5*time.Minute)
	f.Type(t, "op", 60*time.Minute, 0, 0)
	docA, docB := Practitioner("slots-a"), Practitioner("slots-b")
	f.Schedule(t, docA, scheduling.CreateScheduleParams{LocationID: "clinic-north"}, "09:00", "10:00", time.Monday)
	f.Schedule(t, docB, scheduling.CreateScheduleParams{LocationID: "clinic-south"}, "09:30", "10:30", time.Monday)
	day, next := utc(3, 3, 0, 0), utc(3, 4, 0, 0)

	t.Run("any of candidates", func(t *testing.T) {
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", AnyOf: []scheduling.Actor{docA, docB}, From: day, To: next})
		require.NoError(t, err)
		require.Len(t, slots, 4)
		assert.Equal(t, []time.Time{utc(3, 3, 9, 0), utc(3, 3, 9, 30), utc(3, 3, 9, 30), utc(3, 3, 10, 0)}, starts(slots))
		assert.Equal(t, docA, slots[1].Actors[0], "equal starts are ordered by actor")
		assert.Equal(t, docB, slots[2].Actors[0])
	})
	t.Run("all schedules of a kind", func(t *testing.T) {
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Kind: scheduling.Practitioner, From: day, To: next})
		require.NoError(t, err)
		assert.Len(t, slots, 4)
	})
	t.Run("location filter", func(t *testing.T) {
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", LocationID: "clinic-south", From: day, To: next})
		require.NoError(t, err)
		require.Len(t, slots, 2)
		for _, s := range slots {
			assert.Equal(t, []scheduling.Actor{docB}, s.Actors)
		}
	})
	t.Run("limit and window", func(t *testing.T) {
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", AnyOf: []scheduling.Actor{docA, docB}, From: day, To: next, Limit: 1})
		require.NoError(t, err)
		assert.Len(t, slots, 1)
		slots, err = f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", AnyOf: []scheduling.Actor{docA}, From: utc(3, 3, 9, 15), To: utc(3, 3, 10, 0)})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 3, 9, 30)}, starts(slots), "slots keep the rule's step and must fit the window")
	})
	t.Run("multiple weeks in order", func(t *testing.T) {
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{docA}, From: day, To: utc(4, 1, 0, 0), Limit: 100})
		require.NoError(t, err)
		require.Len(t, slots, 10, "five Mondays of two slots")
		for i := 1; i < len(slots); i++ {
			assert.True(t, slots[i-1].Start.Before(slots[i].Start))
		}
	})
	t.Run("past is skipped", func(t *testing.T) {
		f.Clock.Advance(2*24*time.Hour + 9*time.Hour + 10*time.Minute) // Monday 3 March, 09:10
		defer f.Clock.Advance(-(2*24*time.Hour + 9*time.Hour + 10*time.Minute))
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{docA}, From: day, To: next})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 3, 9, 30)}, starts(slots))
	})
	t.Run("all required actors must be free", func(t *testing.T) {
		theatre := Room("slots-theatre")
		f.Schedule(t, theatre, scheduling.CreateScheduleParams{}, "09:30", "12:00", time.Monday)
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{docA, theatre}, From: day, To: next})
		require.NoError(t, err)
		require.Equal(t, []time.Time{utc(3, 3, 9, 30)}, starts(slots), "09:30-10:00 is the only time both are available")
		assert.Equal(t, []scheduling.Actor{theatre, docA}, slots[0].Actors, "actors are sorted by kind and id")

		f.Book(t, "pat-slots-1", "consult", utc(3, 3, 9, 30), theatre)
		slots, err = f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{docA, theatre}, From: day, To: next})
		require.NoError(t, err)
		assert.Empty(t, slots, "the theatre is taken")

		slots, err = f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{theatre}, AnyOf: []scheduling.Actor{docA, docB}, From: day, To: next})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 3, 10, 0)}, starts(slots), "only doctor B with the theatre at 10:00")
	})
	t.Run("buffers block neighbours", func(t *testing.T) {
		sono := Device("slots-sono")
		f.Schedule(t, sono, scheduling.CreateScheduleParams{}, "08:00", "09:00", time.Monday)
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "scan", Require: []scheduling.Actor{sono}, From: day, To: next})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 3, 8, 0), utc(3, 3, 8, 30)}, starts(slots), "20 minutes plus two 5-minute buffers step by 30")

		f.Book(t, "pat-slots-2", "consult", utc(3, 3, 8, 0), sono)
		_, err = f.Service.Book(f.Ctx, scheduling.BookParams{PatientID: "pat-slots-3", AppointmentType: "scan", Actors: []scheduling.Actor{sono}, Start: utc(3, 3, 8, 30)})
		assert.ErrorIs(t, err, scheduling.ErrSlotFull, "the scan's 5-minute lead-in overlaps the consult")
		a := f.Book(t, "pat-slots-3", "scan", utc(3, 3, 8, 35), sono)
		assert.Equal(t, utc(3, 3, 8, 55), a.End.UTC())
	})
	t.Run("list slots shows busy ones", func(t *testing.T) {
		sc, err := f.Service.ListSchedules(f.Ctx, scheduling.ScheduleFilter{Actors: []scheduling.Actor{docB}})
		require.NoError(t, err)
		require.Len(t, sc, 1)
		f.Book(t, "pat-slots-4", "consult", utc(3, 3, 9, 30), docB)
		slots, err := f.Service.ListSlots(f.Ctx, scheduling.ListSlotsParams{ScheduleID: sc[0].ID, AppointmentType: "consult", From: day, To: next})
		require.NoError(t, err)
		require.Len(t, slots, 2)
		assert.Equal(t, scheduling.SlotBusy, slots[0].Status)
		assert.Equal(t, 0, slots[0].Seats)
		assert.Equal(t, scheduling.SlotFree, slots[1].Status)

		cells, err := f.Service.ListSlots(f.Ctx, scheduling.ListSlotsParams{ScheduleID: sc[0].ID, From: day, To: next, Limit: 100})
		require.NoError(t, err)
		assert.Len(t, cells, 12, "without a type the slots are the 5-minute grid")
	})
	t.Run("invalid searches", func(t *testing.T) {
		cases := []struct {
			name string
			p    scheduling.FindSlotsParams
			want error
		}{
			{"unknown type", scheduling.FindSlotsParams{AppointmentType: "nope", From: day, To: next}, scheduling.ErrNotFound},
			{"empty window", scheduling.FindSlotsParams{AppointmentType: "consult", From: next, To: day}, scheduling.ErrInvalid},
			{"window too long", scheduling.FindSlotsParams{AppointmentType: "consult", From: day, To: day.AddDate(2, 0, 0)}, scheduling.ErrInvalid},
			{"actor without schedule", scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{Practitioner("nobody")}, From: day, To: next}, scheduling.ErrNotFound},
			{"invalid actor", scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{{Kind: "Patient", ID: "x"}}, From: day, To: next}, scheduling.ErrInvalid},
		}
		for _, c := range cases {
			_, err := f.Service.FindSlots(f.Ctx, c.p)
			assert.ErrorIs(t, err, c.want, c.name)
		}
	})
}

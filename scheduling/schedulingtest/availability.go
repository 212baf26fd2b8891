package schedulingtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
)

func testAvailability(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore, scheduling.Config{})
	f.Type(t, "consult", 30*time.Minute, 0, 0)
	f.Type(t, "surgery", 60*time.Minute, 0, 0)
	doc := Practitioner("avail-doc")
	sc := f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "11:00", time.Monday)
	find := func(t *testing.T, typ string, from, to time.Time) []scheduling.Slot {
		t.Helper()
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: typ, Require: []scheduling.Actor{doc}, From: from, To: to, Limit: 100})
		require.NoError(t, err)
		return slots
	}

	t.Run("weekly rule makes slots", func(t *testing.T) {
		slots := find(t, "consult", utc(3, 3, 0, 0), utc(3, 4, 0, 0))
		assert.Equal(t, []time.Time{utc(3, 3, 9, 0), utc(3, 3, 9, 30), utc(3, 3, 10, 0), utc(3, 3, 10, 30)}, starts(slots))
		for _, s := range slots {
			assert.Equal(t, scheduling.SlotFree, s.Status)
			assert.Equal(t, 1, s.Seats)
			assert.Equal(t, []scheduling.Actor{doc}, s.Actors)
			assert.Equal(t, []string{sc.ID}, s.ScheduleIDs)
		}
	})
	t.Run("exception removes time", func(t *testing.T) {
		_, err := f.Service.AddAvailability(f.Ctx, scheduling.Availability{
			ScheduleID: sc.ID, Kind: scheduling.Exception, Start: utc(3, 10, 0, 0), End: utc(3, 11, 0, 0), Reason: "public-holiday",
		})
		require.NoError(t, err)
		assert.Empty(t, find(t, "consult", utc(3, 10, 0, 0), utc(3, 11, 0, 0)))

		_, err = f.Service.AddAvailability(f.Ctx, scheduling.Availability{
			ScheduleID: sc.ID, Kind: scheduling.Exception, Start: utc(3, 17, 9, 30), End: utc(3, 17, 10, 0), Reason: "leave",
		})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 17, 9, 0), utc(3, 17, 10, 0), utc(3, 17, 10, 30)}, starts(find(t, "consult", utc(3, 17, 0, 0), utc(3, 18, 0, 0))))
	})
	t.Run("addition adds time", func(t *testing.T) {
		_, err := f.Service.AddAvailability(f.Ctx, scheduling.Availability{
			ScheduleID: sc.ID, Kind: scheduling.Addition, Start: utc(3, 5, 14, 0), End: utc(3, 5, 15, 0),
		})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 5, 14, 0), utc(3, 5, 14, 30)}, starts(find(t, "consult", utc(3, 5, 0, 0), utc(3, 6, 0, 0))))
	})
	t.Run("duration sets the step", func(t *testing.T) {
		assert.Equal(t, []time.Time{utc(3, 3, 9, 0), utc(3, 3, 10, 0)}, starts(find(t, "surgery", utc(3, 3, 0, 0), utc(3, 4, 0, 0))))
	})
	t.Run("rule restricted to a type", func(t *testing.T) {
		nurse := Practitioner("avail-nurse")
		nsc := f.Schedule(t, nurse, scheduling.CreateScheduleParams{}, "", "")
		_, err := f.Service.AddAvailability(f.Ctx, scheduling.Availability{
			ScheduleID: nsc.ID, Kind: scheduling.Weekly, Weekday: time.Tuesday, StartTime: scheduling.Clock(8, 0),
			EndTime: scheduling.Clock(9, 0), AppointmentTypes: []string{"surgery"},
		})
		require.NoError(t, err)
		for _, typ := range []string{"consult", "surgery"} {
			slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: typ, Require: []scheduling.Actor{nurse}, From: utc(3, 4, 0, 0), To: utc(3, 5, 0, 0)})
			require.NoError(t, err)
			if typ == "surgery" {
				assert.Len(t, slots, 1, typ)
			} else {
				assert.Empty(t, slots, typ)
			}
		}
	})
	t.Run("valid dates bound a rule", func(t *testing.T) {
		p := Practitioner("avail-locum")
		psc := f.Schedule(t, p, scheduling.CreateScheduleParams{}, "", "")
		_, err := f.Service.AddAvailability(f.Ctx, scheduling.Availability{
			ScheduleID: psc.ID, Kind: scheduling.Weekly, Weekday: time.Wednesday, StartTime: scheduling.Clock(9, 0),
			EndTime: scheduling.Clock(9, 30), ValidFrom: scheduling.Date{Year: 2025, Month: 3, Day: 12},
			ValidUntil: scheduling.Date{Year: 2025, Month: 3, Day: 19},
		})
		require.NoError(t, err)
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{p}, From: utc(3, 1, 0, 0), To: utc(4, 1, 0, 0)})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 12, 9, 0), utc(3, 19, 9, 0)}, starts(slots))
	})
	t.Run("list and remove rules", func(t *testing.T) {
		rules, err := f.Service.ListAvailability(f.Ctx, sc.ID)
		require.NoError(t, err)
		require.Len(t, rules, 4)
		for _, r := range rules {
			if r.Kind == scheduling.Addition {
				require.NoError(t, f.Service.RemoveAvailability(f.Ctx, r.ID))
			}
		}
		assert.Empty(t, find(t, "consult", utc(3, 5, 0, 0), utc(3, 6, 0, 0)))
		assert.ErrorIs(t, f.Service.RemoveAvailability(f.Ctx, "no-such-rule"), scheduling.ErrNotFound)
	})
	t.Run("invalid rules rejected", func(t *testing.T) {
		cases := []struct {
			name string
			rule scheduling.Availability
		}{
			{"end before start", scheduling.Availability{ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: time.Monday, StartTime: scheduling.Clock(12, 0), EndTime: scheduling.Clock(9, 0)}},
			{"unknown kind", scheduling.Availability{ScheduleID: sc.ID, Kind: "monthly"}},
			{"addition without period", scheduling.Availability{ScheduleID: sc.ID, Kind: scheduling.Addition}},
			{"negative capacity", scheduling.Availability{ScheduleID: sc.ID, Kind: scheduling.Addition, Start: utc(3, 5, 9, 0), End: utc(3, 5, 10, 0), Capacity: -1}},
		}
		for _, c := range cases {
			_, err := f.Service.AddAvailability(f.Ctx, c.rule)
			assert.ErrorIs(t, err, scheduling.ErrInvalid, c.name)
		}
		_, err := f.Service.AddAvailability(f.Ctx, scheduling.Availability{ScheduleID: "no-such-schedule", Kind: scheduling.Weekly, Weekday: time.Monday, StartTime: 0, EndTime: 60})
		assert.ErrorIs(t, err, scheduling.ErrNotFound)
	})
}

func testDaylightSaving(t *testing.T, newStore NewStore) {
	cases := []struct {
		name    string
		zone    string
		mondays []time.Time // local midnight of Mondays on both sides of a change, in UTC
		offsets []int       // UTC offset in hours on each of those Mondays
	}{
		{"berlin spring", "Europe/Berlin", []time.Time{utc(3, 24, 0, 0), utc(3, 31, 0, 0)}, []int{1, 2}},
		{"berlin autumn", "Europe/Berlin", []time.Time{utc(10, 20, 0, 0), utc(10, 27, 0, 0)}, []int{2, 1}},
		{"new york spring", "America/New_York", []time.Time{utc(3, 3, 0, 0), utc(3, 10, 0, 0)}, []int{-5, -4}},
		{"new york autumn", "America/New_York", []time.Time{utc(10, 27, 0, 0), utc(11, 3, 0, 0)}, []int{-4, -5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := NewFixture(t, newStore, scheduling.Config{TimeZone: c.zone})
			f.Type(t, "consult", 30*time.Minute, 0, 0)
			doc := Practitioner("dst-doc")
			f.Schedule(t, doc, scheduling.CreateScheduleParams{}, "09:00", "12:00", time.Monday)
			loc, err := time.LoadLocation(c.zone)
			require.NoError(t, err)

			for i, monday := range c.mondays {
				from, to := monday.Add(-24*time.Hour), monday.Add(48*time.Hour)
				slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{doc}, From: from, To: to, Limit: 100})
				require.NoError(t, err)
				require.Len(t, slots, 6, "a 09:00-12:00 rule makes six 30-minute slots")
				first, last := slots[0], slots[5]
				assert.Equal(t, c.zone, first.Start.Location().String(), "slots are returned in the facility zone")
				assert.Equal(t, "09:00", first.Start.Format("15:04"), "first slot starts at 09:00 local")
				assert.Equal(t, "12:00", last.End.Format("15:04"), "last slot ends at 12:00 local")
				assert.Equal(t, time.Monday, first.Start.Weekday())
				wantUTC := time.Date(monday.Year(), monday.Month(), monday.Day(), 9-c.offsets[i], 0, 0, 0, time.UTC)
				assert.Equal(t, wantUTC, first.Start.UTC(), "09:00 local is %d:00 UTC", 9-c.offsets[i])
				_, offset := first.Start.In(loc).Zone()
				assert.Equal(t, c.offsets[i]*3600, offset)
			}
		})
	}
	t.Run("rule zone differs from facility zone", func(t *testing.T) {
		f := NewFixture(t, newStore, scheduling.Config{TimeZone: "UTC"})
		f.Type(t, "consult", 30*time.Minute, 0, 0)
		doc := Practitioner("dst-remote")
		f.Schedule(t, doc, scheduling.CreateScheduleParams{TimeZone: "America/New_York"}, "09:00", "10:00", time.Monday)
		slots, err := f.Service.FindSlots(f.Ctx, scheduling.FindSlotsParams{AppointmentType: "consult", Require: []scheduling.Actor{doc}, From: utc(3, 10, 0, 0), To: utc(3, 11, 0, 0)})
		require.NoError(t, err)
		assert.Equal(t, []time.Time{utc(3, 10, 13, 0), utc(3, 10, 13, 30)}, starts(slots))
		assert.Equal(t, "UTC", slots[0].Start.Location().String())
	})
}

package scheduling

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(day, hour, minute int) time.Time {
	return time.Date(2025, time.March, day, hour, minute, 0, 0, time.UTC)
}

func TestExpandRulesAcrossSpringForward(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	rules := []Availability{{Kind: Weekly, Weekday: time.Monday, StartTime: Clock(9, 0), EndTime: Clock(12, 0)}}
	blocks := expandRules(rules, berlin, at(23, 0, 0), at(31, 23, 0), "")
	require.Len(t, blocks, 2)
	assert.Equal(t, at(24, 8, 0), blocks[0].start, "09:00 CET is 08:00 UTC")
	assert.Equal(t, at(24, 11, 0), blocks[0].end)
	assert.Equal(t, at(31, 7, 0), blocks[1].start, "09:00 CEST is 07:00 UTC")
	assert.Equal(t, at(31, 10, 0), blocks[1].end)
}

func TestExpandRulesInSpringForwardGap(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	// 02:30 does not exist in Berlin on Sunday 30 March 2025.
	rules := []Availability{{Kind: Weekly, Weekday: time.Sunday, StartTime: Clock(2, 30), EndTime: Clock(4, 0)}}
	blocks := expandRules(rules, berlin, at(30, 0, 0), at(31, 0, 0), "")
	require.Len(t, blocks, 1)
	assert.Equal(t, at(30, 1, 30), blocks[0].start, "moved forward by the gap, to 03:30 CEST")
	assert.Equal(t, at(30, 2, 0), blocks[0].end)
}

func TestExpandRulesUntilMidnight(t *testing.T) {
	rules := []Availability{{Kind: Weekly, Weekday: time.Monday, StartTime: Clock(22, 0), EndTime: Clock(24, 0)}}
	blocks := expandRules(rules, time.UTC, at(3, 0, 0), at(5, 0, 0), "")
	require.Len(t, blocks, 1)
	assert.Equal(t, at(4, 0, 0), blocks[0].end)
}

func TestNormalizeOverlaps(t *testing.T) {
	blocks := normalize([]block{
		{start: at(3, 9, 0), end: at(3, 11, 0), capacity: 1},
		{start: at(3, 10, 0), end: at(3, 12, 0), capacity: 3},
		{start: at(3, 12, 0), end: at(3, 13, 0), capacity: 3},
	})
	assert.Equal(t, []block{
		{start: at(3, 9, 0), end: at(3, 10, 0), capacity: 1},
		{start: at(3, 10, 0), end: at(3, 13, 0), capacity: 3},
	}, blocks)
}

func TestSubtractExceptions(t *testing.T) {
	blocks := subtract(
		[]block{{start: at(3, 9, 0), end: at(3, 17, 0), capacity: 1}},
		[]block{{start: at(3, 12, 0), end: at(3, 13, 0)}, {start: at(3, 16, 0), end: at(3, 18, 0)}},
	)
	assert.Equal(t, []block{
		{start: at(3, 9, 0), end: at(3, 12, 0), capacity: 1},
		{start: at(3, 13, 0), end: at(3, 16, 0), capacity: 1},
	}, blocks)
}

func TestIntersectAndCoverage(t *testing.T) {
	spans := intersect([][]block{
		{{start: at(3, 9, 0), end: at(3, 12, 0), capacity: 1}},
		{{start: at(3, 8, 0), end: at(3, 10, 0), capacity: 2}, {start: at(3, 10, 0), end: at(3, 11, 0), capacity: 4}},
	}, []OverbookingPolicy{{}, {Mode: OverbookExtra, Extra: 1}})
	require.Len(t, spans, 2)
	assert.Equal(t, []int{1, 3}, spans[0].seats)
	assert.Equal(t, []int{1, 5}, spans[1].seats)

	seats, ok := coverage(spans, at(3, 9, 30), at(3, 10, 30))
	require.True(t, ok)
	assert.Equal(t, []int{1, 3}, seats, "the least seats over the crossed spans")
	_, ok = coverage(spans, at(3, 10, 30), at(3, 11, 30))
	assert.False(t, ok, "the second schedule ends at 11:00")
}

func TestOverbookingSeats(t *testing.T) {
	cases := []struct {
		name     string
		policy   OverbookingPolicy
		capacity int
		want     int
	}{
		{"none", OverbookingPolicy{Mode: OverbookNone}, 3, 3},
		{"zero value", OverbookingPolicy{}, 1, 1},
		{"extra", OverbookingPolicy{Mode: OverbookExtra, Extra: 2}, 1, 3},
		{"percent", OverbookingPolicy{Mode: OverbookPercent, Percent: 25}, 8, 10},
		{"percent rounds down", OverbookingPolicy{Mode: OverbookPercent, Percent: 25}, 2, 2},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.policy.Seats(c.capacity), c.name)
	}
}

func TestCellStarts(t *testing.T) {
	cells := cellStarts(at(3, 9, 2), at(3, 9, 16), 5*time.Minute)
	assert.Equal(t, []time.Time{at(3, 9, 0), at(3, 9, 5), at(3, 9, 10), at(3, 9, 15)}, cells)
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	cfg := Config{}.WithDefaults()
	require.NoError(t, cfg.Validate())
	assert.Equal(t, DefaultReminderLeads, cfg.ReminderLeads)
	assert.Equal(t, "UTC", cfg.TimeZone)

	cases := []struct {
		name string
		cfg  Config
	}{
		{"zone", Config{TimeZone: "Nowhere/Special"}},
		{"granularity", Config{Granularity: 7 * time.Minute}},
		{"hold", Config{HoldTTL: -time.Second}},
		{"slots", Config{DefaultSlots: 10, MaxSlots: 5}},
		{"leads", Config{ReminderLeads: []time.Duration{-time.Hour}}},
	}
	for _, c := range cases {
		assert.ErrorIs(t, c.cfg.WithDefaults().Validate(), ErrInvalid, c.name)
	}
	none := Config{ReminderLeads: []time.Duration{}}.WithDefaults()
	assert.Empty(t, none.ReminderLeads, "an empty slice turns reminders off")
}

func TestParseTimeOfDay(t *testing.T) {
	for in, want := range map[string]TimeOfDay{"00:00": 0, "09:30": 570, "24:00": 1440} {
		got, err := ParseTimeOfDay(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.Equal(t, in, got.String())
	}
	for _, in := range []string{"9:30", "24:01", "12:60", "ab:cd", ""} {
		_, err := ParseTimeOfDay(in)
		assert.ErrorIs(t, err, ErrInvalid, in)
	}
}

func TestParseActor(t *testing.T) {
	a, err := ParseActor("Location/theatre-3")
	require.NoError(t, err)
	assert.Equal(t, Actor{Kind: Location, ID: "theatre-3"}, a)
	assert.Equal(t, "Location/theatre-3", a.String())
	for _, ref := range []string{"Patient/p1", "Practitioner/", "Practitioner", "Device/a b"} {
		_, err := ParseActor(ref)
		assert.ErrorIs(t, err, ErrInvalid, ref)
	}
}

package billingtest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func testChargemaster(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{})
	march := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	april := time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)
	f.Item(t, "99213", 12000, 0,
		billing.Price{PayerID: "acme", UnitPrice: USD(9000)},
		billing.Price{PayerID: "acme", PlanID: "gold", UnitPrice: USD(8000), Until: april},
		billing.Price{PayerID: "acme", PlanID: "gold", UnitPrice: USD(8500), From: april},
	)
	v2 := f.Item(t, "99213", 12500, 0)
	assert.Equal(t, int64(2), v2.Version)
	v1, err := f.Service.GetChargeDefinition(f.Ctx, "99213", 1)
	require.NoError(t, err)
	assert.Len(t, v1.Prices, 4, "version 1 keeps its prices")

	cases := []struct {
		name, payer, plan string
		date              time.Time
		want              int64
	}{
		{"list price", "", "", march, 12000},
		{"payer price", "acme", "silver", march, 9000},
		{"plan price before april", "acme", "gold", march, 8000},
		{"plan price from april", "acme", "gold", april, 8500},
		{"other payer gets list price", "other", "", march, 12000},
	}
	for _, c := range cases {
		p, err := v1.PriceFor(c.payer, c.plan, c.date)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, p.UnitPrice.Amount, c.name)
	}
	_, err = f.Service.PutChargeDefinition(f.Ctx, billing.PutChargeDefinitionParams{By: User, Definition: billing.ChargeDefinition{
		Code: "X1", Active: true, Prices: []billing.Price{
			{PayerID: "p", UnitPrice: USD(1), Until: april}, {PayerID: "p", UnitPrice: USD(2), From: march},
		},
	}})
	assert.ErrorIs(t, err, billing.ErrInvalid, "overlapping prices")
	list, err := f.Service.ListChargeDefinitions(f.Ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, int64(2), list[0].Version)
}

func testCapture(t *testing.T, newStore NewStore) {
	f := NewFixture(t, newStore(t), billing.Config{Currency: "USD"})
	f.Item(t, "99213", 12000, 0)
	ev := billing.SourceEvent{Position: 1, Source: "scheduling", EventID: "appointment/a1/fulfilled", PatientID: "p1", Code: "99213", ServiceDate: Start}
	c1, created, err := f.Service.Capture(f.Ctx, ev)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, billing.ChargeBillable, c1.Status)
	assert.Equal(t, int64(12000), c1.UnitPrice.Amount)

	c2, created, err := f.Service.Capture(f.Ctx, ev)
	require.NoError(t, err)
	assert.False(t, created, "a replayed event is not captured again")
	assert.Equal(t, c1.ID, c2.ID)

	src := &sliceSource{events: []billing.SourceEvent{
		ev,
		{Position: 2, Source: "scheduling", EventID: "appointment/a2/fulfilled", PatientID: "p1", Code: "99213"},
		{Position: 3, Source: "scheduling", EventID: "appointment/a3/fulfilled", PatientID: "p1", Code: "99213"},
	}}
	last, captured, err := f.Service.CaptureFrom(f.Ctx, src, 0, 2)
	require.NoError(t, err)
	assert.Equal(t, int64(3), last)
	assert.Equal(t, 2, captured, "the first event was already captured")
	_, captured, err = f.Service.CaptureFrom(f.Ctx, src, 0, 2)
	require.NoError(t, err)
	assert.Zero(t, captured, "replaying the whole stream bills nothing")

	charges, err := f.Service.ListCharges(f.Ctx, billing.ChargeFilter{AccountID: c1.AccountID})
	require.NoError(t, err)
	assert.Len(t, charges, 3)

	src.events = append(src.events, billing.SourceEvent{Position: 4, Source: "scheduling", EventID: "x", PatientID: "p1", Code: "00000"})
	last, _, err = f.Service.CaptureFrom(f.Ctx, src, 3, 10)
	assert.ErrorIs(t, err, billing.ErrUnknownCode)
	assert.Equal(t, int64(3), last, "capture stops before the failing event")
	testSourcePosition(t, f, src.events[3])

	rev, err := f.Service.ReverseCharge(f.Ctx, billing.ReverseChargeParams{ChargeID: c1.ID, Reason: "booked in error", By: User})
	require.NoError(t, err)
	assert.Equal(t, int64(-1), rev.Quantity)
	_, err = f.Service.ReverseCharge(f.Ctx, billing.ReverseChargeParams{ChargeID: c1.ID, Reason: "again", By: User})
	assert.ErrorIs(t, err, billing.ErrConflict, "a charge is reversed once")
	_, err = f.Service.ReverseCharge(f.Ctx, billing.ReverseChargeParams{ChargeID: rev.ID, Reason: "undo", By: User})
	assert.ErrorIs(t, err, billing.ErrInvalid, "a reversal is not reversed")
	got, err := f.Service.GetCharge(f.Ctx, c1.ID)
	require.NoError(t, err)
	assert.Equal(t, rev.ID, got.ReversedBy)
	assert.Equal(t, billing.ChargeReversed, got.Status)

	inv := f.Issued(t, c1.AccountID)
	assert.Len(t, inv.Lines, 2, "the reversed pair is left off")
	assert.Equal(t, int64(24000), inv.TotalGross.Amount)
}

// sliceSource is a ChargeSource over a fixed list.
type sliceSource struct{ events []billing.SourceEvent }

func (s *sliceSource) BillableEvents(_ context.Context, after int64, limit int) ([]billing.SourceEvent, error) {
	var out []billing.SourceEvent
	for _, e := range s.events {
		if e.Position > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// testSourcePosition checks the stored position of source "scheduling"
// after events 1 to 3 were captured and failing, unpriced, is event 4.
func testSourcePosition(t *testing.T, f *Fixture, failing billing.SourceEvent) {
	t.Helper()
	pos, err := f.Service.SourcePosition(f.Ctx, "scheduling")
	require.NoError(t, err)
	assert.Equal(t, int64(3), pos, "the failed capture rolled back its position")

	_, created, err := f.Service.Capture(f.Ctx, billing.SourceEvent{Position: 1, Source: "scheduling", EventID: "appointment/a1/fulfilled", PatientID: "p1", Code: "99213"})
	require.NoError(t, err)
	assert.False(t, created)
	pos, err = f.Service.SourcePosition(f.Ctx, "scheduling")
	require.NoError(t, err)
	assert.Equal(t, int64(3), pos, "a replayed event does not move the position back")

	require.NoError(t, f.Service.SkipSourceEvent(f.Ctx, failing))
	pos, err = f.Service.SourcePosition(f.Ctx, "scheduling")
	require.NoError(t, err)
	assert.Equal(t, int64(4), pos, "a skipped event moves the position")
	assert.ErrorIs(t, f.Service.SkipSourceEvent(f.Ctx, billing.SourceEvent{Source: "scheduling"}), billing.ErrInvalid)

	_, _, err = f.Service.Capture(f.Ctx, billing.SourceEvent{Source: "emr", EventID: "procedure/x1", PatientID: "p9", Code: "99213"})
	require.NoError(t, err)
	pos, err = f.Service.SourcePosition(f.Ctx, "emr")
	require.NoError(t, err)
	assert.Zero(t, pos, "an event without a position stores none")

	_, _, err = f.Service.Capture(f.Ctx, billing.SourceEvent{Position: 9, Source: "emr", EventID: "procedure/x2", PatientID: "p9", Code: "99213"})
	require.NoError(t, err)
	pos, err = f.Service.SourcePosition(f.Ctx, "emr")
	require.NoError(t, err)
	assert.Equal(t, int64(9), pos, "sources keep their own positions")
	pos, err = f.Service.SourcePosition(f.Ctx, "scheduling")
	require.NoError(t, err)
	assert.Equal(t, int64(4), pos)
}

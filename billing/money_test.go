package billing_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

func TestMulDivHalfEven(t *testing.T) {
	cases := []struct {
		name    string
		a, b, d int64
		want    int64
	}{
		{"exact", 10, 3, 5, 6},
		{"half rounds to even down", 5, 1, 2, 2},
		{"half rounds to even up", 7, 1, 2, 4},
		{"negative half to even", -5, 1, 2, -2},
		{"negative half up in magnitude", -7, 1, 2, -4},
		{"below half", 1, 4, 10, 0},
		{"above half", 6, 1, 10, 1},
		{"negative divisor", 5, 1, -2, -2},
		{"large product, half to even", math.MaxInt64, 2, 4, math.MaxInt64/2 + 1},
	}
	for _, c := range cases {
		got, err := billing.MulDivHalfEven(c.a, c.b, c.d)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
	_, err := billing.MulDivHalfEven(math.MaxInt64, 2, 1)
	assert.ErrorIs(t, err, billing.ErrInvalid, "overflow")
	_, err = billing.MulDivHalfEven(1, 1, 0)
	assert.ErrorIs(t, err, billing.ErrInvalid, "divide by zero")
}

func TestMoneyApplyRate(t *testing.T) {
	tax, err := billing.ParseRate("8.875")
	require.NoError(t, err)
	assert.Equal(t, billing.Rate(88750), tax)
	assert.Equal(t, "8.875%", tax.String())
	got, err := billing.NewMoney(5997, "USD").Apply(tax)
	require.NoError(t, err)
	assert.Equal(t, int64(532), got.Amount, "5.3223 rounds to 5.32")
	half, err := billing.NewMoney(25, "USD").Apply(100000)
	require.NoError(t, err)
	assert.Equal(t, int64(2), half.Amount, "2.5 cents rounds to 2")
}

func TestMoneyArithmetic(t *testing.T) {
	_, err := billing.NewMoney(1, "USD").Add(billing.NewMoney(1, "EUR"))
	assert.ErrorIs(t, err, billing.ErrCurrencyMismatch)
	_, err = billing.NewMoney(math.MaxInt64, "USD").Add(billing.NewMoney(1, "USD"))
	assert.ErrorIs(t, err, billing.ErrInvalid, "overflow")
	_, err = billing.NewMoney(math.MaxInt64, "USD").Mul(2)
	assert.ErrorIs(t, err, billing.ErrInvalid, "overflow")
	m, err := billing.ParseMoney("40.00", "EUR")
	require.NoError(t, err)
	assert.Equal(t, int64(4000), m.Amount)
	assert.Equal(t, "40.00 EUR", m.String())
	_, err = billing.ParseMoney("40.001", "EUR")
	assert.ErrorIs(t, err, billing.ErrInvalid, "more digits than the currency has")
	_, err = billing.ParseMoney("1e3", "EUR")
	assert.ErrorIs(t, err, billing.ErrInvalid)
	yen, err := billing.ParseMoney("1500", "JPY")
	require.NoError(t, err)
	assert.Equal(t, "1500 JPY", yen.String())
	dinar, err := billing.ParseMoney("-0.005", "KWD")
	require.NoError(t, err)
	assert.Equal(t, "-0.005 KWD", dinar.String())
}

// Every total equals the sum of its lines, and every line adds up, for
// random prices, quantities, discounts and tax rates.
func TestTotalsEqualSumOfLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var lines []billing.InvoiceLine
		var net, tax int64
		for i := range 1 + rng.IntN(20) {
			qty := int64(rng.IntN(20) - 5)
			if qty == 0 {
				qty = 1
			}
			amounts, err := billing.PriceLine(billing.NewMoney(rng.Int64N(1_000_000), "USD"), qty,
				billing.Rate(rng.Int64N(int64(billing.RateScale))), billing.Rate(rng.Int64N(300_000)))
			require.NoError(t, err)
			assert.Equal(t, amounts.Gross.Amount-amounts.Discount.Amount, amounts.Net.Amount)
			assert.Equal(t, amounts.Net.Amount+amounts.Tax.Amount, amounts.Total.Amount)
			lines = append(lines, billing.InvoiceLine{Sequence: i + 1, LineAmounts: amounts})
			net += amounts.Net.Amount
			tax += amounts.Tax.Amount
		}
		gotNet, gotTax, gotGross, err := billing.Totals("USD", lines)
		require.NoError(t, err)
		assert.Equal(t, net, gotNet.Amount)
		assert.Equal(t, tax, gotTax.Amount)
		assert.Equal(t, net+tax, gotGross.Amount)
	}
}

// A reversal's amounts are the exact negation of the charge's, because
// half-even rounding is symmetric around zero.
func TestReversalNegatesLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		price := billing.NewMoney(rng.Int64N(1_000_000), "EUR")
		qty := 1 + rng.Int64N(50)
		disc, taxRate := billing.Rate(rng.Int64N(500_000)), billing.Rate(rng.Int64N(300_000))
		pos, err := billing.PriceLine(price, qty, disc, taxRate)
		require.NoError(t, err)
		neg, err := billing.PriceLine(price, -qty, disc, taxRate)
		require.NoError(t, err)
		assert.Equal(t, -pos.Total.Amount, neg.Total.Amount)
		assert.Equal(t, -pos.Tax.Amount, neg.Tax.Amount)
	}
}

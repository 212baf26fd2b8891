package billing

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Money is an amount in the minor unit of an ISO 4217 currency: cents for
// USD and EUR, yen for JPY, fils for KWD. Amounts are int64 and never
// floating point, and every operation that would overflow returns
// ErrInvalid instead of wrapping.
type Money struct {
	// Amount is in minor units and may be negative (a credit or a
	// reversal).
	Amount int64
	// Currency is an upper-case ISO 4217 alphabetic code.
	Currency string
}

// minorUnits maps the supported ISO 4217 codes to their number of
// decimal places (ISO 4217 list one, the "minor unit" column).
var minorUnits = map[string]int{
	"AED": 2, "ARS": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2,
	"CLP": 0, "CNY": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2,
	"HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3,
	"JPY": 0, "KES": 2, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NGN": 2,
	"NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2,
	"RON": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3, "TRY": 2,
	"TWD": 2, "UAH": 2, "UGX": 0, "USD": 2, "VND": 0, "ZAR": 2,
}

// MinorUnits returns the number of decimal places of an ISO 4217
// currency, and false for a code this package does not support.
func MinorUnits(currency string) (int, bool) {
	n, ok := minorUnits[currency]
	return n, ok
}

// ValidCurrency returns an error wrapping ErrInvalid unless code is a
// supported ISO 4217 code.
func ValidCurrency(code string) error {
	if _, ok := minorUnits[code]; !ok {
		return invalidf("currency %q is not a supported ISO 4217 code", code)
	}
	return nil
}

// NewMoney returns amount minor units of currency.
func NewMoney(amount int64, currency string) Money {
	return Money{Amount: amount, Currency: currency}
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Amount == 0 }

// sameCurrency returns ErrCurrencyMismatch unless a and b share a
// currency.
func sameCurrency(op string, a, b Money) error {
	if a.Currency != b.Currency {
		return fmt.Errorf("%s: %s and %s: %w", op, a.Currency, b.Currency, ErrCurrencyMismatch)
	}
	return nil
}

// Add returns m + o.
func (m Money) Add(o Money) (Money, error) {
	if err := sameCurrency("add money", m, o); err != nil {
		return Money{}, err
	}
	sum := m.Amount + o.Amount
	if (o.Amount > 0 && sum < m.Amount) || (o.Amount < 0 && sum > m.Amount) {
		return Money{}, invalidf("add money: %d + %d overflows int64", m.Amount, o.Amount)
	}
	return Money{Amount: sum, Currency: m.Currency}, nil
}

// Sub returns m - o.
func (m Money) Sub(o Money) (Money, error) {
	if o.Amount == math.MinInt64 {
		return Money{}, invalidf("subtract money: %d overflows int64", o.Amount)
	}
	return m.Add(Money{Amount: -o.Amount, Currency: o.Currency})
}

// Neg returns -m.
func (m Money) Neg() Money { return Money{Amount: -m.Amount, Currency: m.Currency} }

// Mul returns m × n exactly.
func (m Money) Mul(n int64) (Money, error) {
	p := new(big.Int).Mul(big.NewInt(m.Amount), big.NewInt(n))
	if !p.IsInt64() {
		return Money{}, invalidf("multiply money: %d × %d overflows int64", m.Amount, n)
	}
	return Money{Amount: p.Int64(), Currency: m.Currency}, nil
}

// Rate is a ratio in parts per million: 190000 is 19 %, 88750 is
// 8.875 %, 1000000 is 100 %. Tax rates, discounts and price factors are
// Rates, so they need no floating point either.
type Rate int64

// RateScale is the Rate of 100 %.
const RateScale Rate = 1_000_000

// Apply returns m × r rounded half to even in the currency's minor unit.
func (m Money) Apply(r Rate) (Money, error) {
	v, err := MulDivHalfEven(m.Amount, int64(r), int64(RateScale))
	if err != nil {
		return Money{}, fmt.Errorf("apply rate %s to %d: %w", r, m.Amount, err)
	}
	return Money{Amount: v, Currency: m.Currency}, nil
}

// MulDivHalfEven returns a × b ÷ d rounded half to even (banker's
// rounding): 2.5 rounds to 2, 3.5 to 4 and -2.5 to -2. The product is
// computed exactly, so only the final result must fit in int64.
func MulDivHalfEven(a, b, d int64) (int64, error) {
	if d == 0 {
		return 0, invalidf("divide by zero")
	}
	num := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	den := big.NewInt(d)
	if den.Sign() < 0 {
		num.Neg(num)
		den.Neg(den)
	}
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// q is truncated toward zero, and r has the sign of num.
	twice := new(big.Int).Abs(r)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(den); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, invalidf("%d × %d ÷ %d overflows int64", a, b, d)
	}
	return q.Int64(), nil
}

// String formats the rate as a percentage, such as "8.875%".
func (r Rate) String() string {
	sign := ""
	v := int64(r)
	if v < 0 {
		sign, v = "-", -v
	}
	whole, frac := v/10000, v%10000
	if frac == 0 {
		return fmt.Sprintf("%s%d%%", sign, whole)
	}
	return sign + strconv.FormatInt(whole, 10) + "." + strings.TrimRight(fmt.Sprintf("%04d", frac), "0") + "%"
}

// ParseDecimal reads a plain decimal number such as "40", "-12.5" or
// "0.8" into an integer scaled by 10^places, without floating point. It
// rejects exponents and more fraction digits than places, because
// rounding an input amount would change it.
func ParseDecimal(s string, places int) (int64, error) {
	orig := s
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}

	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, invalidf("decimal %q has no digits", orig)
	}
	if len(frac) > places {
		trimmed := strings.TrimRight(frac[places:], "0")
		if trimmed != "" {
			return 0, invalidf("decimal %q has more than %d fraction digits", orig, places)
		}
		frac = frac[:places]
	}

	digits := whole + frac + strings.Repeat("0", places-len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, invalidf("decimal %q is not a plain decimal number", orig)
		}
	}
	if digits == "" {
		digits = "0"
	}

	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, invalidf("decimal %q is out of range", orig)
	}
	if neg {
		v = -v
	}
	return v, nil
}

// FormatDecimal writes v scaled by 10^places as a plain decimal, such as
// 4000 with 2 places as "40.00".
func FormatDecimal(v int64, places int) string {
	if places == 0 {
		return strconv.FormatInt(v, 10)
	}
	sign := ""
	u := new(big.Int).SetInt64(v)
	if u.Sign() < 0 {
		sign = "-"
		u.Neg(u)
	}
	s := u.String()
	if len(s) <= places {
		s = strings.Repeat("0", places-len(s)+1) + s
	}
	return sign + s[:len(s)-places] + "." + s[len(s)-places:]
}

// ParseMoney reads a decimal amount such as "40.00" in currency.
func ParseMoney(amount, currency string) (Money, error) {
	places, ok := minorUnits[currency]
	if !ok {
		return Money{}, invalidf("currency %q is not a supported ISO 4217 code", currency)
	}
	v, err := ParseDecimal(amount, places)
	if err != nil {
		return Money{}, fmt.Errorf("amount in %s: %w", currency, err)
	}
	return Money{Amount: v, Currency: currency}, nil
}

// Decimal formats the amount in major units, such as "40.00" for 4000
// cents.
func (m Money) Decimal() string {
	return FormatDecimal(m.Amount, minorUnits[m.Currency])
}

// String formats the amount with its currency, such as "40.00 EUR".
func (m Money) String() string {
	return m.Decimal() + " " + m.Currency
}

// ParseRate reads a percentage such as "19" or "8.875" into a Rate.
func ParseRate(percent string) (Rate, error) {
	v, err := ParseDecimal(percent, 4)
	if err != nil {
		return 0, fmt.Errorf("rate: %w", err)
	}
	return Rate(v), nil
}

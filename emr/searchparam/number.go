package searchparam

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

func invalidNumber(offset int, reason string) error {
	return fmt.Errorf("%w: number at offset %d: %s", ErrInvalidValue, offset, reason)
}

// ParseNumber reads a FHIR decimal or integer in JSON number syntax and
// returns its value and the half-open range [lo, hi) that its significant
// digits imply: half a unit of the last digit on either side. "140" gives
// [139.5, 140.5), "140.0" gives [139.95, 140.05) and "1.2E+2" gives
// [115, 125). The bounds are computed in decimal and then rounded to the
// nearest float64, and hi is raised to the next float64 above v where
// rounding would leave v outside [lo, hi).
func ParseNumber(s string) (v, lo, hi float64, err error) {
	negative, intPart, fracPart, exponent, err := splitNumber(s)
	if err != nil {
		return 0, 0, 0, err
	}
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, 0, 0, invalidNumber(0, "value is out of the float64 range")
	}

	digits := strings.TrimLeft(intPart+fracPart, "0")
	// The bounds are (10*D-5) and (10*D+5) times 10^k, where D is the
	// integer formed by all the digits and k is the power of ten of the
	// digit after the last one.
	k := exponent - len(fracPart) - 1
	lower := "-5"
	if digits != "" {
		lower = decrement(digits) + "5"
	}
	upper := digits + "5"

	lo = parseScaled(lower, k)
	hi = parseScaled(upper, k)
	if negative {
		lo, hi = -hi, -lo
	}
	// With more than about 16 significant digits the bounds round to the
	// value itself. Keep v inside the half-open range all the same.
	lo = min(lo, v)
	if hi <= v {
		hi = math.Nextafter(v, math.Inf(1))
	}
	return v, lo, hi, nil
}

// splitNumber checks s against the JSON number grammar and returns its
// parts.
func splitNumber(s string) (negative bool, intPart, fracPart string, exponent int, err error) {
	i := 0
	if strings.HasPrefix(s, "-") {
		negative = true
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart = s[start:i]
	switch {
	case intPart == "":
		return false, "", "", 0, invalidNumber(i, "expected a digit")
	case len(intPart) > 1 && intPart[0] == '0':
		return false, "", "", 0, invalidNumber(start, "leading zeros are not allowed")
	}
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracPart = s[start:i]
		if fracPart == "" {
			return false, "", "", 0, invalidNumber(i, "expected a digit after the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, convErr := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if convErr != nil || strings.HasPrefix(s[i+1:], "+-") || s[i+1:] == "" {
			return false, "", "", 0, invalidNumber(i+1, "invalid exponent")
		}
		exponent = e
		i = len(s)
	}
	if i != len(s) {
		return false, "", "", 0, invalidNumber(i, "unexpected character")
	}
	return negative, intPart, fracPart, exponent, nil
}

// decrement subtracts one from a string of decimal digits with no leading
// zeros that is not "0".
func decrement(digits string) string {
	b := []byte(digits)
	i := len(b) - 1
	for b[i] == '0' {
		b[i] = '9'
		i--
	}
	b[i]--
	return strings.TrimLeft(string(b), "0")
}

// parseScaled returns the float64 nearest to mantissa × 10^k.
func parseScaled(mantissa string, k int) float64 {
	f, _ := strconv.ParseFloat(mantissa+"e"+strconv.Itoa(k), 64)
	return f
}

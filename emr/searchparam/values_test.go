package searchparam_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		value  string
		lo, hi string
	}{
		{"year", "1973", "1973-01-01T00:00:00Z", "1974-01-01T00:00:00Z"},
		{"month", "1973-06", "1973-06-01T00:00:00Z", "1973-07-01T00:00:00Z"},
		{"December", "1973-12", "1973-12-01T00:00:00Z", "1974-01-01T00:00:00Z"},
		{"day", "1973-06-30", "1973-06-30T00:00:00Z", "1973-07-01T00:00:00Z"},
		{"leap day", "2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"minute without zone", "2013-01-14T10:00", "2013-01-14T10:00:00Z", "2013-01-14T10:01:00Z"},
		{"second UTC", "2013-01-14T10:00:00Z", "2013-01-14T10:00:00Z", "2013-01-14T10:00:01Z"},
		{"positive offset", "2012-09-10T15:29:24+02:00", "2012-09-10T13:29:24Z", "2012-09-10T13:29:25Z"},
		{"negative offset", "2010-11-09T10:29:24-05:00", "2010-11-09T15:29:24Z", "2010-11-09T15:29:25Z"},
		{"offset crossing day", "2020-01-01T01:00:00+05:30", "2019-12-31T19:30:00Z", "2019-12-31T19:30:01Z"},
		{"milliseconds", "2012-09-10T15:29:24.181+00:00", "2012-09-10T15:29:24.181Z", "2012-09-10T15:29:24.182Z"},
		{"microseconds", "2012-09-10T15:29:24.123456Z", "2012-09-10T15:29:24.123456Z",
			"2012-09-10T15:29:24.123457Z"},
		{"nanoseconds cut", "2012-09-10T15:29:24.123456789Z", "2012-09-10T15:29:24.123456Z",
			"2012-09-10T15:29:24.123457Z"},
		{"one fraction digit", "2012-09-10T15:29:24.5Z", "2012-09-10T15:29:24.5Z", "2012-09-10T15:29:24.6Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lo, hi, err := searchparam.ParseDate(tt.value)
			require.NoError(t, err)
			assert.Equal(t, micros(tt.lo), lo)
			assert.Equal(t, micros(tt.hi), hi)
		})
	}
}

func TestParseDateInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
	}{
		{"empty", ""},
		{"month 13", "1973-13"},
		{"month 00", "1973-00"},
		{"day 32", "1973-01-32"},
		{"February 30", "2023-02-30"},
		{"not a leap year", "2023-02-29"},
		{"year 0000", "0000"},
		{"short year", "197"},
		{"hour 24", "2013-01-14T24:00:00Z"},
		{"minute 60", "2013-01-14T10:60:00Z"},
		{"zone without time", "2013-01-14Z"},
		{"zone hour 15", "2013-01-14T10:00:00+15:00"},
		{"missing zone minutes", "2013-01-14T10:00:00+01"},
		{"trailing text", "2013-01-14T10:00:00Zx"},
		{"empty fraction", "2013-01-14T10:00:00.Z"},
		{"slashes", "2013/01/14"},
		{"time only", "T10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := searchparam.ParseDate(tt.value)
			assert.ErrorIs(t, err, searchparam.ErrInvalidValue)
		})
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		value     string
		v, lo, hi float64
	}{
		{"integer", "140", 140, 139.5, 140.5},
		{"one decimal", "140.0", 140, 139.95, 140.05},
		{"two decimals", "140.52", 140.52, 140.515, 140.525},
		{"exponent", "1.2E+2", 120, 115, 125},
		{"lower case exponent", "1e2", 100, 50, 150},
		{"negative exponent", "15e-1", 1.5, 1.45, 1.55},
		{"zero", "0", 0, -0.5, 0.5},
		{"zero with decimals", "0.00", 0, -0.005, 0.005},
		{"small", "0.0012", 0.0012, 0.00115, 0.00125},
		{"negative", "-140", -140, -140.5, -139.5},
		{"negative decimal", "-1.50", -1.5, -1.505, -1.495},
		{"borrow", "100", 100, 99.5, 100.5},
		{"one", "1", 1, 0.5, 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, lo, hi, err := searchparam.ParseNumber(tt.value)
			require.NoError(t, err)
			assert.Equal(t, tt.v, v)
			assert.Equal(t, tt.lo, lo)
			assert.Equal(t, tt.hi, hi)
		})
	}
}

func TestParseNumberInvalid(t *testing.T) {
	t.Parallel()
	for _, value := range []string{"", "-", "abc", "1.", ".5", "01", "1e", "1e+-2", "1,5", "+1", "1 ", "1e400"} {
		t.Run(value, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := searchparam.ParseNumber(value)
			assert.ErrorIs(t, err, searchparam.ErrInvalidValue)
		})
	}
}

func TestFoldString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"ASCII", "Kreiger", "kreiger"},
		{"precomposed diaeresis", "Zoë", "zoe"},
		{"combining diaeresis", "Zoe\u0308", "zoe"},
		{"Greek tonos", "ό", "ο"},
		{"Greek capitals", "ΠΑΠΑΔΟΠΟΎΛΟΥ", "παπαδοπουλου"},
		{"Greek lower case", "Παπαδοπούλου", "παπαδοπουλου"},
		{"final sigma", "ΟΔΥΣΣΕΥΣ", "οδυσσευσ"},
		{"German sharp s", "Straße", "strasse"},
		{"ligature", "ﬁnn", "finn"},
		{"compatibility upper case", "㎒", "mhz"},
		{"Turkish dotted I", "İstanbul", "istanbul"},
		{"Vietnamese", "Nguyễn", "nguyen"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, searchparam.FoldString(tt.value))
		})
	}
}

func TestFoldStringGreekForms(t *testing.T) {
	t.Parallel()
	assert.Equal(t, searchparam.FoldString("παπαδοπουλου"), searchparam.FoldString("ΠΑΠΑΔΟΠΟΎΛΟΥ"))
	assert.Equal(t, searchparam.FoldString("Zoë"), searchparam.FoldString("Zoe\u0308"))
}

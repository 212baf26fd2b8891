package searchparam_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

func FuzzParseDate(f *testing.F) {
	for _, seed := range []string{"1973", "1973-06", "2012-09-10T15:29:24.181+00:00", "2013-01-14T10:00",
		"1973-13", "2010-11-09T10:29:24-05:00", "2024-02-29"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := searchparam.ParseDate(s)
		if err == nil && lo >= hi {
			t.Errorf("ParseDate returned an empty range [%d, %d)", lo, hi)
		}
	})
}

func FuzzParseNumber(f *testing.F) {
	for _, seed := range []string{"140", "140.0", "1.2E+2", "-0.005", "0", "168.80253764416227", "1e400"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, lo, hi, err := searchparam.ParseNumber(s)
		if err == nil && (lo > v || hi <= v) {
			t.Errorf("ParseNumber returned %v outside [%v, %v)", v, lo, hi)
		}
	})
}

func FuzzFoldString(f *testing.F) {
	for _, seed := range []string{"Zoë", "ΠΑΠΑΔΟΠΟΎΛΟΥ", "Straße", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		folded := searchparam.FoldString(s)
		if again := searchparam.FoldString(folded); again != folded {
			t.Errorf("FoldString is not idempotent: %q then %q", folded, again)
		}
	})
}

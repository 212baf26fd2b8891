package emrtest

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

// pageThrough follows next links from params and returns the ids of every
// page in order. Before each next page it calls between with the page
// number just read, so a test can change data while paging.
func pageThrough(t *testing.T, svc *emr.Service, typ string, params url.Values, between func(page int)) []string {
	t.Helper()
	var ids []string
	for page := 1; ; page++ {
		res, err := svc.Search(ctxFor("test"), typ, params)
		require.NoError(t, err, params.Encode())
		for _, r := range res.Resources {
			ids = append(ids, r.ID)
		}
		if res.Next == nil {
			return ids
		}
		require.Less(t, page, 100, "paging does not end")
		if between != nil {
			between(page)
		}
		params = res.Next
	}
}

func patientBody(family []string, birthDate string) string {
	body := `{"resourceType":"Patient"`
	if len(family) > 0 {
		body += `,"name":[`
		for i, f := range family {
			if i > 0 {
				body += ","
			}
			body += `{"family":"` + f + `"}`
		}
		body += `]`
	}
	if birthDate != "" {
		body += `,"birthDate":"` + birthDate + `"`
	}
	return body + `}`
}

func testKeysetPaging(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	// Ties on family and birth date, patients without either, and one
	// with two names, so every page boundary falls somewhere hard.
	seed := []struct {
		id     string
		family []string
		birth  string
	}{
		{"k01", []string{"Baker"}, "1980-01-01"},
		{"k02", []string{"Baker"}, "1975-06-01"},
		{"k03", []string{"Adams"}, "1990"},
		{"k04", nil, "1960-03-03"},
		{"k05", []string{"Zed", "Able"}, ""},
		{"k06", []string{"Carter"}, "1980-01-01"},
		{"k07", []string{"Baker"}, "1980-01-01"},
		{"k08", nil, ""},
		{"k09", []string{"Davis"}, "2001-12-31"},
		{"k10", []string{"Carter"}, ""},
		{"k11", []string{"Evans"}, "1975-06-01"},
	}
	for _, p := range seed {
		put(t, svc, "Patient", p.id, patientBody(p.family, p.birth))
	}

	t.Run("pages match one page", func(t *testing.T) {
		for _, sortBy := range []string{
			"family", "-family", "birthdate", "-birthdate", "family,-birthdate",
			"-birthdate,family", "-family,-_id", "_lastUpdated", "-_lastUpdated", "gender,birthdate",
		} {
			t.Run(sortBy, func(t *testing.T) {
				want := orderedIDs(t, svc, "Patient", url.Values{"_sort": {sortBy}, "_count": {"100"}})
				require.Len(t, want, len(seed))
				for _, count := range []string{"1", "2", "3"} {
					got := pageThrough(t, svc, "Patient", url.Values{"_sort": {sortBy}, "_count": {count}}, nil)
					assert.Equal(t, want, got, "_count=%s", count)
				}
			})
		}
	})
	t.Run("number keys", func(t *testing.T) {
		for i, value := range []string{"5", "2.5", "", "5", "10", "-1", ""} {
			body := `{"resourceType":"Observation","status":"final","code":{"text":"x"}`
			if value != "" {
				body += `,"valueQuantity":{"value":` + value + `,"unit":"kg"}`
			}
			put(t, svc, "Observation", fmt.Sprintf("q%d", i), body+`}`)
		}
		for _, sortBy := range []string{"value-quantity", "-value-quantity", "-value-quantity,-_id"} {
			want := orderedIDs(t, svc, "Observation", url.Values{"_sort": {sortBy}, "_count": {"100"}})
			require.Len(t, want, 7)
			assert.Equal(t, want, pageThrough(t, svc, "Observation", url.Values{"_sort": {sortBy}, "_count": {"2"}}, nil), sortBy)
		}
		assert.Equal(t, []string{"q5", "q1", "q0", "q3", "q4", "q2", "q6"},
			orderedIDs(t, svc, "Observation", url.Values{"_sort": {"value-quantity"}}))
	})
	t.Run("several values", func(t *testing.T) {
		asc := orderedIDs(t, svc, "Patient", url.Values{"_sort": {"family"}})
		desc := orderedIDs(t, svc, "Patient", url.Values{"_sort": {"-family"}})
		require.NotEmpty(t, asc)
		require.NotEmpty(t, desc)
		// k05 is Able ascending (its smallest) and Zed descending (its
		// largest), so it comes first both ways.
		assert.Equal(t, "k05", asc[0])
		assert.Equal(t, "k05", desc[0])
		assert.Equal(t, []string{"k04", "k08"}, asc[len(asc)-2:], "missing values sort last")
		assert.Equal(t, []string{"k04", "k08"}, desc[len(desc)-2:], "missing values sort last descending")
	})
	t.Run("changes between pages", func(t *testing.T) {
		params := url.Values{"_sort": {"family"}, "_count": {"3"}, "family:missing": {"false"}}
		before := orderedIDs(t, svc, "Patient", url.Values{"_sort": {"family"}, "_count": {"100"}, "family:missing": {"false"}})
		// before: k05 (Able), k03 (Adams), k01, k02, k07 (Baker), k06, k10
		// (Carter), k09 (Davis), k11 (Evans).
		require.Equal(t, []string{"k05", "k03", "k01", "k02", "k07", "k06", "k10", "k09", "k11"}, before)

		var deleted string
		got := pageThrough(t, svc, "Patient", params, func(page int) {
			if page != 1 {
				return
			}
			// Rows that sort before the cursor (k01, the last row of
			// page 1) and one equal to it with a higher row key.
			put(t, svc, "Patient", "new-a", patientBody([]string{"Aaron"}, ""))
			put(t, svc, "Patient", "new-b", patientBody([]string{"Baker"}, ""))
			put(t, svc, "Patient", "new-z", patientBody([]string{"Zimmer"}, ""))
			for _, id := range []string{"k05", "k01"} {
				_, err := svc.Delete(ctxFor("test"), "Patient", id, 0)
				require.NoError(t, err)
			}
			deleted = "k01"
		})
		require.Equal(t, "k01", deleted)
		// Page 1 is k05, k03, k01. Deleting two of them, the cursor row
		// included, and adding Aaron before the cursor shifts nothing.
		// new-b ties with the cursor's Baker and has a higher row key,
		// so it comes after k07; new-z comes last.
		assert.Equal(t, []string{"k05", "k03", "k01", "k02", "k07", "new-b", "k06", "k10", "k09", "k11", "new-z"}, got)

		for _, id := range []string{"new-a", "new-b", "new-z"} {
			_, err := svc.Delete(ctxFor("test"), "Patient", id, 0)
			require.NoError(t, err)
		}
		for _, id := range []string{"k05", "k01"} {
			p := seed[0]
			if id == "k05" {
				p = seed[4]
			}
			put(t, svc, "Patient", id, patientBody(p.family, p.birth))
		}
	})
	t.Run("unsorted paging with inserts", func(t *testing.T) {
		got := pageThrough(t, svc, "Patient", url.Values{"_count": {"4"}}, func(page int) {
			if page == 1 {
				put(t, svc, "Patient", "new-u", patientBody([]string{"Young"}, ""))
			}
		})
		assert.Len(t, got, len(seed)+1)
		assert.Equal(t, "new-u", got[len(got)-1])
	})

	first, err := svc.Search(ctxFor("test"), "Patient", url.Values{"_sort": {"-birthdate"}, "_count": {"2"}})
	require.NoError(t, err)
	require.NotNil(t, first.Next)
	cursor := first.Next.Get("_cursor")
	require.NotEmpty(t, cursor)
	t.Run("cursor is checked", func(t *testing.T) {
		flip := []byte(cursor)
		flip[len(flip)/3] ^= 1
		cases := []struct {
			name   string
			params url.Values
		}{
			{name: "altered", params: url.Values{"_sort": {"-birthdate"}, "_cursor": {string(flip)}}},
			{name: "not base64", params: url.Values{"_sort": {"-birthdate"}, "_cursor": {"%%%"}}},
			{name: "number", params: url.Values{"_sort": {"-birthdate"}, "_cursor": {"12"}}},
			{name: "other sort", params: url.Values{"_sort": {"birthdate"}, "_cursor": {cursor}}},
			{name: "other condition", params: url.Values{"_sort": {"-birthdate"}, "gender": {"male"}, "_cursor": {cursor}}},
			{name: "unsorted", params: url.Values{"_cursor": {cursor}}},
			{name: "other type", params: url.Values{"_sort": {"-date"}, "_cursor": {cursor}}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				typ := "Patient"
				if tc.name == "other type" {
					typ = "Observation"
				}
				_, err := svc.Search(ctxFor("test"), typ, tc.params)
				require.Error(t, err)
				assert.Equal(t, 400, emr.StatusFor(err), fmt.Sprint(err))
			})
		}
	})
	t.Run("cursor with another count", func(t *testing.T) {
		all := orderedIDs(t, svc, "Patient", url.Values{"_sort": {"-birthdate"}, "_count": {"100"}})
		require.Greater(t, len(all), 2)
		next := url.Values{"_sort": {"-birthdate"}, "_count": {"50"}, "_cursor": {cursor}}
		assert.Equal(t, all[2:], orderedIDs(t, svc, "Patient", next))
	})
}

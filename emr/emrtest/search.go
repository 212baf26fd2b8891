package emrtest

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func put(t *testing.T, svc *emr.Service, typ, id, body string) {
	t.Helper()
	_, _, err := svc.Update(ctxFor("test"), emr.UpdateParams{Type: typ, ID: id, Body: []byte(body)})
	require.NoError(t, err)
}

func searchIDs(t *testing.T, svc *emr.Service, typ, query string) []string {
	t.Helper()
	params, err := url.ParseQuery(query)
	require.NoError(t, err)
	res, err := svc.Search(ctxFor("test"), typ, params)
	require.NoError(t, err, query)
	ids := make([]string, 0, len(res.Resources))
	for _, r := range res.Resources {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	return ids
}

// assertSearchFails checks that a search of typ with query fails with the
// HTTP status.
func assertSearchFails(t *testing.T, svc *emr.Service, typ, query string, status int) {
	t.Helper()
	params, err := url.ParseQuery(query)
	require.NoError(t, err)
	_, err = svc.Search(ctxFor("test"), typ, params)
	require.Error(t, err, query)
	assert.Equal(t, status, emr.StatusFor(err), query)
}

func testSearch(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	put(t, svc, "Patient", "p2073", `{"resourceType":"Patient","birthDate":"2073","name":[{"family":"ΠΑΠΑΔΟΠΟΎΛΟΥ","given":["ΕΛΈΝΗ"]}]}`)
	put(t, svc, "Patient", "p197306", `{"resourceType":"Patient","birthDate":"1973-06","name":[{"family":"Müller","given":["Zoë"]}],
		"identifier":[{"system":"http://hosp.example/mrn","value":"ÜBER-20"}]}`)
	put(t, svc, "Patient", "p19730603", `{"resourceType":"Patient","birthDate":"1973-06-03","gender":"female","name":[{"family":"Tester","given":["Ava"]}],
		"address":[{"city":"Springfield"}]}`)
	put(t, svc, "Patient", "p19730604", `{"resourceType":"Patient","birthDate":"1973-06-04","gender":"male","name":[{"family":"Testerman,Jr"}],
		"identifier":[{"system":"http://hosp.example/odd","value":"A|B,C"}]}`)
	for id, v := range map[string]string{"o1": "140.0", "o2": "1.50", "o3": "0.700"} {
		put(t, svc, "Observation", id, `{"resourceType":"Observation","status":"final",
			"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
			"subject":{"reference":"Patient/p19730603"},"effectiveDateTime":"2024-03-17T08:00:00+02:00",
			"valueQuantity":{"value":`+v+`,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`)
	}

	t.Run("decimals keep their lexical form", func(t *testing.T) {
		for id, v := range map[string]string{"o1": "140.0", "o2": "1.50", "o3": "0.700"} {
			r, err := svc.Read(ctxFor("test"), "Observation", id)
			require.NoError(t, err)
			assert.Regexp(t, `"value":`+regexp.QuoteMeta(v)+`[,}]`, string(r.Body))
		}
	})

	cases := []struct {
		name  string
		typ   string
		query string
		want  []string
	}{
		{name: "date gt year", typ: "Patient", query: "birthdate=gt2072-01-01", want: []string{"p2073"}},
		{name: "date month contains days", typ: "Patient", query: "birthdate=1973-06", want: []string{"p197306", "p19730603", "p19730604"}},
		{name: "date eq day", typ: "Patient", query: "birthdate=1973-06-03", want: []string{"p19730603"}},
		// Stored 1973-06 overlaps the ranges above and below 1973-06-03, so
		// R4 matches it on both ge and le.
		{name: "date ge and le", typ: "Patient", query: "birthdate=ge1973-06-03&birthdate=le1973-06-03", want: []string{"p197306", "p19730603"}},
		{name: "date lt", typ: "Patient", query: "birthdate=lt1973-06-04", want: []string{"p197306", "p19730603"}},
		{name: "date ne", typ: "Patient", query: "birthdate=ne1973-06-03", want: []string{"p197306", "p19730604", "p2073"}},
		{name: "string prefix folds case", typ: "Patient", query: "family=test", want: []string{"p19730603", "p19730604"}},
		{name: "string exact", typ: "Patient", query: "family:exact=Tester", want: []string{"p19730603"}},
		{name: "string greek folded", typ: "Patient", query: "family=παπαδοπουλου", want: []string{"p2073"}},
		{name: "string contains greek", typ: "Patient", query: "family:contains=ΔΟΠΟΎ", want: []string{"p2073"}},
		{name: "string accent folded", typ: "Patient", query: "family=muller", want: []string{"p197306"}},
		{name: "string decomposed query", typ: "Patient", query: "name=Zoe\u0308", want: []string{"p197306"}},
		{name: "name covers given", typ: "Patient", query: "name=ava", want: []string{"p19730603"}},
		{name: "address city", typ: "Patient", query: "address-city=springf", want: []string{"p19730603"}},
		{name: "token exact value", typ: "Patient", query: "identifier=http://hosp.example/mrn|ÜBER-20", want: []string{"p197306"}},
		{name: "token does not fold", typ: "Patient", query: "identifier=http://hosp.example/mrn|uber-20", want: []string{}},
		{name: "token code only", typ: "Patient", query: "gender=female", want: []string{"p19730603"}},
		{name: "token escaped bar and comma", typ: "Patient", query: `identifier=http://hosp.example/odd|A\|B\,C`, want: []string{"p19730604"}},
		{name: "string escaped comma", typ: "Patient", query: `family=Testerman\,Jr`, want: []string{"p19730604"}},
		{name: "token or", typ: "Patient", query: "gender=female,male", want: []string{"p19730603", "p19730604"}},
		{name: "token not", typ: "Patient", query: "gender:not=female", want: []string{"p197306", "p19730604", "p2073"}},
		{name: "id", typ: "Patient", query: "_id=p2073,p197306", want: []string{"p197306", "p2073"}},
		{name: "reference", typ: "Observation", query: "subject=Patient/p19730603", want: []string{"o1", "o2", "o3"}},
		{name: "reference typed", typ: "Observation", query: "subject:Patient=p19730603", want: []string{"o1", "o2", "o3"}},
		{name: "reference other", typ: "Observation", query: "patient=p2073", want: []string{}},
		{name: "quantity with unit", typ: "Observation", query: "value-quantity=140.0|http://unitsofmeasure.org|mm[Hg]", want: []string{"o1"}},
		{name: "quantity precision", typ: "Observation", query: "value-quantity=1.5", want: []string{"o2"}},
		{name: "quantity integer", typ: "Observation", query: "value-quantity=140", want: []string{"o1"}},
		{name: "quantity gt", typ: "Observation", query: "value-quantity=gt1", want: []string{"o1", "o2"}},
		{name: "token system and code", typ: "Observation", query: "code=http://loinc.org|8480-6", want: []string{"o1", "o2", "o3"}},
		{name: "token wrong system", typ: "Observation", query: "code=http://snomed.info/sct|8480-6", want: []string{}},
		{name: "dateTime with offset", typ: "Observation", query: "date=2024-03-17T06:00:00Z", want: []string{"o1", "o2", "o3"}},
		{name: "dateTime before", typ: "Observation", query: "date=lt2024-03-17T05:00:00Z", want: []string{}},
		{name: "lastUpdated", typ: "Patient", query: "_lastUpdated=gt2000-01-01", want: []string{"p197306", "p19730603", "p19730604", "p2073"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, searchIDs(t, svc, tc.typ, tc.query))
		})
	}

	t.Run("count only", func(t *testing.T) {
		res, err := svc.Search(ctxFor("test"), "Patient", url.Values{"_summary": {"count"}})
		require.NoError(t, err)
		assert.Equal(t, 4, res.Total)
		assert.Empty(t, res.Resources)
	})
	t.Run("paging", func(t *testing.T) {
		params := url.Values{"_count": {"3"}, "_total": {"accurate"}}
		var ids []string
		for pages := 0; pages < 10; pages++ {
			res, err := svc.Search(ctxFor("test"), "Patient", params)
			require.NoError(t, err)
			assert.Equal(t, 4, res.Total)
			for _, r := range res.Resources {
				ids = append(ids, r.ID)
			}
			if res.Next == nil {
				break
			}
			params = res.Next
		}
		sort.Strings(ids)
		assert.Equal(t, []string{"p197306", "p19730603", "p19730604", "p2073"}, ids)
	})
	t.Run("deleted leave the index", func(t *testing.T) {
		put(t, svc, "Patient", "gone", `{"resourceType":"Patient","name":[{"family":"Vanished"}]}`)
		assert.Equal(t, []string{"gone"}, searchIDs(t, svc, "Patient", "family=vanished"))
		_, err := svc.Delete(ctxFor("test"), "Patient", "gone", 0)
		require.NoError(t, err)
		assert.Empty(t, searchIDs(t, svc, "Patient", "family=vanished"))
	})
	t.Run("updates replace index rows", func(t *testing.T) {
		put(t, svc, "Patient", "moving", `{"resourceType":"Patient","address":[{"city":"Oldtown"}]}`)
		put(t, svc, "Patient", "moving", `{"resourceType":"Patient","address":[{"city":"Newtown"}]}`)
		assert.Empty(t, searchIDs(t, svc, "Patient", "address-city=oldtown"))
		assert.Equal(t, []string{"moving"}, searchIDs(t, svc, "Patient", "address-city=newtown"))
	})
	t.Run("errors", func(t *testing.T) {
		cases := []struct {
			name  string
			query string
			want  error
		}{
			{name: "unknown parameter", query: "colour=blue", want: emr.ErrInvalid},
			{name: "bad date", query: "birthdate=1973-13", want: emr.ErrInvalid},
			{name: "bad count", query: "_count=x", want: emr.ErrInvalid},
			{name: "unsupported modifier", query: "family:below=x", want: emr.ErrUnsupported},
			{name: "unsupported summary", query: "_summary=text", want: emr.ErrUnsupported},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				params, _ := url.ParseQuery(tc.query)
				_, err := svc.Search(ctxFor("test"), "Patient", params)
				assert.ErrorIs(t, err, tc.want)
			})
		}
	})
}

func testSearchLimits(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	many := func(n int, format string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(format, i)
		}
		return strings.Join(parts, "&")
	}
	cases := []struct {
		name   string
		typ    string
		query  string
		status int
	}{
		{name: "too many parameters", typ: "Patient", query: many(emr.MaxSearchConditions+1, "family=x%d"), status: 400},
		{name: "too many values", typ: "Patient", query: "_id=" + strings.Repeat("a,", emr.MaxSearchConditions) + "a", status: 400},
		{name: "nul byte", typ: "Patient", query: "identifier=a%00b", status: 400},
		{name: "invalid utf8", typ: "Patient", query: "_id=%FF", status: 400},
		{name: "quantity with extra part", typ: "Observation", query: "value-quantity=5|a|b|c", status: 400},
		{name: "reference type not a target", typ: "Observation", query: "patient:Group=x", status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertSearchFails(t, svc, tc.typ, tc.query, tc.status)
		})
	}
	t.Run("count zero keeps its self link", func(t *testing.T) {
		res, err := svc.Search(ctxFor("test"), "Patient", url.Values{"_count": {"0"}})
		require.NoError(t, err)
		assert.Equal(t, "0", res.Self.Get("_count"))
		assert.Equal(t, 0, res.Total)
	})
	t.Run("limit itself is allowed", func(t *testing.T) {
		params, err := url.ParseQuery(many(emr.MaxSearchConditions, "family=x%d"))
		require.NoError(t, err)
		_, err = svc.Search(ctxFor("test"), "Patient", params)
		assert.NoError(t, err)
	})
}

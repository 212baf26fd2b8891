package emrtest

import (
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func orderedIDs(t *testing.T, svc *emr.Service, typ string, params url.Values) []string {
	t.Helper()
	res, err := svc.Search(ctxFor("test"), typ, params)
	require.NoError(t, err)
	ids := make([]string, len(res.Resources))
	for i, r := range res.Resources {
		ids[i] = r.ID
	}
	return ids
}

func testSortAndInclude(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	put(t, svc, "Organization", "org-a", `{"resourceType":"Organization","name":"Alpha Clinic"}`)
	put(t, svc, "Practitioner", "dr-b", `{"resourceType":"Practitioner","name":[{"family":"Brown"}]}`)
	put(t, svc, "Patient", "p-c", `{"resourceType":"Patient","name":[{"family":"Carter"}],"birthDate":"1990-01-01","managingOrganization":{"reference":"Organization/org-a"}}`)
	put(t, svc, "Patient", "p-a", `{"resourceType":"Patient","name":[{"family":"Adams"}],"birthDate":"1970-05-05","generalPractitioner":[{"reference":"Practitioner/dr-b"}]}`)
	put(t, svc, "Patient", "p-b", `{"resourceType":"Patient","name":[{"family":"Baker"}],"birthDate":"1980"}`)
	put(t, svc, "Patient", "p-none", `{"resourceType":"Patient","gender":"unknown"}`)
	put(t, svc, "Observation", "o-1", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p-a"}}`)
	put(t, svc, "Observation", "o-2", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p-c"}}`)

	t.Run("sort", func(t *testing.T) {
		cases := []struct {
			name string
			sort string
			want []string
		}{
			{name: "string ascending, missing last", sort: "family", want: []string{"p-a", "p-b", "p-c", "p-none"}},
			{name: "string descending", sort: "-family", want: []string{"p-c", "p-b", "p-a", "p-none"}},
			{name: "date", sort: "birthdate", want: []string{"p-a", "p-b", "p-c", "p-none"}},
			{name: "date descending", sort: "-birthdate", want: []string{"p-c", "p-b", "p-a", "p-none"}},
			{name: "id descending", sort: "-_id", want: []string{"p-none", "p-c", "p-b", "p-a"}},
			{name: "two keys", sort: "gender,family", want: []string{"p-none", "p-a", "p-b", "p-c"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				assert.Equal(t, tc.want, orderedIDs(t, svc, "Patient", url.Values{"_sort": {tc.sort}}))
			})
		}
	})
	t.Run("sorted paging", func(t *testing.T) {
		params := url.Values{"_sort": {"family"}, "_count": {"3"}}
		res, err := svc.Search(ctxFor("test"), "Patient", params)
		require.NoError(t, err)
		require.NotNil(t, res.Next)
		next, err := svc.Search(ctxFor("test"), "Patient", res.Next)
		require.NoError(t, err)
		require.Len(t, next.Resources, 1)
		assert.Equal(t, "p-none", next.Resources[0].ID)
		assert.Nil(t, next.Next)
	})
	t.Run("sort by unknown parameter", func(t *testing.T) {
		_, err := svc.Search(ctxFor("test"), "Patient", url.Values{"_sort": {"colour"}})
		assert.Equal(t, 400, emr.StatusFor(err))
	})

	includeCases := []struct {
		name   string
		typ    string
		params url.Values
		match  []string
		incl   []string
	}{
		{name: "include", typ: "Observation", params: url.Values{"_include": {"Observation:subject"}},
			match: []string{"o-1", "o-2"}, incl: []string{"Patient/p-a", "Patient/p-c"}},
		{name: "include with target", typ: "Observation", params: url.Values{"_include": {"Observation:subject:Group"}},
			match: []string{"o-1", "o-2"}, incl: []string{}},
		{name: "include iterate", typ: "Observation", params: url.Values{"_include": {"Observation:subject"}, "_include:iterate": {"Patient:organization", "Patient:general-practitioner"}},
			match: []string{"o-1", "o-2"}, incl: []string{"Organization/org-a", "Patient/p-a", "Patient/p-c", "Practitioner/dr-b"}},
		{name: "revinclude", typ: "Patient", params: url.Values{"_id": {"p-a"}, "_revinclude": {"Observation:subject"}},
			match: []string{"p-a"}, incl: []string{"Observation/o-1"}},
	}
	for _, tc := range includeCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := svc.Search(ctxFor("test"), tc.typ, tc.params)
			require.NoError(t, err)
			var match []string
			for _, r := range res.Resources {
				match = append(match, r.ID)
			}
			sort.Strings(match)
			incl := []string{}
			for _, r := range res.Included {
				incl = append(incl, r.Type+"/"+r.ID)
			}
			sort.Strings(incl)
			assert.Equal(t, tc.match, match)
			assert.Equal(t, tc.incl, incl)
		})
	}
	t.Run("include errors", func(t *testing.T) {
		for _, v := range []url.Values{
			{"_include": {"Observation"}},
			{"_include": {"Observation:status"}},
			{"_include": {"Patient:organization"}},
			{"_include:deep": {"Observation:subject"}},
		} {
			_, err := svc.Search(ctxFor("test"), "Observation", v)
			assert.Equal(t, 400, emr.StatusFor(err), "%v", v)
		}
	})
}

func testChainsAndModifiers(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	put(t, svc, "Organization", "org-x", `{"resourceType":"Organization","name":"Xavier Hospital"}`)
	put(t, svc, "Patient", "p-peter", `{"resourceType":"Patient","name":[{"family":"Peterson","given":["Peter"]}],"managingOrganization":{"reference":"Organization/org-x"},
		"maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}]}}`)
	put(t, svc, "Patient", "p-quinn", `{"resourceType":"Patient","name":[{"family":"Quinn"}]}`)
	put(t, svc, "Observation", "o-hr", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}]},"subject":{"reference":"Patient/p-peter"}}`)
	put(t, svc, "Observation", "o-bp", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"}]},"subject":{"reference":"Patient/p-quinn"}}`)
	put(t, svc, "ValueSet", "vs-1", `{"resourceType":"ValueSet","status":"active","url":"http://example.org/fhir/ValueSet/colours"}`)

	cases := []struct {
		name  string
		typ   string
		query string
		want  []string
	}{
		{name: "chain with type", typ: "Observation", query: "subject:Patient.name=peter", want: []string{"o-hr"}},
		{name: "chain of two", typ: "Observation", query: "subject:Patient.organization.name=xavier", want: []string{"o-hr"}},
		{name: "chain single target", typ: "Observation", query: "patient.family=quinn", want: []string{"o-bp"}},
		{name: "has", typ: "Patient", query: "_has:Observation:patient:code=8867-4", want: []string{"p-peter"}},
		{name: "has no match", typ: "Patient", query: "_has:Observation:patient:code=0000-0", want: []string{}},
		{name: "missing true", typ: "Patient", query: "organization:missing=true", want: []string{"p-quinn"}},
		{name: "missing false", typ: "Patient", query: "organization:missing=false", want: []string{"p-peter"}},
		{name: "token text", typ: "Observation", query: "code:text=heart", want: []string{"o-hr"}},
		{name: "uri below", typ: "ValueSet", query: "url:below=http://example.org/fhir", want: []string{"vs-1"}},
		{name: "uri above", typ: "ValueSet", query: "url:above=http://example.org/fhir/ValueSet/colours/extra", want: []string{"vs-1"}},
		{name: "uri exact misses prefix", typ: "ValueSet", query: "url=http://example.org/fhir", want: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, searchIDs(t, svc, tc.typ, tc.query))
		})
	}
	errorCases := []struct {
		name  string
		typ   string
		query string
	}{
		{name: "chain on non reference", typ: "Observation", query: "status.name=x"},
		{name: "chain needs type", typ: "Observation", query: "subject.name=x"},
		{name: "chain to wrong type", typ: "Observation", query: "patient:Group.name=x"},
		{name: "has bad shape", typ: "Patient", query: "_has:Observation:patient=x"},
		{name: "has wrong target", typ: "Patient", query: "_has:Observation:encounter:code=x"},
		{name: "missing bad value", typ: "Patient", query: "organization:missing=maybe"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			params, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			_, err = svc.Search(ctxFor("test"), tc.typ, params)
			assert.Equal(t, 400, emr.StatusFor(err), "%v", err)
		})
	}
}

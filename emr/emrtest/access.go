package emrtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

// Two patients, pa and pb, each with an Encounter, an Observation and a
// Condition. Both encounters name the Organization org. Observation oa of
// pa is derived from ob of pb, so a caller limited to pa sees a reference
// to a resource it may not read. Observation moved belonged to pb in
// version 1 and to pa in version 2.
const (
	codeA = "http://loinc.org|8480-6"
	codeB = "http://loinc.org|8462-4"
)

func seedCompartments(t *testing.T, svc *emr.Service) {
	t.Helper()
	put(t, svc, "Organization", "org", `{"resourceType":"Organization","name":"Test Clinic"}`)
	put(t, svc, "Practitioner", "prac", `{"resourceType":"Practitioner","name":[{"family":"Tester"}]}`)
	put(t, svc, "Patient", "pa", `{"resourceType":"Patient","name":[{"family":"Alpha"}]}`)
	put(t, svc, "Patient", "pb", `{"resourceType":"Patient","name":[{"family":"Bravo"}]}`)
	for _, p := range []struct{ id, status, code string }{{"a", "finished", "8480-6"}, {"b", "planned", "8462-4"}} {
		put(t, svc, "Encounter", "e"+p.id, `{"resourceType":"Encounter","status":"`+p.status+`",
			"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
			"subject":{"reference":"Patient/p`+p.id+`"},"serviceProvider":{"reference":"Organization/org"}}`)
		put(t, svc, "Condition", "c"+p.id, `{"resourceType":"Condition","code":{"text":"test condition"},
			"subject":{"reference":"Patient/p`+p.id+`"}}`)
		derived := ""
		if p.id == "a" {
			derived = `,"derivedFrom":[{"reference":"Observation/ob"}]`
		}
		put(t, svc, "Observation", "o"+p.id, `{"resourceType":"Observation","status":"final",
			"code":{"coding":[{"system":"http://loinc.org","code":"`+p.code+`"}]},
			"subject":{"reference":"Patient/p`+p.id+`"},"encounter":{"reference":"Encounter/e`+p.id+`"},
			"performer":[{"reference":"Practitioner/prac"}]`+derived+`}`)
	}
	put(t, svc, "Observation", "moved", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"subject":{"reference":"Patient/pb"}}`)
	put(t, svc, "Observation", "moved", `{"resourceType":"Observation","status":"final","code":{"text":"x"},
		"subject":{"reference":"Patient/pa"}}`)
}

func onlyPatientA() context.Context {
	return emr.ContextWithAccess(ctxFor("user/a"), &emr.Access{Patients: []string{"pa"}})
}

// searchAs runs a search under ctx and returns the sorted ids of matches
// and of included resources.
func searchAs(t *testing.T, svc *emr.Service, ctx context.Context, typ, query string) (matches, included []string) {
	t.Helper()
	params, err := url.ParseQuery(query)
	require.NoError(t, err)
	res, err := svc.Search(ctx, typ, params)
	require.NoError(t, err, query)
	matches, included = []string{}, []string{}
	for _, r := range res.Resources {
		matches = append(matches, r.ID)
	}
	for _, r := range res.Included {
		included = append(included, r.Type+"/"+r.ID)
	}
	sort.Strings(matches)
	sort.Strings(included)
	return matches, included
}

func testAccessReads(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	seedCompartments(t, svc)
	all := ctxFor("user/admin")
	onlyA := onlyPatientA()

	cases := []struct {
		name     string
		typ      string
		query    string
		all      []string
		onlyA    []string
		included []string
	}{
		{name: "observations", typ: "Observation", query: "", all: []string{"moved", "oa", "ob"}, onlyA: []string{"moved", "oa"}},
		{name: "patients", typ: "Patient", query: "", all: []string{"pa", "pb"}, onlyA: []string{"pa"}},
		{name: "search by other patient", typ: "Condition", query: "subject=Patient/pb", all: []string{"cb"}, onlyA: []string{}},
		{name: "outside the compartment", typ: "Organization", query: "", all: []string{"org"}, onlyA: []string{"org"}},
		{name: "sorted", typ: "Encounter", query: "_sort=status", all: []string{"ea", "eb"}, onlyA: []string{"ea"}},
		{name: "chain to other patient", typ: "Condition", query: "subject:Patient.name=bravo", all: []string{"cb"}, onlyA: []string{}},
		{name: "chain through hidden resource", typ: "Observation", query: "derived-from:Observation.code=" + codeB,
			all: []string{"oa"}, onlyA: []string{}},
		{name: "has", typ: "Patient", query: "_has:Observation:subject:code=" + codeA + "," + codeB,
			all: []string{"pa", "pb"}, onlyA: []string{"pa"}},
		{name: "has through hidden resource", typ: "Organization", query: "_has:Encounter:service-provider:status=planned",
			all: []string{"org"}, onlyA: []string{}},
		{name: "has not through hidden resource", typ: "Practitioner", query: "_has:Observation:performer:code:not=" + codeA,
			all: []string{"prac"}, onlyA: []string{}},
		{name: "include hidden target", typ: "Observation", query: "_id=oa&_include=Observation:derived-from",
			all: []string{"oa"}, onlyA: []string{"oa"}, included: []string{}},
		{name: "revinclude", typ: "Organization", query: "_revinclude=Encounter:service-provider",
			all: []string{"org"}, onlyA: []string{"org"}, included: []string{"Encounter/ea"}},
		{name: "revinclude iterate", typ: "Organization",
			query: "_revinclude=Encounter:service-provider&_revinclude:iterate=Observation:encounter",
			all:   []string{"org"}, onlyA: []string{"org"}, included: []string{"Encounter/ea", "Observation/oa"}},
		{name: "include patient", typ: "Observation", query: "_include=Observation:subject",
			all: []string{"moved", "oa", "ob"}, onlyA: []string{"moved", "oa"}, included: []string{"Patient/pa"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := searchAs(t, svc, all, tc.typ, tc.query)
			assert.Equal(t, tc.all, got, "unrestricted")
			got, included := searchAs(t, svc, onlyA, tc.typ, tc.query)
			assert.Equal(t, tc.onlyA, got, "limited to pa")
			if tc.included != nil {
				assert.Equal(t, tc.included, included, "included, limited to pa")
			}
		})
	}

	t.Run("totals", func(t *testing.T) {
		for _, query := range []url.Values{{"_total": {"accurate"}}, {"_summary": {"count"}}, {"_count": {"0"}}} {
			res, err := svc.Search(onlyA, "Observation", query)
			require.NoError(t, err)
			assert.Equal(t, 2, res.Total, query.Encode())
		}
	})
	t.Run("paging", func(t *testing.T) {
		params := url.Values{"_count": {"1"}}
		var ids []string
		for pages := 0; pages < 5; pages++ {
			res, err := svc.Search(onlyA, "Observation", params)
			require.NoError(t, err)
			for _, r := range res.Resources {
				ids = append(ids, r.ID)
			}
			if res.Next == nil {
				break
			}
			params = res.Next
		}
		assert.Equal(t, []string{"oa", "moved"}, ids)
	})
	t.Run("read", func(t *testing.T) {
		_, err := svc.Read(onlyA, "Observation", "ob")
		assert.ErrorIs(t, err, emr.ErrNotFound)
		_, err = svc.Read(onlyA, "Patient", "pb")
		assert.ErrorIs(t, err, emr.ErrNotFound)
		_, err = svc.Read(onlyA, "Observation", "oa")
		assert.NoError(t, err)
		_, err = svc.Read(onlyA, "Organization", "org")
		assert.NoError(t, err)
	})
	t.Run("vread", func(t *testing.T) {
		_, err := svc.VRead(onlyA, "Observation", "ob", 1)
		assert.ErrorIs(t, err, emr.ErrNotFound)
		_, err = svc.VRead(onlyA, "Observation", "moved", 1)
		assert.ErrorIs(t, err, emr.ErrNotFound, "version 1 was in the compartment of pb")
		_, err = svc.VRead(onlyA, "Observation", "moved", 2)
		assert.NoError(t, err)
		_, err = svc.VRead(all, "Observation", "moved", 1)
		assert.NoError(t, err)
	})
	t.Run("history", func(t *testing.T) {
		versions := func(q emr.HistoryQuery) []string {
			page, err := svc.History(onlyA, q)
			require.NoError(t, err)
			var out []string
			for _, v := range page.Versions {
				out = append(out, fmt.Sprintf("%s/%s/%d", v.Type, v.ID, v.VersionID))
			}
			sort.Strings(out)
			return out
		}
		assert.Empty(t, versions(emr.HistoryQuery{Type: "Observation", ID: "ob"}))
		assert.Equal(t, []string{"Observation/moved/2"}, versions(emr.HistoryQuery{Type: "Observation", ID: "moved"}))
		assert.Equal(t, []string{"Observation/moved/2", "Observation/oa/1"}, versions(emr.HistoryQuery{Type: "Observation"}))
		assert.Equal(t, []string{"Condition/ca/1", "Encounter/ea/1", "Observation/moved/2", "Observation/oa/1",
			"Organization/org/1", "Patient/pa/1", "Practitioner/prac/1"}, versions(emr.HistoryQuery{}))
	})
	t.Run("everything", func(t *testing.T) {
		_, err := svc.Everything(onlyA, emr.EverythingParams{PatientID: "pb"})
		assert.ErrorIs(t, err, emr.ErrNotFound)
		res, err := svc.Everything(onlyA, emr.EverythingParams{PatientID: "pa"})
		require.NoError(t, err)
		var got []string
		for _, r := range res.Resources {
			got = append(got, r.Type+"/"+r.ID)
		}
		assert.ElementsMatch(t, []string{"Patient/pa", "Condition/ca", "Encounter/ea", "Observation/oa", "Observation/moved"}, got)
	})
	t.Run("export", func(t *testing.T) {
		run := func(p emr.ExportParams) (map[string]int, error) {
			return svc.Export(onlyA, p, func(string) (io.Writer, error) { return &bytes.Buffer{}, nil })
		}
		counts, err := run(emr.ExportParams{})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"Condition": 1, "Encounter": 1, "Observation": 2, "Organization": 1,
			"Patient": 1, "Practitioner": 1}, counts)
		counts, err = run(emr.ExportParams{PatientLevel: true})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"Condition": 1, "Encounter": 1, "Observation": 2, "Patient": 1}, counts)
		_, err = run(emr.ExportParams{Patients: []string{"pb"}})
		assert.ErrorIs(t, err, emr.ErrNotFound, "a group export naming a hidden patient")
	})
	t.Run("types", func(t *testing.T) {
		ctx := emr.ContextWithAccess(ctxFor("user/a"), &emr.Access{Patients: []string{"pa"}, Types: []string{"Patient", "Observation"}})
		got, _ := searchAs(t, svc, ctx, "Condition", "")
		assert.Empty(t, got)
		got, _ = searchAs(t, svc, ctx, "Organization", "")
		assert.Empty(t, got)
		got, _ = searchAs(t, svc, ctx, "Observation", "encounter:Encounter.status=finished")
		assert.Empty(t, got, "a chain through a hidden type")
		_, err := svc.Read(ctx, "Condition", "ca")
		assert.ErrorIs(t, err, emr.ErrNotFound)
		page, err := svc.History(ctx, emr.HistoryQuery{})
		require.NoError(t, err)
		for _, v := range page.Versions {
			assert.Contains(t, []string{"Patient", "Observation"}, v.Type)
		}
	})
	t.Run("all patients", func(t *testing.T) {
		ctx := emr.ContextWithAccess(ctxFor("user/a"), &emr.Access{AllPatients: true, Types: []string{"Observation"}})
		got, _ := searchAs(t, svc, ctx, "Observation", "")
		assert.Equal(t, []string{"moved", "oa", "ob"}, got)
		got, _ = searchAs(t, svc, ctx, "Patient", "")
		assert.Empty(t, got)
	})
	t.Run("no patients", func(t *testing.T) {
		ctx := emr.ContextWithAccess(ctxFor("user/a"), &emr.Access{})
		got, _ := searchAs(t, svc, ctx, "Observation", "")
		assert.Empty(t, got)
		got, _ = searchAs(t, svc, ctx, "Organization", "")
		assert.Equal(t, []string{"org"}, got)
	})
}

package emrtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

const importBundle = `{"resourceType":"Bundle","type":"transaction","entry":[
	{"fullUrl":"urn:uuid:8a1b6e3c-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","id":"8a1b6e3c-0000-4000-8000-000000000001","name":[{"family":"Tester"}]},"request":{"method":"POST","url":"Patient"}},
	{"fullUrl":"urn:uuid:8a1b6e3c-0000-4000-8000-000000000002","resource":{"resourceType":"Encounter","id":"8a1b6e3c-0000-4000-8000-000000000002","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"urn:uuid:8a1b6e3c-0000-4000-8000-000000000001"}},"request":{"method":"POST","url":"Encounter"}},
	{"resource":{"resourceType":"Observation","status":"final","code":{"text":"note"},"subject":{"reference":"urn:uuid:8a1b6e3c-0000-4000-8000-000000000001"},"encounter":{"reference":"urn:uuid:8a1b6e3c-0000-4000-8000-000000000002"}},"request":{"method":"POST","url":"Observation"}}
]}`

func testImport(t *testing.T, newStore NewStore) {
	ctx := ctxFor("system/import")
	svc := newService(t, newStore)
	res, err := svc.ImportBundle(ctx, []byte(importBundle))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Patient": 1, "Encounter": 1, "Observation": 1}, res.Created)

	enc, err := svc.Read(ctx, "Encounter", "8a1b6e3c-0000-4000-8000-000000000002")
	require.NoError(t, err)
	subject := object(t, enc.Body)["subject"].(map[string]any)["reference"]
	assert.Equal(t, "Patient/8a1b6e3c-0000-4000-8000-000000000001", subject, "urn:uuid references resolve to stored ids")
	assert.Len(t, searchIDs(t, svc, "Observation", "encounter=Encounter/8a1b6e3c-0000-4000-8000-000000000002"), 1)

	again, err := svc.ImportBundle(ctx, []byte(importBundle))
	require.NoError(t, err)
	assert.Empty(t, again.Updated, "re-import makes no versions")
	assert.Equal(t, map[string]int{"Patient": 1, "Encounter": 1}, again.Unchanged)
	assert.Equal(t, map[string]int{"Observation": 1}, again.Created, "a resource without id is new each time")
	p, err := svc.Read(ctx, "Patient", "8a1b6e3c-0000-4000-8000-000000000001")
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.VersionID)

	t.Run("content seen before is not written again", func(t *testing.T) {
		a := `{"resourceType":"Organization","id":"shared-org","name":"Clinic"}`
		b := `{"resourceType":"Organization","id":"shared-org","name":"Clinic","alias":["The Clinic"]}`
		for _, body := range []string{a, b, a, b} {
			_, err := svc.ImportBundle(ctx, []byte(body))
			require.NoError(t, err)
		}
		org, err := svc.Read(ctx, "Organization", "shared-org")
		require.NoError(t, err)
		assert.Equal(t, int64(2), org.VersionID)
	})
	t.Run("invalid entry stores nothing of its bundle", func(t *testing.T) {
		bad := `{"resourceType":"Bundle","type":"collection","entry":[
			{"resource":{"resourceType":"Patient","id":"never-stored"}},
			{"resource":{"resourceType":"Patient","id":"bad","birthDate":"not-a-date"}}]}`
		_, err := svc.ImportBundle(ctx, []byte(bad))
		var ee *emr.EntryError
		require.True(t, errors.As(err, &ee))
		assert.Equal(t, 1, ee.Index)
		var ve *emr.ValidationError
		require.True(t, errors.As(err, &ve))
		assert.Equal(t, "Patient.birthDate", ve.Issues[0].Path)
		_, err = svc.Read(ctx, "Patient", "never-stored")
		assert.ErrorIs(t, err, emr.ErrNotFound)
	})
	t.Run("ndjson lines", func(t *testing.T) {
		res, err := svc.ImportResources(ctx, [][]byte{
			[]byte(`{"resourceType":"Practitioner","id":"pr-1"}`),
			[]byte(`{"resourceType":"Practitioner","id":"pr-2"}`),
		})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Created["Practitioner"])
	})
}

func testBundle(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/clerk")
	svc := newService(t, newStore)
	put(t, svc, "Patient", "pt-018", `{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"MRN-018"}]}`)
	put(t, svc, "Patient", "pt-017", `{"resourceType":"Patient","gender":"male"}`)
	put(t, svc, "Patient", "pt-017", `{"resourceType":"Patient","gender":"female"}`)

	tx := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:00000000-0000-4000-8000-0000000018a1",
		 "resource":{"resourceType":"Organization","identifier":[{"system":"http://example.org/org","value":"LAB-18"}],"name":"Synthetic Lab"},
		 "request":{"method":"POST","url":"Organization","ifNoneExist":"identifier=http://example.org/org|LAB-18"}},
		{"fullUrl":"urn:uuid:00000000-0000-4000-8000-0000000018a2",
		 "resource":{"resourceType":"Organization","identifier":[{"system":"http://example.org/org","value":"LAB-18"}],"name":"Synthetic Lab"},
		 "request":{"method":"POST","url":"Organization","ifNoneExist":"identifier=http://example.org/org|LAB-18"}},
		{"resource":{"resourceType":"DiagnosticReport","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"58410-2"}]},
		   "subject":{"reference":"Patient?identifier=http://example.org/mrn%7CMRN-018"},
		   "performer":[{"reference":"urn:uuid:00000000-0000-4000-8000-0000000018a1"},{"reference":"urn:uuid:00000000-0000-4000-8000-0000000018a2"}]},
		 "request":{"method":"POST","url":"DiagnosticReport"}},
		{"resource":{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"Patient/pt-017/_history/2"}},
		 "request":{"method":"POST","url":"Observation"}}]}`
	t.Run("conditional creates and references", func(t *testing.T) {
		resp, err := svc.ProcessBundle(ctx, []byte(tx))
		require.NoError(t, err)
		require.Len(t, resp.Entries, 4)
		assert.Equal(t, 201, resp.Entries[0].Status)
		orgs := searchIDs(t, svc, "Organization", "identifier=http://example.org/org|LAB-18")
		require.Len(t, orgs, 1, "one Organization for two conditional creates")
		report := object(t, resp.Entries[2].Resource.Body)
		assert.Equal(t, "Patient/pt-018", report["subject"].(map[string]any)["reference"])
		for _, p := range report["performer"].([]any) {
			assert.Equal(t, "Organization/"+orgs[0], p.(map[string]any)["reference"])
		}
		obs := object(t, resp.Entries[3].Resource.Body)
		assert.Equal(t, "Patient/pt-017/_history/2", obs["subject"].(map[string]any)["reference"], "versioned reference kept")

		_, err = svc.ProcessBundle(ctx, []byte(tx))
		require.NoError(t, err)
		assert.Len(t, searchIDs(t, svc, "Organization", "identifier=http://example.org/org|LAB-18"), 1, "repeating the bundle adds none")
	})
	t.Run("failures roll back everything", func(t *testing.T) {
		cases := []struct {
			name string
			ref  string
		}{
			{name: "missing version", ref: "Patient/pt-017/_history/9"},
			{name: "no conditional match", ref: "Patient?identifier=http://example.org/mrn%7CNOBODY"},
			{name: "dangling urn", ref: "urn:uuid:00000000-0000-4000-8000-00000000dead"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				body := `{"resourceType":"Bundle","type":"transaction","entry":[
					{"resource":{"resourceType":"Patient","id":"x","name":[{"family":"Rollback"}]},"request":{"method":"PUT","url":"Patient/rollback-1"}},
					{"resource":{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"` + tc.ref + `"}},
					 "request":{"method":"POST","url":"Observation"}}]}`
				_, err := svc.ProcessBundle(ctx, []byte(body))
				require.Error(t, err)
				assert.GreaterOrEqual(t, emr.StatusFor(err), 400)
				assert.Less(t, emr.StatusFor(err), 500)
				assert.Empty(t, searchIDs(t, svc, "Patient", "family=rollback"))
			})
		}
	})
	t.Run("batch entries fail alone", func(t *testing.T) {
		body := `{"resourceType":"Bundle","type":"batch","entry":[
			{"resource":{"resourceType":"Patient","name":[{"family":"Batchone"}]},"request":{"method":"POST","url":"Patient"}},
			{"resource":{"resourceType":"Patient","birthDate":"bad"},"request":{"method":"POST","url":"Patient"}},
			{"request":{"method":"GET","url":"Patient/pt-018"}},
			{"request":{"method":"DELETE","url":"Patient/pt-017"}}]}`
		resp, err := svc.ProcessBundle(ctx, []byte(body))
		require.NoError(t, err)
		assert.Equal(t, 201, resp.Entries[0].Status)
		assert.Equal(t, 422, resp.Entries[1].Status)
		assert.Error(t, resp.Entries[1].Err)
		assert.Equal(t, 200, resp.Entries[2].Status)
		assert.Equal(t, 204, resp.Entries[3].Status)
		assert.Len(t, searchIDs(t, svc, "Patient", "family=batchone"), 1)
	})
	t.Run("entry limit", func(t *testing.T) {
		small, err := emr.NewService(newStore(t), emr.Config{MaxBundleEntries: 1})
		require.NoError(t, err)
		_, err = small.ProcessBundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
			{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`))
		assert.ErrorIs(t, err, emr.ErrTooLarge)
		assert.Equal(t, 413, emr.StatusFor(err))
	})
}

func testBundleRules(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/clerk")
	svc := newService(t, newStore)
	cases := []struct {
		name string
		body string
	}{
		{name: "same fullUrl twice", body: `{"resourceType":"Bundle","type":"transaction","entry":[
			{"fullUrl":"urn:uuid:00000000-0000-4000-8000-0000000000aa","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
			{"fullUrl":"urn:uuid:00000000-0000-4000-8000-0000000000aa","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`},
		{name: "same resource put twice", body: `{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient","id":"dup9"},"request":{"method":"PUT","url":"Patient/dup9"}},
			{"resource":{"resourceType":"Patient","id":"dup9"},"request":{"method":"PUT","url":"Patient/dup9"}}]}`},
		{name: "delete and put", body: `{"resourceType":"Bundle","type":"transaction","entry":[
			{"request":{"method":"DELETE","url":"Patient/dup9"}},
			{"resource":{"resourceType":"Patient","id":"dup9"},"request":{"method":"PUT","url":"Patient/dup9"}}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.ProcessBundle(ctx, []byte(tc.body))
			require.Error(t, err)
			assert.Equal(t, 400, emr.StatusFor(err))
			assert.Empty(t, searchIDs(t, svc, "Patient", "_id=dup9"))
		})
	}
}

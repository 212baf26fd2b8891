package fhir_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/fhir"
)

// countOf returns how many resources of typ exist.
func (s *testServer) countOf(typ string) float64 {
	s.t.Helper()
	resp := s.do(http.MethodGet, "/"+typ+"?_summary=count", "")
	require.Equal(s.t, http.StatusOK, resp.status, "%s", resp.body)
	total, _ := resp.json(s.t)["total"].(float64)
	return total
}

const transactionWithReferences = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a",
  "resource":{"resourceType":"Patient","name":[{"family":"Linked"}]},
  "request":{"method":"POST","url":"Patient"}},
 {"fullUrl":"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059",
  "resource":{"resourceType":"Observation","status":"final","code":{"text":"heart rate"},
   "subject":{"reference":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
   "valueQuantity":{"value":72,"unit":"/min"}},
  "request":{"method":"POST","url":"Observation"}}
]}`

func TestTransactionReferences(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, path := range []string{"", "/"} {
		t.Run("base "+path, func(t *testing.T) {
			resp := s.do(http.MethodPost, path, transactionWithReferences)
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			b := resp.json(t)
			assert.Equal(t, "transaction-response", b["type"])
			list := entries(t, b)
			require.Len(t, list, 2)
			for _, e := range list {
				assert.Equal(t, "201 Created", at(e, "response", "status"))
				assert.Equal(t, `W/"1"`, at(e, "response", "etag"))
				assert.NotEmpty(t, at(e, "response", "lastModified"))
				assert.Nil(t, e["resource"], "writes return no resource unless asked")
			}
			patientLocation, _ := at(list[0], "response", "location").(string)
			require.True(t, strings.HasPrefix(patientLocation, "Patient/"), patientLocation)
			patientID := strings.Split(patientLocation, "/")[1]
			assert.Equal(t, s.base+"/Patient/"+patientID, list[0]["fullUrl"])

			obsLocation, _ := at(list[1], "response", "location").(string)
			obs := s.do(http.MethodGet, "/"+strings.TrimSuffix(obsLocation, "/_history/1"), "")
			require.Equal(t, http.StatusOK, obs.status, "%s", obs.body)
			assert.Equal(t, "Patient/"+patientID, at(obs.json(t), "subject", "reference"))
		})
	}
}

func TestTransactionRepresentation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodPost, "", transactionWithReferences, "Prefer", "return=representation")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	list := entries(t, resp.json(t))
	require.Len(t, list, 2)
	assert.Equal(t, "Patient", at(list[0], "resource", "resourceType"))
	assert.Equal(t, "Observation", at(list[1], "resource", "resourceType"))
}

func TestTransactionRollback(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:3a0e8a2e-0e4c-4bd1-9b0e-2d8d1b5b2f11",
	  "resource":{"resourceType":"Patient","name":[{"family":"Rollback"}]},
	  "request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
	   "subject":{"reference":"urn:uuid:3a0e8a2e-0e4c-4bd1-9b0e-2d8d1b5b2f11"}},
	  "request":{"method":"POST","url":"Observation"}},
	 {"resource":{"resourceType":"Observation","status":"not-a-status","code":{"text":"x"}},
	  "request":{"method":"POST","url":"Observation"}}
	]}`
	resp := s.do(http.MethodPost, "/", body)
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s", resp.body)
	first := issue(t, resp.json(t))
	assert.Equal(t, "error", first["severity"])
	assert.Contains(t, first["diagnostics"], "Bundle.entry[2]")
	expressions, _ := first["expression"].([]any)
	require.NotEmpty(t, expressions)
	assert.True(t, strings.HasPrefix(expressions[0].(string), "Bundle.entry[2]"), "%v", expressions)

	assert.Equal(t, float64(0), s.countOf("Patient"), "nothing of a failed transaction is stored")
	assert.Equal(t, float64(0), s.countOf("Observation"))
}

func TestBatchWithBadEntry(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	existing := s.create("Patient", patientBody)
	body := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":{"resourceType":"Patient","name":[{"family":"Batched"}]},"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","birthDate":"not-a-date"},"request":{"method":"POST","url":"Patient"}},
	 {"request":{"method":"GET","url":"Patient/` + existing + `"}},
	 {"request":{"method":"GET","url":"Patient/never-made"}}
	]}`
	resp := s.do(http.MethodPost, "/", body)
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	assert.Equal(t, "batch-response", b["type"])
	list := entries(t, b)
	require.Len(t, list, 4)

	assert.Equal(t, "201 Created", at(list[0], "response", "status"))
	assert.Equal(t, "422 Unprocessable Entity", at(list[1], "response", "status"))
	outcome := at(list[1], "response", "outcome")
	assert.Equal(t, "OperationOutcome", at(outcome, "resourceType"))
	assert.Equal(t, "error", at(outcome, "issue", 0, "severity"))
	assert.Contains(t, at(outcome, "issue", 0, "expression", 0), "Bundle.entry[1]")

	assert.Equal(t, "200 OK", at(list[2], "response", "status"))
	assert.Equal(t, existing, at(list[2], "resource", "id"), "a GET entry carries the resource")
	assert.Equal(t, s.base+"/Patient/"+existing, list[2]["fullUrl"])
	assert.Equal(t, "404 Not Found", at(list[3], "response", "status"))
	assert.Equal(t, "not-found", at(list[3], "response", "outcome", "issue", 0, "code"))

	assert.Equal(t, float64(2), s.countOf("Patient"), "the good entry is stored")
}

func TestTransactionIfNoneExist(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	existing := s.create("Patient", `{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"MRN-7"}]}`)
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"fullUrl":"urn:uuid:0c3c1a5e-3f7b-4a43-9f3f-8e0d3e1c9a01",
	  "resource":{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"MRN-7"}]},
	  "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=http://example.org/mrn|MRN-7"}},
	 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
	   "subject":{"reference":"urn:uuid:0c3c1a5e-3f7b-4a43-9f3f-8e0d3e1c9a01"}},
	  "request":{"method":"POST","url":"Observation"}}
	]}`
	resp := s.do(http.MethodPost, "/", body)
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	list := entries(t, resp.json(t))
	require.Len(t, list, 2)
	assert.Equal(t, "200 OK", at(list[0], "response", "status"), "the match is not created again")
	assert.Equal(t, s.base+"/Patient/"+existing, list[0]["fullUrl"])
	assert.Equal(t, float64(1), s.countOf("Patient"))

	ids := s.searchIDs("Observation?subject=Patient/" + existing)
	assert.Len(t, ids, 1, "the reference points to the matched patient")
}

func TestTransactionVersionedReference(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	require.Equal(t, http.StatusCreated, s.do(http.MethodPut, "/Patient/x", `{"resourceType":"Patient","id":"x"}`).status)
	require.Equal(t, http.StatusOK, s.do(http.MethodPut, "/Patient/x", `{"resourceType":"Patient","id":"x","active":true}`).status)

	bundleFor := func(ref string) string {
		return `{"resourceType":"Bundle","type":"transaction","entry":[
		 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"` + ref + `"}},
		  "request":{"method":"POST","url":"Observation"}}]}`
	}

	resp := s.do(http.MethodPost, "/", bundleFor("Patient/x/_history/2"))
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	location, _ := at(entries(t, resp.json(t))[0], "response", "location").(string)
	obs := s.do(http.MethodGet, "/"+strings.TrimSuffix(location, "/_history/1"), "")
	require.Equal(t, http.StatusOK, obs.status)
	assert.Equal(t, "Patient/x/_history/2", at(obs.json(t), "subject", "reference"), "stored as sent")

	missing := s.do(http.MethodPost, "/", bundleFor("Patient/x/_history/9"))
	assert.GreaterOrEqual(t, missing.status, 400, "%s", missing.body)
	assert.Less(t, missing.status, 500, "%s", missing.body)
	assert.Contains(t, issue(t, missing.json(t))["diagnostics"], "Bundle.entry[0]")
	assert.Equal(t, float64(1), s.countOf("Observation"), "the failed transaction stored nothing")
}

func TestTransactionConditionalReference(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	patient := s.create("Patient", `{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"MRN-018"}]}`)
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
	   "subject":{"reference":"Patient?identifier=http://example.org/mrn%7CMRN-018"}},
	  "request":{"method":"POST","url":"Observation"}}]}`
	resp := s.do(http.MethodPost, "/", body)
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	location, _ := at(entries(t, resp.json(t))[0], "response", "location").(string)
	obs := s.do(http.MethodGet, "/"+strings.TrimSuffix(location, "/_history/1"), "")
	require.Equal(t, http.StatusOK, obs.status)
	assert.Equal(t, "Patient/"+patient, at(obs.json(t), "subject", "reference"))

	none := strings.ReplaceAll(body, "MRN-018", "MRN-404")
	failed := s.do(http.MethodPost, "/", none)
	assert.Equal(t, http.StatusPreconditionFailed, failed.status, "%s", failed.body)
}

func TestTransactionSameConditionalCreateTwice(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	org := func(uuid string) string {
		return `{"fullUrl":"urn:uuid:` + uuid + `",
		  "resource":{"resourceType":"Organization","identifier":[{"system":"http://example.org/org","value":"ORG-9"}]},
		  "request":{"method":"POST","url":"Organization","ifNoneExist":"identifier=http://example.org/org|ORG-9"}}`
	}
	patient := func(name, uuid string) string {
		return `{"resource":{"resourceType":"Patient","name":[{"family":"` + name + `"}],
		   "managingOrganization":{"reference":"urn:uuid:` + uuid + `"}},
		  "request":{"method":"POST","url":"Patient"}}`
	}
	body := `{"resourceType":"Bundle","type":"transaction","entry":[` +
		org("9d5ba3b4-6c41-4b1e-a2d3-2a7f0f8a1c01") + "," +
		org("9d5ba3b4-6c41-4b1e-a2d3-2a7f0f8a1c02") + "," +
		patient("First", "9d5ba3b4-6c41-4b1e-a2d3-2a7f0f8a1c01") + "," +
		patient("Second", "9d5ba3b4-6c41-4b1e-a2d3-2a7f0f8a1c02") + `]}`
	resp := s.do(http.MethodPost, "/", body)
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)

	orgs := s.do(http.MethodGet, "/Organization", "")
	require.Equal(t, http.StatusOK, orgs.status)
	orgIDs := entryIDs(t, orgs.json(t))
	require.Len(t, orgIDs, 1, "exactly one Organization exists")

	patients := s.do(http.MethodGet, "/Patient", "")
	require.Equal(t, http.StatusOK, patients.status)
	list := entries(t, patients.json(t))
	require.Len(t, list, 2)
	for _, e := range list {
		assert.Equal(t, "Organization/"+orgIDs[0], at(e, "resource", "managingOrganization", "reference"))
	}
}

func TestBundleErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{name: "not a bundle", body: patientBody, status: http.StatusUnprocessableEntity},
		{name: "collection", body: `{"resourceType":"Bundle","type":"collection"}`, status: http.StatusUnprocessableEntity},
		{name: "invalid json", body: `{"resourceType":"Bundle",`, status: http.StatusBadRequest},
		{name: "conditional update", body: `{"resourceType":"Bundle","type":"transaction","entry":[
		  {"resource":{"resourceType":"Patient"},"request":{"method":"PUT","url":"Patient?identifier=a|b"}}]}`, status: http.StatusBadRequest},
		{name: "unknown urn", body: `{"resourceType":"Bundle","type":"transaction","entry":[
		  {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
		   "subject":{"reference":"urn:uuid:00000000-0000-4000-8000-000000000000"}},"request":{"method":"POST","url":"Observation"}}]}`,
			status: http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, "/", tt.body)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			assert.Equal(t, "error", issue(t, resp.json(t))["severity"])
		})
	}
	get := s.do(http.MethodGet, "/", "")
	assert.Equal(t, http.StatusMethodNotAllowed, get.status)
	assert.Equal(t, "POST", get.header.Get("Allow"))
}

func TestBatchUnsupportedEntry(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodPost, "/", `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
	 {"request":{"method":"PATCH","url":"Patient/1"}}]}`)
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	list := entries(t, resp.json(t))
	require.Len(t, list, 2)
	assert.Equal(t, "201 Created", at(list[0], "response", "status"))
	assert.Equal(t, "400 Bad Request", at(list[1], "response", "status"))
}

func TestBatchAtBaseWithoutSlash(t *testing.T) {
	t.Parallel()
	// The handler is mounted as cmd/nexusd mounts it, and the client does
	// not follow redirects, so a 307 to /fhir/ fails the test.
	h := http.StripPrefix("/fhir", fhir.NewHandler(fhir.Config{Service: newService(t)}))
	mux := http.NewServeMux()
	mux.Handle("/fhir", h)
	mux.Handle("/fhir/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
	  {"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`

	for _, target := range []string{"/fhir", "/fhir/"} {
		t.Run("POST "+target, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+target, strings.NewReader(batch))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/fhir+json")
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)

			b := response{body: body}.json(t)
			assert.Equal(t, "batch-response", b["type"])
			list := entries(t, b)
			require.Len(t, list, 1)
			assert.Equal(t, "201 Created", at(list[0], "response", "status"))
			fullURL, _ := list[0]["fullUrl"].(string)
			assert.True(t, strings.HasPrefix(fullURL, srv.URL+"/fhir/Patient/"), fullURL)
		})
	}

	t.Run("GET /fhir", func(t *testing.T) {
		resp, err := client.Get(srv.URL + "/fhir")
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "the base only allows POST")
		assert.Equal(t, "POST", resp.Header.Get("Allow"))
	})
}

func TestBundleEmptyBody(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, body := range []string{"", "  \n"} {
		req, err := http.NewRequest(http.MethodPost, s.base, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/fhir+json")
		resp, err := s.srv.Client().Do(req)
		require.NoError(t, err)
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "body %q: %s", body, data)
		assert.Equal(t, "structure", issue(t, response{body: data}.json(t))["code"], "body %q", body)
	}
}

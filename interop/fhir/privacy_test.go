package fhir_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fake patient data that failing requests carry. Neither may appear in an
// error's diagnostics or in the log.
const (
	secretFamily = "Quilliamson"
	secretGiven  = "Zephyrine"
	secretMRN    = "MRN-PRIV-4471"
)

func TestNoPatientDataInErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	identifier := `"identifier":[{"system":"http://example.org/mrn","value":"` + secretMRN + `"}]`
	name := `"name":[{"family":"` + secretFamily + `","given":["` + secretGiven + `"]}]`
	s.create("Patient", `{"resourceType":"Patient",`+identifier+`}`)
	s.create("Organization", `{"resourceType":"Organization",`+identifier+`}`)
	s.create("Organization", `{"resourceType":"Organization",`+identifier+`}`)
	condition := "identifier=" + url.QueryEscape("http://example.org/mrn|"+secretMRN)

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header []string
	}{
		{name: "invalid birth date", method: http.MethodPost, path: "/Patient",
			body: `{"resourceType":"Patient",` + name + `,"birthDate":"` + secretGiven + `"}`},
		{name: "unknown element", method: http.MethodPost, path: "/Patient",
			body: `{"resourceType":"Patient",` + name + `,"nickname":"` + secretFamily + `"}`},
		{name: "invalid gender code", method: http.MethodPost, path: "/Patient",
			body: `{"resourceType":"Patient",` + name + `,"gender":"` + secretFamily + `"}`},
		{name: "wrong datatype", method: http.MethodPost, path: "/Patient",
			body: `{"resourceType":"Patient","name":"` + secretFamily + `"}`},
		{name: "identifier in use", method: http.MethodPost, path: "/Patient",
			body: `{"resourceType":"Patient",` + name + `,` + identifier + `}`},
		{name: "id mismatch", method: http.MethodPut, path: "/Patient/abc",
			body: `{"resourceType":"Patient","id":"` + secretFamily + `",` + name + `}`},
		{name: "invalid search date", method: http.MethodGet,
			path: "/Patient?family=" + secretFamily + "&birthdate=" + secretGiven},
		{name: "unknown search parameter", method: http.MethodGet,
			path: "/Patient?" + condition + "&nick=" + secretFamily},
		{name: "invalid quantity", method: http.MethodGet, path: "/Observation?value-quantity=" + secretFamily},
		{name: "ambiguous conditional create", method: http.MethodPost, path: "/Organization",
			body: `{"resourceType":"Organization",` + identifier + `}`, header: []string{"If-None-Exist", condition}},
		{name: "transaction entry", method: http.MethodPost, path: "/", body: `{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient",` + name + `,"birthDate":"` + secretMRN + `"},"request":{"method":"POST","url":"Patient"}}]}`},
		{name: "transaction conditional reference", method: http.MethodPost, path: "/", body: `{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
			 "subject":{"reference":"Patient?identifier=http://example.org/mrn%7C` + secretMRN + `-X"}},
			 "request":{"method":"POST","url":"Observation"}}]}`},
		{name: "batch entry", method: http.MethodPost, path: "/", body: `{"resourceType":"Bundle","type":"batch","entry":[
			{"resource":{"resourceType":"Patient",` + name + `,"gender":"` + secretGiven + `"},"request":{"method":"POST","url":"Patient"}}]}`},
		{name: "history parameter", method: http.MethodGet, path: "/Patient/_history?family=" + secretFamily},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(tt.method, tt.path, tt.body, tt.header...)
			body := string(resp.body)
			if resp.status == http.StatusOK {
				// A batch returns 200 with the failure in the entry.
				require.Contains(t, body, `"outcome"`, "the request did not fail: %s", body)
			} else {
				require.GreaterOrEqual(t, resp.status, 400, "the request did not fail: %s", body)
			}
			for _, secret := range []string{secretFamily, secretGiven, secretMRN} {
				assert.NotContains(t, body, secret, "status %d", resp.status)
			}
		})
	}
	logs := s.logs.String()
	require.Contains(t, logs, "fhir request", "the requests were logged")
	for _, secret := range []string{secretFamily, secretGiven, secretMRN} {
		assert.NotContains(t, logs, secret)
	}
	assert.False(t, strings.Contains(logs, "?"), "no query string is logged")
}

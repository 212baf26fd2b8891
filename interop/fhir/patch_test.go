package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPatchJSONPatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	patch := `[{"op":"replace","path":"/birthDate","value":"1981-04-05"},{"op":"add","path":"/active","value":true}]`

	resp := s.do(http.MethodPatch, "/Patient/"+id, patch, "Content-Type", "application/json-patch+json")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	assert.Equal(t, `W/"2"`, resp.header.Get("ETag"))
	assert.NotEmpty(t, resp.header.Get("Last-Modified"))
	assert.Empty(t, resp.header.Get("Location"))
	body := resp.json(t)
	assert.Equal(t, "1981-04-05", body["birthDate"])
	assert.Equal(t, true, body["active"])
	assert.Equal(t, "Testperson", at(body, "name", 0, "family"), "untouched elements stay")
	assert.Equal(t, "2", at(body, "meta", "versionId"))

	read := s.do(http.MethodGet, "/Patient/"+id, "")
	assert.Equal(t, resp.body, read.body)
}

func TestPatchIfMatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	patch := `[{"op":"add","path":"/active","value":false}]`

	stale := s.do(http.MethodPatch, "/Patient/"+id, patch,
		"Content-Type", "application/json-patch+json", "If-Match", `W/"7"`)
	require.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)
	assert.Equal(t, "conflict", issue(t, stale.json(t))["code"])

	current := s.do(http.MethodPatch, "/Patient/"+id, patch,
		"Content-Type", "application/json-patch+json", "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, current.status, "%s", current.body)
	assert.Equal(t, `W/"2"`, current.header.Get("ETag"))

	invalid := s.do(http.MethodPatch, "/Patient/"+id, patch,
		"Content-Type", "application/json-patch+json", "If-Match", "*")
	assert.Equal(t, http.StatusBadRequest, invalid.status, "%s", invalid.body)
}

func TestPatchErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	deleted := s.create("Patient", patientBody)
	require.Equal(t, http.StatusOK, s.do(http.MethodDelete, "/Patient/"+deleted, "").status)
	jsonPatch := []string{"Content-Type", "application/json-patch+json"}
	addActive := `[{"op":"add","path":"/active","value":true}]`

	tests := []struct {
		name   string
		path   string
		body   string
		header []string
		status int
		code   string
	}{
		{name: "not an array", path: "/Patient/" + id, body: `{"op":"add"}`, header: jsonPatch, status: 400, code: "structure"},
		{name: "invalid json", path: "/Patient/" + id, body: `[{"op":`, header: jsonPatch, status: 400, code: "structure"},
		{name: "empty body", path: "/Patient/" + id, body: " ", header: jsonPatch, status: 400, code: "structure"},
		{name: "missing path", path: "/Patient/" + id, body: `[{"op":"remove","path":"/gender"}]`, header: jsonPatch, status: 422, code: "processing"},
		{name: "failed test", path: "/Patient/" + id, body: `[{"op":"test","path":"/birthDate","value":"1900-01-01"}]`, header: jsonPatch, status: 412, code: "processing"},
		{name: "changes id", path: "/Patient/" + id, body: `[{"op":"replace","path":"/id","value":"other"}]`, header: jsonPatch, status: 422, code: "invalid"},
		{name: "invalid result", path: "/Patient/" + id, body: `[{"op":"replace","path":"/birthDate","value":"soon"}]`, header: jsonPatch, status: 422},
		{name: "unknown resource", path: "/Patient/never-made", body: addActive, header: jsonPatch, status: 404, code: "not-found"},
		{name: "deleted resource", path: "/Patient/" + deleted, body: addActive, header: jsonPatch, status: 410, code: "deleted"},
		{name: "invalid id", path: "/Patient/no_underscores", body: addActive, header: jsonPatch, status: 404, code: "not-found"},
		{name: "json patch as fhir json", path: "/Patient/" + id, body: addActive, header: []string{"Content-Type", "application/fhir+json"}, status: 400, code: "structure"},
		{name: "merge patch", path: "/Patient/" + id, body: `{"active":true}`, header: []string{"Content-Type", "application/merge-patch+json"}, status: 415, code: "not-supported"},
		{name: "query parameter", path: "/Patient/" + id + "?_elements=name", body: addActive, header: jsonPatch, status: 400, code: "not-supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPatch, tt.path, tt.body, tt.header...)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, "error", first["severity"])
			assert.NotEmpty(t, first["diagnostics"])
			if tt.code != "" {
				assert.Equal(t, tt.code, first["code"])
			}
		})
	}

	read := s.do(http.MethodGet, "/Patient/"+id, "")
	assert.Equal(t, `W/"1"`, read.header.Get("ETag"), "no failed patch stored a version")
}

func TestPatchFormatMessage(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	resp := s.do(http.MethodPatch, "/Patient/"+id, `{"resourceType":"Parameters"}`, "Content-Type", "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, resp.status, "%s", resp.body)
	assert.Contains(t, issue(t, resp.json(t))["diagnostics"], "FHIRPath Patch")
}

// TestPreferReturn checks each return preference on every interaction that
// writes a resource.
func TestPreferReturn(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	type write struct {
		method, path, body string
		header             []string
		status             int
	}
	// Each function prepares one write; caseName makes the criteria of a
	// conditional create unique, so every case creates.
	interactions := map[string]func(t *testing.T, caseName string) write{
		"create": func(t *testing.T, _ string) write {
			return write{method: http.MethodPost, path: "/Patient", body: patientBody, status: http.StatusCreated}
		},
		"update": func(t *testing.T, _ string) write {
			id := s.create("Patient", patientBody)
			return write{method: http.MethodPut, path: "/Patient/" + id, body: withID(id, patientBody), status: http.StatusOK}
		},
		"patch": func(t *testing.T, _ string) write {
			id := s.create("Patient", patientBody)
			return write{method: http.MethodPatch, path: "/Patient/" + id, body: `[{"op":"add","path":"/active","value":true}]`,
				header: []string{"Content-Type", "application/json-patch+json"}, status: http.StatusOK}
		},
		"conditional create": func(t *testing.T, caseName string) write {
			name := "Prefer " + caseName
			return write{method: http.MethodPost, path: "/Organization", body: `{"resourceType":"Organization","name":"` + name + `"}`,
				header: []string{"If-None-Exist", "name:exact=" + name}, status: http.StatusCreated}
		},
	}
	preferences := []struct {
		name   string
		prefer string
		check  func(t *testing.T, resp response)
	}{
		{name: "none", check: checkRepresentation},
		{name: "representation", prefer: "return=representation", check: checkRepresentation},
		{name: "minimal", prefer: "return=minimal", check: func(t *testing.T, resp response) {
			assert.Empty(t, resp.body)
		}},
		{name: "operation outcome", prefer: "return=OperationOutcome", check: func(t *testing.T, resp response) {
			first := issue(t, resp.json(t))
			assert.Equal(t, "information", first["severity"])
			assert.Contains(t, first["diagnostics"], "the current version is")
		}},
		{name: "lenient ignored", prefer: "handling=lenient, return=minimal", check: func(t *testing.T, resp response) {
			assert.Empty(t, resp.body)
		}},
	}
	for name, prepare := range interactions {
		for _, p := range preferences {
			t.Run(name+"/"+p.name, func(t *testing.T) {
				w := prepare(t, p.name)
				header := w.header
				if p.prefer != "" {
					header = append(header, "Prefer", p.prefer)
				}
				resp := s.do(w.method, w.path, w.body, header...)
				require.Equal(t, w.status, resp.status, "%s", resp.body)
				assert.NotEmpty(t, resp.header.Get("ETag"))
				assert.NotEmpty(t, resp.header.Get("Last-Modified"))
				p.check(t, resp)
			})
		}
	}
}

func checkRepresentation(t *testing.T, resp response) {
	t.Helper()
	body := resp.json(t)
	assert.NotEqual(t, "OperationOutcome", body["resourceType"])
	assert.NotEmpty(t, body["id"])
}

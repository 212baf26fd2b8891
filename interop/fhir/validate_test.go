package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parametersWith wraps a resource in a $validate Parameters body, with a
// mode part when mode is not "".
func parametersWith(resource, mode string) string {
	parts := `{"name":"resource","resource":` + resource + `}`
	if mode != "" {
		parts += `,{"name":"mode","valueCode":"` + mode + `"}`
	}
	return `{"resourceType":"Parameters","parameter":[` + parts + `]}`
}

func TestValidateOutcomes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	invalidPatient := `{"resourceType":"Patient","birthDate":"soon"}`
	tests := []struct {
		name     string
		path     string
		body     string
		severity string
		code     string
		// expression is a part of the first issue's first expression.
		expression string
	}{
		{name: "valid resource", path: "/Patient/$validate", body: patientBody, severity: "information", code: "informational"},
		{name: "invalid resource", path: "/Patient/$validate", body: invalidPatient, severity: "error", expression: "birthDate"},
		{name: "unknown element", path: "/Patient/$validate", body: `{"resourceType":"Patient","shoeSize":9}`, severity: "error", expression: "shoeSize"},
		{name: "other type", path: "/Patient/$validate", body: `{"resourceType":"Observation"}`, severity: "error", code: "invalid"},
		{name: "valid parameters", path: "/Patient/$validate", body: parametersWith(patientBody, ""), severity: "information"},
		{name: "invalid parameters", path: "/Patient/$validate", body: parametersWith(invalidPatient, "create"), severity: "error", expression: "birthDate"},
		{name: "instance", path: "/Patient/p1/$validate", body: withID("p1", patientBody), severity: "information"},
		{name: "update same id", path: "/Patient/p1/$validate", body: parametersWith(withID("p1", patientBody), "update"), severity: "information"},
		{name: "update other id", path: "/Patient/p1/$validate", body: parametersWith(withID("p2", patientBody), "update"), severity: "error", code: "invalid", expression: "Patient.id"},
		{name: "update without id", path: "/Patient/$validate", body: parametersWith(patientBody, "update"), severity: "error", code: "required"},
		{name: "parameters as itself", path: "/Parameters/$validate", body: `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"y"}]}`, severity: "information"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, tt.path, tt.body)
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, tt.severity, first["severity"])
			if tt.code != "" {
				assert.Equal(t, tt.code, first["code"])
			}
			if tt.expression != "" {
				assert.Contains(t, at(first, "expression", 0), tt.expression)
			}
		})
	}
	count := s.do(http.MethodGet, "/Patient?_summary=count", "")
	assert.Equal(t, float64(0), count.json(t)["total"], "$validate stores nothing")
}

func TestValidateRejected(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		code   string
	}{
		{name: "not json", method: http.MethodPost, path: "/Patient/$validate", body: `{"resourceType":`, status: 400, code: "structure"},
		{name: "empty body", method: http.MethodPost, path: "/Patient/$validate", body: " ", status: 400, code: "structure"},
		{name: "no resource part", method: http.MethodPost, path: "/Patient/$validate", body: `{"resourceType":"Parameters","parameter":[]}`, status: 400, code: "required"},
		{name: "profile", method: http.MethodPost, path: "/Patient/$validate",
			body: `{"resourceType":"Parameters","parameter":[{"name":"profile","valueUri":"http://example.org/p"}]}`, status: 400, code: "not-supported"},
		{name: "delete mode", method: http.MethodPost, path: "/Patient/p1/$validate", body: parametersWith(patientBody, "delete"), status: 400, code: "not-supported"},
		{name: "unknown part", method: http.MethodPost, path: "/Patient/$validate",
			body: `{"resourceType":"Parameters","parameter":[{"name":"colour","valueString":"red"}]}`, status: 400, code: "not-supported"},
		{name: "invalid id", method: http.MethodPost, path: "/Patient/no_underscores/$validate", body: patientBody, status: 404, code: "not-found"},
		{name: "get", method: http.MethodGet, path: "/Patient/$validate", status: 405, code: "not-supported"},
		{name: "query parameter", method: http.MethodPost, path: "/Patient/$validate?profile=x", body: patientBody, status: 400, code: "not-supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(tt.method, tt.path, tt.body)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, "error", first["severity"])
			assert.Equal(t, tt.code, first["code"])
		})
	}
}

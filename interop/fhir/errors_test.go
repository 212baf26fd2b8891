package fhir_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *fhir.Config) { c.MaxBodyBytes = 4096 })
	mrn := `"identifier":[{"system":"http://example.org/mrn","value":"MRN-409"}]`
	s.create("Patient", `{"resourceType":"Patient",`+mrn+`}`)
	deleted := s.create("Patient", patientBody)
	require.Equal(t, http.StatusOK, s.do(http.MethodDelete, "/Patient/"+deleted, "").status)
	current := s.create("Patient", patientBody)
	huge := `{"resourceType":"Patient","name":[{"family":"` + strings.Repeat("x", 5000) + `"}]}`

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		header []string
		status int
		code   string
	}{
		{name: "unknown search parameter", method: http.MethodGet, path: "/Patient?hair-colour=red", status: 400, code: "not-supported"},
		{name: "unsupported read parameter", method: http.MethodGet, path: "/Patient/" + current + "?_count=5", status: 400, code: "not-supported"},
		{name: "bad If-Match", method: http.MethodPut, path: "/Patient/" + current, body: withID(current, patientBody), header: []string{"If-Match", "*"}, status: 400, code: "invalid"},
		{name: "unknown type", method: http.MethodGet, path: "/Pateint/1", status: 404, code: "not-found"},
		{name: "missing resource", method: http.MethodGet, path: "/Patient/never-made", status: 404, code: "not-found"},
		{name: "invalid id", method: http.MethodGet, path: "/Patient/no_underscores", status: 404, code: "not-found"},
		{name: "unknown path", method: http.MethodGet, path: "/Patient/1/_history/1/extra", status: 404, code: "not-found"},
		{name: "method on instance", method: http.MethodPost, path: "/Patient/" + current, body: patientBody, status: 405, code: "not-supported"},
		{name: "fhirpath patch not parameters", method: http.MethodPatch, path: "/Patient/" + current, body: "[]", status: 400, code: "structure"},
		{name: "method on type", method: http.MethodPatch, path: "/Patient", body: "[]", status: 405, code: "not-supported"},
		{name: "unknown operation", method: http.MethodGet, path: "/Patient/" + current + "/$nothing", status: 404, code: "not-found"},
		{name: "unknown type operation", method: http.MethodPost, path: "/Patient/$match", body: patientBody, status: 404, code: "not-found"},
		{name: "conditional delete without criteria", method: http.MethodDelete, path: "/Patient", status: 400, code: "invalid"},
		{name: "conditional update without criteria", method: http.MethodPut, path: "/Patient", body: patientBody, status: 400, code: "invalid"},
		{name: "xml accept", method: http.MethodGet, path: "/Patient/" + current, header: []string{"Accept", "application/fhir+xml"}, status: 406, code: "not-supported"},
		{name: "identifier in use", method: http.MethodPost, path: "/Patient", body: `{"resourceType":"Patient",` + mrn + `}`, status: 409, code: "conflict"},
		{name: "deleted", method: http.MethodGet, path: "/Patient/" + deleted, status: 410, code: "deleted"},
		{name: "version mismatch", method: http.MethodPut, path: "/Patient/" + current, body: withID(current, patientBody), header: []string{"If-Match", `W/"5"`}, status: 412, code: "conflict"},
		{name: "body too large", method: http.MethodPost, path: "/Patient", body: huge, status: 413, code: "too-costly"},
		{name: "xml body", method: http.MethodPost, path: "/Patient", body: "<Patient/>", header: []string{"Content-Type", "application/fhir+xml"}, status: 415, code: "not-supported"},
		{name: "invalid resource", method: http.MethodPost, path: "/Patient", body: `{"resourceType":"Patient","birthDate":"soon"}`, status: 422},
		{name: "unknown element", method: http.MethodPost, path: "/Patient", body: `{"resourceType":"Patient","shoeSize":9}`, status: 422},
		{name: "type mismatch", method: http.MethodPost, path: "/Patient", body: `{"resourceType":"Observation"}`, status: 422},
		{name: "id mismatch", method: http.MethodPut, path: "/Patient/" + current, body: `{"resourceType":"Patient","id":"other"}`, status: 400, code: "invalid"},
		{name: "invalid json", method: http.MethodPost, path: "/Patient", body: `{"resourceType":`, status: 400, code: "structure"},
		{name: "json array", method: http.MethodPost, path: "/Patient", body: `[` + patientBody + `]`, status: 400, code: "structure"},
		{name: "text after object", method: http.MethodPost, path: "/Patient", body: patientBody + ` x`, status: 400, code: "structure"},
		{name: "blank body", method: http.MethodPost, path: "/Patient", body: " ", status: 400, code: "structure"},
		{name: "update invalid json", method: http.MethodPut, path: "/Patient/" + current, body: `{"resourceType":`, status: 400, code: "structure"},
		{name: "update json array", method: http.MethodPut, path: "/Patient/" + current, body: `[]`, status: 400, code: "structure"},
		{name: "update text after object", method: http.MethodPut, path: "/Patient/" + current, body: withID(current, patientBody) + `{}`, status: 400, code: "structure"},
		{name: "conditional create json array", method: http.MethodPost, path: "/Patient", body: `[]`, header: []string{"If-None-Exist", "identifier=a|b"}, status: 400, code: "structure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(tt.method, tt.path, tt.body, tt.header...)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			assert.Equal(t, "application/fhir+json; charset=utf-8", resp.header.Get("Content-Type"))
			first := issue(t, resp.json(t))
			assert.Equal(t, "error", first["severity"])
			assert.NotEmpty(t, first["code"])
			assert.NotEmpty(t, first["diagnostics"])
			if tt.code != "" {
				assert.Equal(t, tt.code, first["code"])
			}
		})
	}
}

func TestEmptyBody(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	current := s.create("Patient", patientBody)
	tests := []struct {
		name   string
		method string
		path   string
	}{
		{name: "create", method: http.MethodPost, path: "/Patient"},
		{name: "update", method: http.MethodPut, path: "/Patient/" + current},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// s.do sends no body and no Content-Type for "".
			resp := s.do(tt.method, tt.path, "")
			require.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, "structure", first["code"])
			assert.Contains(t, first["diagnostics"], "empty")
		})
	}
}

func TestUnsupportedContentTypeMessage(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name        string
		path        string
		contentType string
		want        string
		xml         bool
	}{
		{name: "text", path: "/Patient", contentType: "text/plain",
			want: "unsupported content type text/plain: send application/fhir+json"},
		{name: "form on create", path: "/Patient", contentType: "application/x-www-form-urlencoded",
			want: "unsupported content type application/x-www-form-urlencoded: send application/fhir+json"},
		{name: "multipart", path: "/Patient", contentType: "multipart/form-data; boundary=x",
			want: "unsupported content type multipart/form-data: send application/fhir+json"},
		{name: "fhir xml", path: "/Patient", contentType: "application/fhir+xml",
			want: "unsupported content type application/fhir+xml: send application/fhir+json", xml: true},
		{name: "text xml", path: "/Patient", contentType: "text/xml; charset=utf-8",
			want: "unsupported content type text/xml: send application/fhir+json", xml: true},
		{name: "text on search", path: "/Patient/_search", contentType: "text/plain",
			want: "unsupported content type text/plain: send application/x-www-form-urlencoded or application/fhir+json"},
		{name: "invalid header", path: "/Patient", contentType: "application/",
			want: "invalid Content-Type header: send application/fhir+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, tt.path, patientBody, "Content-Type", tt.contentType)
			require.Equal(t, http.StatusUnsupportedMediaType, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, "not-supported", first["code"])
			diagnostics, _ := first["diagnostics"].(string)
			assert.True(t, strings.HasPrefix(diagnostics, tt.want), "diagnostics: %s", diagnostics)
			if tt.xml {
				assert.Contains(t, diagnostics, "does not support XML")
			} else {
				assert.NotContains(t, diagnostics, "XML")
			}
		})
	}
}

func TestErrorExpression(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodPost, "/Patient", `{"resourceType":"Patient","birthDate":"soon"}`)
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
	expressions, _ := issue(t, resp.json(t))["expression"].([]any)
	require.Len(t, expressions, 1)
	assert.Contains(t, expressions[0], "birthDate")
}

func TestMethodNotAllowedAllow(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name   string
		method string
		path   string
		allow  string
	}{
		{name: "instance", method: http.MethodPost, path: "/Patient/1", allow: "GET, HEAD, PUT, PATCH, DELETE"},
		{name: "type", method: http.MethodPatch, path: "/Patient", allow: "GET, HEAD, POST, PUT, DELETE"},
		{name: "version", method: http.MethodPatch, path: "/Patient/1/_history/1", allow: "GET, HEAD"},
		{name: "validate", method: http.MethodGet, path: "/Patient/$validate", allow: "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(tt.method, tt.path, "{}")
			require.Equal(t, http.StatusMethodNotAllowed, resp.status)
			assert.Equal(t, tt.allow, resp.header.Get("Allow"))
		})
	}
}

func TestBundleTooManyEntries(t *testing.T) {
	t.Parallel()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{MaxBundleEntries: 1})
	require.NoError(t, err)
	srv := httptest.NewServer(fhir.NewHandler(fhir.Config{Service: svc}))
	t.Cleanup(srv.Close)
	s := &testServer{t: t, srv: srv, base: srv.URL}

	entry := `{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}`
	resp := s.do(http.MethodPost, "/", `{"resourceType":"Bundle","type":"batch","entry":[`+entry+","+entry+`]}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.status, "%s", resp.body)
	assert.Equal(t, "too-costly", issue(t, resp.json(t))["code"])
}

// failingService fails every read with an internal error whose text must
// reach the log but not the client.
type failingService struct {
	*emr.Service
}

func (failingService) Read(context.Context, string, string) (*emr.Resource, error) {
	return nil, errors.New("storage unavailable: disk quota exceeded")
}

func TestInternalError(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	h := fhir.NewHandler(fhir.Config{
		Service: failingService{newService(t)},
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := &testServer{t: t, srv: srv, base: srv.URL}

	resp := s.do(http.MethodGet, "/Patient/abc", "", "X-Request-Id", "req-500-test")
	require.Equal(t, http.StatusInternalServerError, resp.status, "%s", resp.body)
	assert.Equal(t, "req-500-test", resp.header.Get("X-Request-Id"))
	first := issue(t, resp.json(t))
	assert.Equal(t, "exception", first["code"])
	assert.Contains(t, first["diagnostics"], "req-500-test")
	assert.NotContains(t, string(resp.body), "disk quota", "the client never sees the internal cause")

	out := logs.String()
	assert.Contains(t, out, `"level":"ERROR"`)
	assert.Contains(t, out, "disk quota exceeded")
	assert.Contains(t, out, `"request_id":"req-500-test"`)
}

// panickingService panics in delete, to check that the handler recovers.
type panickingService struct {
	*emr.Service
}

func (panickingService) Delete(context.Context, string, string, int64) (*emr.Resource, error) {
	panic("unexpected state")
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	srv := httptest.NewServer(fhir.NewHandler(fhir.Config{
		Service: panickingService{newService(t)},
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	}))
	t.Cleanup(srv.Close)
	s := &testServer{t: t, srv: srv, base: srv.URL}

	resp := s.do(http.MethodDelete, "/Patient/abc", "")
	require.Equal(t, http.StatusInternalServerError, resp.status)
	assert.Equal(t, "exception", issue(t, resp.json(t))["code"])
	assert.Contains(t, logs.String(), "fhir handler panicked")
	assert.Contains(t, logs.String(), `"status":500`)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	assert.Error(t, fhir.Config{}.Validate())
	assert.Error(t, fhir.Config{Service: newService(t), MaxBodyBytes: -1}.Validate())
	assert.NoError(t, fhir.Config{Service: newService(t)}.WithDefaults().Validate())
	assert.Panics(t, func() { fhir.NewHandler(fhir.Config{}) })
}

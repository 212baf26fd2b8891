package fhir_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// testServer is the handler mounted at /fhir on a loopback server, backed
// by an emr.Service on a fresh SQLite database.
type testServer struct {
	t    *testing.T
	srv  *httptest.Server
	base string
	svc  *emr.Service
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a server's
// request goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newService(t *testing.T) *emr.Service {
	t.Helper()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	return svc
}

// newServer starts a test server; configure may change the handler's
// Config, whose Service is already set.
func newServer(t *testing.T, configure ...func(*fhir.Config)) *testServer {
	t.Helper()
	svc := newService(t)
	logs := &syncBuffer{}
	cfg := fhir.Config{
		Service: svc,
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, c := range configure {
		c(&cfg)
	}
	h := http.StripPrefix("/fhir", fhir.NewHandler(cfg))
	mux := http.NewServeMux()
	mux.Handle("/fhir", h)
	mux.Handle("/fhir/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{t: t, srv: srv, base: srv.URL + "/fhir", svc: svc, logs: logs}
}

// response is a finished request with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic tree.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

// do sends a request to path below the base (or to an absolute URL) with
// header pairs such as "If-Match", `W/"1"`.
func (s *testServer) do(method, path, body string, header ...string) response {
	s.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = s.base + path
	}
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, reader)
	require.NoError(s.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// withID returns body, a JSON object, with "id" set to id as its first
// member, as an update requires.
func withID(id, body string) string {
	return `{"id":"` + id + `",` + strings.TrimPrefix(body, "{")
}

// create posts a resource and returns its id.
func (s *testServer) create(typ, body string) string {
	s.t.Helper()
	resp := s.do(http.MethodPost, "/"+typ, body)
	require.Equal(s.t, http.StatusCreated, resp.status, "create %s: %s", typ, resp.body)
	id, _ := resp.json(s.t)["id"].(string)
	require.NotEmpty(s.t, id)
	return id
}

// entries returns Bundle.entry of a decoded bundle.
func entries(t *testing.T, b map[string]any) []map[string]any {
	t.Helper()
	raw, _ := b["entry"].([]any)
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		m, ok := e.(map[string]any)
		require.True(t, ok)
		out[i] = m
	}
	return out
}

// entryIDs returns the ids of the entries' resources.
func entryIDs(t *testing.T, b map[string]any) []string {
	t.Helper()
	var ids []string
	for _, e := range entries(t, b) {
		res, _ := e["resource"].(map[string]any)
		id, _ := res["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

// link returns the URL of the bundle link with relation, "" when absent.
func link(b map[string]any, relation string) string {
	links, _ := b["link"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		if m["relation"] == relation {
			u, _ := m["url"].(string)
			return u
		}
	}
	return ""
}

// issue returns the first issue of a decoded OperationOutcome.
func issue(t *testing.T, oo map[string]any) map[string]any {
	t.Helper()
	require.Equal(t, "OperationOutcome", oo["resourceType"], "not an OperationOutcome: %v", oo)
	issues, _ := oo["issue"].([]any)
	require.NotEmpty(t, issues)
	first, _ := issues[0].(map[string]any)
	return first
}

func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

const patientBody = `{"resourceType":"Patient","name":[{"family":"Testperson","given":["Ada"]}],"birthDate":"1980-02-03"}`

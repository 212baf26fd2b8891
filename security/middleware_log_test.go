package security_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestMiddlewareLogsRejections(t *testing.T) {
	logs := &logBuffer{}
	f := newFixture(t, security.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	srv := stack(f, security.MiddlewareConfig{MaxBodyBytes: 64})
	defer srv.Close()

	resp := get(t, srv.URL+"/fhir/Patient/p-secret-id?name=Jones", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp = get(t, srv.URL+"/fhir/Patient", "forged.token.value")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	big, err := http.Post(srv.URL+"/fhir/Patient", "application/fhir+json", strings.NewReader(strings.Repeat("x", 100)))
	require.NoError(t, err)
	big.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, big.StatusCode)

	out := logs.String()
	assert.Equal(t, 3, strings.Count(out, "request rejected"), out)
	assert.Contains(t, out, "level=INFO msg=\"request rejected\" status=401 reason=\"no access token\"")
	assert.Contains(t, out, "level=WARN msg=\"request rejected\" status=413")
	assert.Contains(t, out, "path=/fhir/Patient/...")
	assert.NotContains(t, out, "p-secret-id", "no resource id")
	assert.NotContains(t, out, "Jones", "no query")
	assert.NotContains(t, out, "forged.token.value", "no token")
}

func TestMiddlewareExemptsProbes(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{IPRate: 1, IPBurst: 1, NoAuth: true,
		Exempt: func(r *http.Request) bool { return r.URL.Path == "/healthz" }})
	defer srv.Close()
	for range 3 {
		resp := get(t, srv.URL+"/healthz", "")
		assert.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode, "probes skip the per-address limit")
	}
	assert.Equal(t, http.StatusOK, get(t, srv.URL+"/fhir/Patient", "").StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, get(t, srv.URL+"/fhir/Patient", "").StatusCode)
}

func TestMiddlewareSetsNoStore(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	resp := get(t, srv.URL+"/fhir/Patient", f.systemToken(t, c, "system/Patient.rs"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "FHIR responses")
	resp = get(t, srv.URL+security.PathSMARTConfig, "")
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	resp = get(t, srv.URL+security.PathJWKS, "")
	assert.Equal(t, "max-age=60", resp.Header.Get("Cache-Control"), "the JWKS may be cached")
}

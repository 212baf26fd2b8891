package security_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// serveFrom sends one request through h from proxy with the given
// X-Forwarded-For value and returns the status.
func serveFrom(h http.Handler, proxy, forwarded string) int {
	r := httptest.NewRequest(http.MethodGet, "/fhir/Patient", nil)
	r.RemoteAddr = proxy + ":5000"
	r.Header.Set("X-Forwarded-For", forwarded)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestMiddlewareBucketsPerForwardedClient(t *testing.T) {
	f := newFixture(t, security.Config{})
	trusted, err := security.ParseTrustedProxies("10.0.0.0/8")
	require.NoError(t, err)
	var seen string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = security.ClientIPFrom(r.Context()) })

	h := f.svc.Middleware(security.MiddlewareConfig{IPRate: 0.001, IPBurst: 1, NoAuth: true, TrustedProxies: trusted}, next)
	assert.Equal(t, http.StatusOK, serveFrom(h, "10.0.0.2", "203.0.113.1"))
	assert.Equal(t, http.StatusOK, serveFrom(h, "10.0.0.2", "203.0.113.2"), "another client behind the proxy")
	assert.Equal(t, "203.0.113.2", seen, "the handler sees the forwarded client")
	assert.Equal(t, http.StatusTooManyRequests, serveFrom(h, "10.0.0.2", "203.0.113.1"), "the first client's bucket is empty")
	assert.Equal(t, http.StatusTooManyRequests, serveFrom(h, "10.0.0.2", "198.51.100.7, 203.0.113.1"),
		"a spoofed entry left of the proxy's does not give a new bucket")
}

func TestMiddlewareIgnoresUntrustedForwarding(t *testing.T) {
	f := newFixture(t, security.Config{})
	var seen string
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = security.ClientIPFrom(r.Context()) })

	h := f.svc.Middleware(security.MiddlewareConfig{IPRate: 0.001, IPBurst: 1, NoAuth: true}, next)
	assert.Equal(t, http.StatusOK, serveFrom(h, "10.0.0.2", "203.0.113.1"))
	assert.Equal(t, "10.0.0.2", seen, "without trusted proxies the remote address is the client")
	assert.Equal(t, http.StatusTooManyRequests, serveFrom(h, "10.0.0.2", "203.0.113.2"),
		"a forged X-Forwarded-For gets no new bucket")
}

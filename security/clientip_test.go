package security

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,")
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("fd00::/8")}, got)

	none, err := ParseTrustedProxies("")
	require.NoError(t, err)
	assert.Empty(t, none, "an empty list trusts no proxy")

	_, err = ParseTrustedProxies("10.0.0.0/8,proxy.example")
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestClientIPBehindProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies("10.0.0.0/8")
	require.NoError(t, err)
	cases := []struct {
		name      string
		remote    string
		forwarded []string
		trusted   []netip.Prefix
		want      string
	}{
		{"no proxy trusted ignores the header", "10.0.0.2:5000", []string{"203.0.113.9"}, nil, "10.0.0.2"},
		{"untrusted remote ignores the header", "198.51.100.4:5000", []string{"203.0.113.9"}, trusted, "198.51.100.4"},
		{"trusted proxy forwards the client", "10.0.0.2:5000", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"spoofed left entries are ignored", "10.0.0.2:5000", []string{"1.2.3.4, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"chain of trusted proxies", "10.0.0.2:5000", []string{"203.0.113.9, 10.1.1.1", "10.2.2.2"}, trusted, "203.0.113.9"},
		{"every hop trusted", "10.0.0.2:5000", []string{"10.3.3.3"}, trusted, "10.3.3.3"},
		{"no header", "10.0.0.2:5000", nil, trusted, "10.0.0.2"},
		{"garbage stops at the last trusted hop", "10.0.0.2:5000", []string{"203.0.113.9, not-an-ip"}, trusted, "10.0.0.2"},
		{"port and IPv6 brackets", "10.0.0.2:5000", []string{"[2001:db8::1]:443"}, trusted, "2001:db8::1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/fhir/Patient", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, c.want, clientIP(r, c.trusted))
		})
	}
}

package security_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// post sends body with contentType and an optional bearer token.
func post(t *testing.T, url, token, contentType, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestBreakGlassMinutes(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	tok := f.appAccessToken(t, "nurse1", "chart", "user/*.rs "+security.ScopeBreakGlass, "user/*.rs "+security.ScopeBreakGlass)
	reason := "patient collapsed in the corridor"

	rejected := []struct{ contentType, body string }{
		{"application/x-www-form-urlencoded", "patient=p9&reason=" + reason + "&minutes=abc"},
		{"application/x-www-form-urlencoded", "patient=p9&reason=" + reason + "&minutes=0"},
		{"application/x-www-form-urlencoded", "patient=p9&reason=" + reason + "&minutes=721"},
		{"application/x-www-form-urlencoded", "patient=p9&reason=" + reason + "&minutes=-5"},
		{"application/x-www-form-urlencoded", "patient=p9&reason=" + reason + "&minutes=153722867280912930"},
		{"application/json", `{"patient":"p9","reason":"` + reason + `","minutes":"abc"}`},
		{"application/json", `{"patient":"p9","reason":"` + reason + `","minutes":1.5}`},
		{"application/json", `{"patient":"p9","reason":"` + reason + `","minutes":0}`},
	}
	for _, tc := range rejected {
		status, body := post(t, srv.URL+security.PathBreakGlass, tok, tc.contentType, tc.body)
		assert.Equal(t, http.StatusBadRequest, status, "%s: %v", tc.body, body)
	}

	status, body := post(t, srv.URL+security.PathBreakGlass, tok, "application/json",
		`{"patient":"p9","reason":"`+reason+`","minutes":720}`)
	require.Equal(t, http.StatusCreated, status, body)
	assert.Equal(t, start.Add(12*time.Hour).Format(time.RFC3339), body["expires_at"])
	assert.Equal(t, "chart", body["client_id"])

	status, body = post(t, srv.URL+security.PathBreakGlass, tok, "application/x-www-form-urlencoded",
		"patient=p9&reason="+reason)
	require.Equal(t, http.StatusCreated, status, body)
	assert.Equal(t, start.Add(security.DefaultBreakGlassLifetime).Format(time.RFC3339), body["expires_at"],
		"no minutes means the default lifetime")
}

func TestAuthEndpointsChunkedBodyLimit(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	srv := stack(f, security.MiddlewareConfig{MaxBodyBytes: 1024})
	defer srv.Close()
	tok := f.appAccessToken(t, "nurse1", "chart", "user/*.rs "+security.ScopeBreakGlass, "user/*.rs "+security.ScopeBreakGlass)
	for _, tc := range []struct{ path, contentType, token string }{
		{security.PathToken, "application/x-www-form-urlencoded", ""},
		{security.PathAuthorize, "application/x-www-form-urlencoded", ""},
		{security.PathBreakGlass, "application/x-www-form-urlencoded", tok},
		{security.PathBreakGlass, "application/json", tok},
	} {
		body := "reason=" + strings.Repeat("x", 4096)
		if tc.contentType == "application/json" {
			body = `{"reason":"` + strings.Repeat("x", 4096) + `"}`
		}
		// A body of unknown length passes the Content-Length check and is
		// cut by http.MaxBytesReader while the handler reads it.
		req, err := http.NewRequest(http.MethodPost, srv.URL+tc.path, io.MultiReader(strings.NewReader(body)))
		require.NoError(t, err)
		req.ContentLength = -1
		req.Header.Set("Content-Type", tc.contentType)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%s %s", tc.path, tc.contentType)
	}
}

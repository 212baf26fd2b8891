package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestServeProbesSkipRateLimit(t *testing.T) {
	s := startSecureServer(t, securityOptions{mw: security.MiddlewareConfig{IPRate: 1, IPBurst: 1}})
	for range 3 {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, body := fetch(t, http.DefaultClient, http.MethodGet, s.url+path, "", nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
		}
	}
	var statuses []int
	for range 3 {
		resp, _ := fetch(t, http.DefaultClient, http.MethodGet, s.url+"/fhir/metadata", "", nil)
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Contains(t, statuses, http.StatusTooManyRequests, "other paths keep the limit")
}

func TestServeMetadataNamesOAuthEndpoints(t *testing.T) {
	s := startSecureServer(t, securityOptions{})
	resp, body := fetch(t, http.DefaultClient, http.MethodGet, s.url+"/fhir/metadata", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var cs struct {
		Rest []struct {
			Security struct {
				Extension []struct {
					Extension []struct {
						URL      string `json:"url"`
						ValueURI string `json:"valueUri"`
					} `json:"extension"`
				} `json:"extension"`
			} `json:"security"`
		} `json:"rest"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &cs))
	require.Len(t, cs.Rest, 1)
	require.Len(t, cs.Rest[0].Security.Extension, 1)
	uris := map[string]string{}
	for _, e := range cs.Rest[0].Security.Extension[0].Extension {
		uris[e.URL] = e.ValueURI
	}
	assert.Equal(t, testIssuer+security.PathToken, uris["token"])
	assert.Equal(t, testIssuer+security.PathAuthorize, uris["authorize"])
}

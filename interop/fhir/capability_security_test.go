package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/fhir"
)

func TestCapabilityRestSecurity(t *testing.T) {
	s := newServer(t, func(c *fhir.Config) {
		c.OAuth = &fhir.OAuthEndpoints{Token: "https://ehr.example/auth/token", Authorize: "https://ehr.example/auth/authorize"}
	})
	resp := s.do(http.MethodGet, "/metadata", "")
	require.Equal(t, http.StatusOK, resp.status)
	rest := resp.json(t)["rest"].([]any)[0].(map[string]any)
	security, ok := rest["security"].(map[string]any)
	require.True(t, ok, "rest.security is present")
	assert.Equal(t, false, security["cors"], "no CORS headers are served")

	service := security["service"].([]any)[0].(map[string]any)["coding"].([]any)[0].(map[string]any)
	assert.Equal(t, "http://terminology.hl7.org/CodeSystem/restful-security-service", service["system"])
	assert.Equal(t, "SMART-on-FHIR", service["code"])

	ext := security["extension"].([]any)[0].(map[string]any)
	assert.Equal(t, "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris", ext["url"])
	uris := map[string]any{}
	for _, e := range ext["extension"].([]any) {
		uris[e.(map[string]any)["url"].(string)] = e.(map[string]any)["valueUri"]
	}
	assert.Equal(t, "https://ehr.example/auth/token", uris["token"])
	assert.Equal(t, "https://ehr.example/auth/authorize", uris["authorize"])

	plain := newServer(t)
	rest = plain.do(http.MethodGet, "/metadata", "").json(t)["rest"].([]any)[0].(map[string]any)
	assert.NotContains(t, rest, "security", "a server without OAuth claims none")
}

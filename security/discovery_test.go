package security_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestSMARTConfigurationClaimsOnlyWhatWorks(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	resp := get(t, srv.URL+security.PathSMARTConfig, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var conf struct {
		Scopes       []string `json:"scopes_supported"`
		Capabilities []string `json:"capabilities"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&conf))
	for _, unsupported := range []string{"openid", "fhirUser"} {
		assert.NotContains(t, conf.Scopes, unsupported, "no id_token is issued")
	}
	assert.Contains(t, conf.Scopes, security.ScopeBreakGlass)
	for _, unsupported := range []string{"client-public", "client-confidential-asymmetric", "sso-openid-connect"} {
		assert.NotContains(t, conf.Capabilities, unsupported)
	}
	assert.Contains(t, conf.Capabilities, "launch-standalone")
}

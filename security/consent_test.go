package security_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestConsentPageListsGrantedScopes(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	redirect := "https://app.example/cb"
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "chart", Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: "user/Observation.rs " + security.ScopeBreakGlass}))
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "steps", Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: "user/Observation.rs"}))
	_, challenge := pkce()
	params := func(client string) url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect},
			"scope": {"user/Observation.cruds user/Patient.rs " + security.ScopeBreakGlass}, "state": {"s1"},
			"aud": {issuer + "/fhir"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}

	page := newBrowser(t, srv.URL).openForm(t, params("chart"))
	assert.Contains(t, page, "<li>Read and search Observation records that you may see (user/Observation.rs)</li>",
		"the requested user/Observation.cruds narrowed to the registration")
	assert.NotContains(t, page, "<li>user/Observation.cruds</li>", "not the raw request")
	assert.NotContains(t, page, "(user/Patient.rs)", "a scope outside the registration is not shown")
	assert.Contains(t, page, "Break the glass: open the record of a patient outside your care for up to 12 hours")

	page = newBrowser(t, srv.URL).openForm(t, params("steps"))
	assert.NotContains(t, page, "Break the glass", "a client not registered for the scope does not get it")
}

func TestConsentPageStatus(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	resp := get(t, srv.URL+security.PathAuthorize+"?client_id=nobody&redirect_uri=https://x.example/cb", "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

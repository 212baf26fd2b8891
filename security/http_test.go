package security_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// stack serves the authorization server and, under /fhir, a handler that
// echoes the authenticated subject.
func stack(f *fixture, cfg security.MiddlewareConfig) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/", f.svc.Handler())
	mux.HandleFunc("/fhir/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		p := security.PrincipalFrom(r.Context())
		if p == nil {
			io.WriteString(w, "anonymous")
			return
		}
		io.WriteString(w, p.Subject)
	})
	cfg.FHIRPrefix = "/fhir"
	return httptest.NewServer(f.svc.Middleware(cfg, mux))
}

func get(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestMiddlewareAuthentication(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)

	resp := get(t, srv.URL+"/fhir/Patient", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer realm="nexus"`, resp.Header.Get("WWW-Authenticate"))
	var outcome map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&outcome))
	assert.Equal(t, "OperationOutcome", outcome["resourceType"])

	resp = get(t, srv.URL+"/fhir/Patient", "forged.token.value")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)

	resp = get(t, srv.URL+"/fhir/Patient", f.systemToken(t, c, "system/Patient.rs"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "lab", string(body))

	resp = get(t, srv.URL+security.PathJWKS, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the JWKS is public")
	resp = get(t, srv.URL+security.PathSMARTConfig, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var conf map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&conf))
	assert.Equal(t, issuer+"/auth/token", conf["token_endpoint"])
}

func TestMiddlewareLimits(t *testing.T) {
	f := newFixture(t, security.Config{})
	srv := stack(f, security.MiddlewareConfig{MaxBodyBytes: 1024, IPRate: 1, IPBurst: 3, NoAuth: true})
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/fhir/Patient", "application/fhir+json", strings.NewReader(strings.Repeat("x", 2048)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	statuses := []int{}
	for range 3 {
		resp := get(t, srv.URL+"/fhir/Patient", "")
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{200, 200, http.StatusTooManyRequests}, statuses, "the burst of 3 includes the 413 request")
	resp = get(t, srv.URL+"/fhir/Patient", "")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
}

func TestMiddlewareChunkedBodyLimit(t *testing.T) {
	f := newFixture(t, security.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("/fhir/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	})
	srv := httptest.NewServer(f.svc.Middleware(security.MiddlewareConfig{MaxBodyBytes: 1024, NoAuth: true}, mux))
	defer srv.Close()
	// A body of unknown length is cut by http.MaxBytesReader.
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/fhir/Patient", io.MultiReader(strings.NewReader(strings.Repeat("x", 4096))))
	require.NoError(t, err)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}

func pkce() (verifier, challenge string) {
	verifier = strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestAuthorizationCodeFlow(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	redirect := "https://app.example/cb"
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "chart", Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: "user/*.rs patient/*.rs"}))
	totpURL, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: "nurse1", Password: "a long enough password",
		Roles: []security.Role{security.RoleNurse}, TOTP: true, Location: "ward-3", FHIRUser: "Practitioner/n1"})
	require.NoError(t, err)
	u, err := url.Parse(totpURL)
	require.NoError(t, err)
	secret := u.Query().Get("secret")

	verifier, challenge := pkce()
	params := url.Values{"response_type": {"code"}, "client_id": {"chart"}, "redirect_uri": {redirect},
		"scope": {"user/*.cruds openid fhirUser"}, "state": {"s1"}, "aud": {issuer + "/fhir"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	b := newBrowser(t, srv.URL)
	page := b.openForm(t, params)
	assert.Contains(t, page, "user/*.cruds")

	submit := func(password, code string) *http.Response {
		return b.submit(t, params, url.Values{"username": {"nurse1"}, "password": {password}, "totp": {code}})
	}
	assert.Equal(t, http.StatusUnauthorized, submit("wrong password!!", "000000").StatusCode)
	assert.Equal(t, http.StatusUnauthorized, submit("a long enough password", "000000").StatusCode, "the TOTP code is checked")

	code, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)
	resp := submit("a long enough password", code)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "s1", loc.Query().Get("state"))
	authCode := loc.Query().Get("code")
	require.NotEmpty(t, authCode)

	exchange := func(verifier string) *http.Response {
		resp, err := http.PostForm(srv.URL+security.PathToken, url.Values{"grant_type": {"authorization_code"},
			"code": {authCode}, "client_id": {"chart"}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp = exchange(verifier)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var tok map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	assert.Equal(t, "user/*.rs openid fhirUser", tok["scope"], "cruds narrowed to the client's rs")
	assert.Equal(t, "Practitioner/n1", tok["fhirUser"])

	resp = get(t, srv.URL+"/fhir/Observation", tok["access_token"].(string))
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp = exchange(verifier)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a code works once")
	assert.Contains(t, f.events.types(), security.EventLoginFailed)
	assert.Contains(t, f.events.types(), security.EventLogin)
}

func TestAuthorizationCodeWrongVerifier(t *testing.T) {
	f := newFixture(t, security.Config{})
	redirect := "https://app.example/cb"
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "chart", Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: "user/*.rs"}))
	_, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: "dr", Password: "a long enough password",
		Roles: []security.Role{security.RolePhysician}})
	require.NoError(t, err)
	_, challenge := pkce()
	p := security.AuthorizeParams{ClientID: "chart", RedirectURI: redirect, Scope: "user/*.rs", State: "s",
		Audience: issuer + "/fhir", CodeChallenge: challenge, CodeChallengeMethod: "S256",
		Username: "dr", Password: "a long enough password"}
	code, err := f.svc.Authorize(f.ctx, p)
	require.NoError(t, err)
	_, err = f.svc.ExchangeCode(f.ctx, code, "chart", redirect, strings.Repeat("w", 50))
	assert.ErrorIs(t, err, security.ErrUnauthenticated)
	_, err = f.svc.ExchangeCode(f.ctx, code, "chart", redirect, strings.Repeat("v", 50))
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "the failed attempt used the code up")

	p.CodeChallengeMethod = "plain"
	_, err = f.svc.Authorize(f.ctx, p)
	assert.ErrorIs(t, err, security.ErrInvalid, "plain PKCE is rejected")
	p.CodeChallengeMethod, p.RedirectURI = "S256", "https://evil.example/cb"
	_, err = f.svc.Authorize(f.ctx, p)
	assert.ErrorIs(t, err, security.ErrInvalid, "an unregistered redirect URI")
}

package security_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// addTOTPUser adds a physician with TOTP and returns the TOTP secret.
func (f *fixture) addTOTPUser(t *testing.T, username string) string {
	t.Helper()
	totpURL, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: username, Password: "a long enough password",
		Roles: []security.Role{security.RolePhysician}, TOTP: true})
	require.NoError(t, err)
	u, err := url.Parse(totpURL)
	require.NoError(t, err)
	return u.Query().Get("secret")
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	f := newFixture(t, security.Config{})
	secret := f.addTOTPUser(t, "dr.smith")
	code, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)

	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
	require.NoError(t, err)
	f.clock.Advance(10 * time.Second)
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "the same code within its step")

	f.clock.Advance(30 * time.Second)
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "the same code inside the skew window")

	next, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", next, "")
	assert.NoError(t, err, "the code of the next step")
}

func TestTOTPEarlierStepRejected(t *testing.T) {
	f := newFixture(t, security.Config{})
	secret := f.addTOTPUser(t, "dr.smith")
	ahead, err := security.TOTPCode(secret, f.clock.Now().Add(30*time.Second))
	require.NoError(t, err)
	current, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)

	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", ahead, "")
	require.NoError(t, err, "the next step is inside the skew window")
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", current, "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a step before the last accepted one")
}

func TestTOTPConcurrentSignIns(t *testing.T) {
	f := newFixture(t, security.Config{})
	secret := f.addTOTPUser(t, "dr.smith")
	code, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)
	const attempts = 8
	var wg sync.WaitGroup
	errs := make([]error, attempts)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
		}()
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		if err == nil {
			accepted++
		} else {
			assert.ErrorIs(t, err, security.ErrUnauthenticated)
		}
	}
	assert.Equal(t, 1, accepted, "one of the sign-ins sharing a code succeeds")
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, holding the CSRF token of the last login form it opened.
type browser struct {
	client *http.Client
	base   string
	token  string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{base: base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var formTokenPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// openForm gets the login form of params, keeps its CSRF token and
// returns the page.
func (b *browser) openForm(t *testing.T, params url.Values) string {
	t.Helper()
	resp, err := b.client.Get(b.base + security.PathAuthorize + "?" + params.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := formTokenPattern.FindStringSubmatch(string(page))
	require.NotNil(t, m, "the form has a CSRF token")
	b.token = m[1]
	return string(page)
}

// submit posts the form of params with the fields and consent to allow,
// adding the kept CSRF token unless fields sets csrf_token.
func (b *browser) submit(t *testing.T, params, fields url.Values) *http.Response {
	t.Helper()
	form := url.Values{"consent": {"allow"}, "csrf_token": {b.token}}
	for k, v := range params {
		form[k] = v
	}
	for k, v := range fields {
		form[k] = v
	}
	resp, err := b.client.PostForm(b.base+security.PathAuthorize, form)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// appSetup registers the app "chart" and the physician "dr.smith" and
// returns the server and the parameters of an authorization request.
func appSetup(t *testing.T, cfg security.Config) (*fixture, *httptest.Server, url.Values) {
	t.Helper()
	f := newFixture(t, cfg)
	srv := stack(f, security.MiddlewareConfig{})
	t.Cleanup(srv.Close)
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "chart", Kind: security.ClientApp,
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: "user/*.rs"}))
	_, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: "dr.smith", Password: "a long enough password",
		Roles: []security.Role{security.RolePhysician}})
	require.NoError(t, err)
	_, challenge := pkce()
	params := url.Values{"response_type": {"code"}, "client_id": {"chart"}, "redirect_uri": {"https://app.example/cb"},
		"scope": {"user/*.rs"}, "state": {"s1"}, "aud": {issuer + "/fhir"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	return f, srv, params
}

var goodLogin = url.Values{"username": {"dr.smith"}, "password": {"a long enough password"}}

func TestLoginFormRequiresCSRFToken(t *testing.T) {
	f, srv, params := appSetup(t, security.Config{})
	b := newBrowser(t, srv.URL)
	b.openForm(t, params)

	noToken := url.Values{"csrf_token": {""}}
	for k, v := range goodLogin {
		noToken[k] = v
	}
	assert.Equal(t, http.StatusForbidden, b.submit(t, params, noToken).StatusCode, "a post without a token")

	other := newBrowser(t, srv.URL)
	other.token = b.token
	assert.Equal(t, http.StatusForbidden, other.submit(t, params, goodLogin).StatusCode,
		"a token posted from a browser without the form cookie")

	changed := url.Values{}
	for k, v := range params {
		changed[k] = v
	}
	changed.Set("scope", "user/*.rs launch/patient")
	assert.Equal(t, http.StatusForbidden, b.submit(t, changed, goodLogin).StatusCode,
		"a token of another authorization request")

	deny := url.Values{"consent": {"deny"}, "csrf_token": {"forged"}}
	assert.Equal(t, http.StatusForbidden, b.submit(t, params, deny).StatusCode, "a forged deny is not redirected")
	assert.NotContains(t, f.events.types(), security.EventLoginFailed, "rejected posts try no sign-in")

	resp := b.submit(t, params, goodLogin)
	assert.Equal(t, http.StatusFound, resp.StatusCode, "the form's own post")
}

func TestLoginFormTokenExpires(t *testing.T) {
	f, srv, params := appSetup(t, security.Config{})
	b := newBrowser(t, srv.URL)
	b.openForm(t, params)
	f.clock.Advance(security.FormLifetime + time.Second)
	assert.Equal(t, http.StatusForbidden, b.submit(t, params, goodLogin).StatusCode)
}

func TestLoginFormFrameHeaders(t *testing.T) {
	_, srv, params := appSetup(t, security.Config{})
	b := newBrowser(t, srv.URL)
	resp, err := b.client.Get(srv.URL + security.PathAuthorize + "?" + params.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, csp, "form-action 'self' https://app.example", "the redirect after the post is allowed")
	b.openForm(t, params)

	failed := b.submit(t, params, url.Values{"username": {"dr.smith"}, "password": {"wrong password!!"}})
	assert.Equal(t, http.StatusUnauthorized, failed.StatusCode)
	assert.Equal(t, "DENY", failed.Header.Get("X-Frame-Options"), "the form shown again after a failure")
	assert.Contains(t, failed.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")

	forged := b.submit(t, params, url.Values{"csrf_token": {"x"}})
	assert.Equal(t, "DENY", forged.Header.Get("X-Frame-Options"), "the error page of a forged post")
}

// attempts posts n sign-ins of username with a wrong password and returns
// the statuses.
func attempts(t *testing.T, b *browser, params url.Values, username string, n int) []int {
	t.Helper()
	var statuses []int
	for range n {
		resp := b.submit(t, params, url.Values{"username": {username}, "password": {"wrong password!!"}})
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses
}

func TestLoginThrottlePerUsername(t *testing.T) {
	f, srv, params := appSetup(t, security.Config{LoginFailureLimit: 3, LoginLockout: 10 * time.Minute})
	b := newBrowser(t, srv.URL)
	b.openForm(t, params)

	assert.Equal(t, []int{401, 401, 401, 429}, attempts(t, b, params, "dr.smith", 4))
	locked := b.submit(t, params, goodLogin)
	assert.Equal(t, http.StatusTooManyRequests, locked.StatusCode, "the right password while locked")
	assert.Equal(t, "600", locked.Header.Get("Retry-After"))
	lockedPage, _ := io.ReadAll(locked.Body)

	assert.Equal(t, []int{401, 401, 401, 429}, attempts(t, b, params, "nobody", 4), "an unknown user locks the same way")
	unknown := b.submit(t, params, url.Values{"username": {"nobody"}, "password": {"a long enough password"}})
	unknownPage, _ := io.ReadAll(unknown.Body)
	assert.Equal(t, http.StatusTooManyRequests, unknown.StatusCode)
	assert.Equal(t, locked.Header.Get("Retry-After"), unknown.Header.Get("Retry-After"))
	assert.Equal(t, tokenless(string(lockedPage)), tokenless(string(unknownPage)), "the same page for both")

	f.clock.Advance(10*time.Minute + time.Second)
	b.openForm(t, params)
	assert.Equal(t, http.StatusFound, b.submit(t, params, goodLogin).StatusCode, "the lock ends")
}

// tokenless removes the CSRF token, which differs on every page.
func tokenless(page string) string {
	return formTokenPattern.ReplaceAllString(page, "")
}

func TestLoginThrottleSuccessResetsUsername(t *testing.T) {
	_, srv, params := appSetup(t, security.Config{LoginFailureLimit: 3})
	b := newBrowser(t, srv.URL)
	b.openForm(t, params)
	assert.Equal(t, []int{401, 401}, attempts(t, b, params, "dr.smith", 2))
	assert.Equal(t, http.StatusFound, b.submit(t, params, goodLogin).StatusCode)
	assert.Equal(t, []int{401, 401}, attempts(t, b, params, "dr.smith", 2), "the count started again")
}

func TestLoginThrottlePerAddress(t *testing.T) {
	f := newFixture(t, security.Config{LoginFailureLimit: 100, LoginIPFailureLimit: 3})
	redirect := "https://app.example/cb"
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "chart", Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: "user/*.rs"}))
	_, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: "dr.smith", Password: "a long enough password",
		Roles: []security.Role{security.RolePhysician}})
	require.NoError(t, err)
	_, challenge := pkce()
	p := security.AuthorizeParams{ClientID: "chart", RedirectURI: redirect, Scope: "user/*.rs", State: "s",
		Audience: issuer + "/fhir", CodeChallenge: challenge, CodeChallengeMethod: "S256",
		Password: "wrong password!!", ClientIP: "203.0.113.5"}
	for _, name := range []string{"a1", "a2", "a3"} {
		p.Username = name
		_, err := f.svc.Authorize(f.ctx, p)
		require.ErrorIs(t, err, security.ErrUnauthenticated)
		require.NotErrorIs(t, err, security.ErrThrottled)
	}

	p.Username, p.Password = "dr.smith", "a long enough password"
	_, err = f.svc.Authorize(f.ctx, p)
	var throttled *security.ThrottledError
	require.ErrorAs(t, err, &throttled, "the address is locked for every username")
	assert.ErrorIs(t, err, security.ErrUnauthenticated)
	assert.Equal(t, security.DefaultLoginLockout, throttled.RetryAfter)

	p.ClientIP = "203.0.113.6"
	_, err = f.svc.Authorize(f.ctx, p)
	assert.NoError(t, err, "another address")
}

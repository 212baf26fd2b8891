package fhir_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	billsql "github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/emr"
	emrstore "github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/security"
	secstore "github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

const authIssuer = "https://ehr.test"

type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// accessLog is an AccessRecorder keeping events in memory.
type accessLog struct {
	mu     sync.Mutex
	events []fhir.AccessEvent
}

func (l *accessLog) RecordAccess(_ context.Context, e fhir.AccessEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	return nil
}

func (l *accessLog) last() fhir.AccessEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events[len(l.events)-1]
}

// authStack is the FHIR API behind the security middleware, on one
// database for the record and the security store, as nexusd serves it.
type authStack struct {
	t      *testing.T
	srv    *httptest.Server
	db     *storage.DB
	emr    *emr.Service
	sec    *security.Service
	clock  *authClock
	access *accessLog
	ctx    context.Context
}

// careReads counts the wardCare calls per subject.
var careReads = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

func careReadsOf(subject string) int {
	careReads.Lock()
	defer careReads.Unlock()
	return careReads.n[subject]
}

// wardCare gives users on Location ward-3 the patient p1.
var wardCare = security.CareRelationsFunc(func(_ context.Context, p *security.Principal) ([]string, error) {
	careReads.Lock()
	careReads.n[p.Subject]++
	careReads.Unlock()
	if p.Location == "ward-3" {
		return []string{"p1"}, nil
	}
	return nil, nil
})

func newAuthStack(t *testing.T, db *storage.DB, mw security.MiddlewareConfig) *authStack {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Migrate(ctx, emrstore.Migrations(), secstore.Migrations(), billsql.Migrations()))
	svc, err := emr.NewService(emrstore.New(db), emr.Config{})
	require.NoError(t, err)
	bill, err := billing.NewService(billsql.New(db), billing.Config{Currency: "EUR"})
	require.NoError(t, err)
	s := &authStack{t: t, db: db, emr: svc, clock: &authClock{t: time.Now().UTC()}, access: &accessLog{}, ctx: ctx}
	s.sec = s.securityService(security.Config{})
	api := fhir.NewHandler(fhir.Config{Service: svc, Billing: bill, Authorizer: s.sec, AccessRecorder: s.access,
		MaxBodyBytes: 1 << 20})
	mux := http.NewServeMux()
	mux.Handle("/", s.sec.Handler())
	mux.Handle("/fhir/", http.StripPrefix("/fhir", api))
	mw.FHIRPrefix = "/fhir"
	if mw.MaxBodyBytes == 0 {
		mw.MaxBodyBytes = 1 << 20
	}
	if mw.IPRate == 0 {
		mw.IPRate, mw.IPBurst = 1000, 1000
	}
	mw.Public = func(r *http.Request) bool {
		return security.IsPublicPath(r.URL.Path) || r.URL.Path == "/fhir/metadata"
	}
	s.srv = httptest.NewServer(s.sec.Middleware(mw, mux))
	t.Cleanup(s.srv.Close)
	s.seed()
	return s
}

// securityService returns a service on the stack's store; cfg may set
// another issuer or audience, to forge tokens an attacker could get.
func (s *authStack) securityService(cfg security.Config) *security.Service {
	s.t.Helper()
	cfg.Store, cfg.CareRelations = secstore.New(s.db), wardCare
	if cfg.Clock == nil {
		cfg.Clock = s.clock.Now
	}
	if cfg.Issuer == "" {
		cfg.Issuer = authIssuer
	}
	cfg.Password = security.PasswordParams{MemoryKiB: 64, Iterations: 1, Threads: 1}
	svc, err := security.New(cfg)
	require.NoError(s.t, err)
	return svc
}

// seed stores patients p1 (on ward 3) and p2 (elsewhere), their
// observations, and o3 in p1's compartment with p2 as performer.
func (s *authStack) seed() {
	put := func(typ, id, body string) {
		_, _, err := s.emr.Update(s.ctx, emr.UpdateParams{Type: typ, ID: id, Body: []byte(body)})
		require.NoError(s.t, err)
	}
	put("Patient", "p1", `{"resourceType":"Patient","id":"p1","name":[{"family":"Wardone"}]}`)
	put("Patient", "p2", `{"resourceType":"Patient","id":"p2","name":[{"family":"Hiddenname"}]}`)
	put("Observation", "o1", `{"resourceType":"Observation","id":"o1","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}}`)
	put("Observation", "o2", `{"resourceType":"Observation","id":"o2","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"secret-code"}]},"subject":{"reference":"Patient/p2"}}`)
	put("Observation", "o3", `{"resourceType":"Observation","id":"o3","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"},
		"performer":[{"reference":"Patient/p2"}]}`)
	put("Practitioner", "pr1", `{"resourceType":"Practitioner","id":"pr1"}`)
}

// userToken registers user (once) with roles on an app client whose
// ceiling is scopes, and runs the code flow for scope.
func (s *authStack) userToken(username, scope, ceiling, location string, roles ...security.Role) string {
	s.t.Helper()
	return s.userTokenWith(s.sec, username, scope, ceiling, location, roles...)
}

func (s *authStack) userTokenWith(svc *security.Service, username, scope, ceiling, location string, roles ...security.Role) string {
	s.t.Helper()
	clientID := "app-" + username
	redirect := "https://app.test/cb"
	if _, err := s.sec.AddUser(s.ctx, security.AddUserParams{Username: username, Password: "a long test password",
		Roles: roles, Location: location}); err != nil {
		require.ErrorIs(s.t, err, security.ErrConflict)
	}
	if err := s.sec.AddClient(s.ctx, security.Client{ID: clientID, Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: ceiling}); err != nil {
		require.ErrorIs(s.t, err, security.ErrConflict)
	}
	verifier := strings.Repeat("k", 64)
	sum := sha256.Sum256([]byte(verifier))
	code, err := svc.Authorize(s.ctx, security.AuthorizeParams{ClientID: clientID, RedirectURI: redirect,
		Scope: scope, State: "st", Audience: svc.Config().Audience, CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
		CodeChallengeMethod: "S256", Username: username, Password: "a long test password"})
	require.NoError(s.t, err)
	tok, err := svc.ExchangeCode(s.ctx, code, clientID, redirect, verifier)
	require.NoError(s.t, err)
	return tok.AccessToken
}

// backend is a registered system client and its private key.
type backend struct {
	id  string
	key *ecdsa.PrivateKey
}

func (s *authStack) addBackend(id, ceiling string, roles ...security.Role) backend {
	s.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(s.t, err)
	jwk, err := security.PublicJWK(&key.PublicKey, id+"-1", "ES384")
	require.NoError(s.t, err)
	set, err := json.Marshal(security.JWKS{Keys: []security.JWK{jwk}})
	require.NoError(s.t, err)
	require.NoError(s.t, s.sec.AddClient(s.ctx, security.Client{ID: id, Kind: security.ClientSystem,
		JWKS: string(set), Scopes: ceiling, Roles: roles}))
	return backend{id: id, key: key}
}

func (b backend) assertion(s *authStack, edit func(jwt.MapClaims)) string {
	s.t.Helper()
	claims := jwt.MapClaims{"iss": b.id, "sub": b.id, "aud": authIssuer + security.PathToken,
		"exp": s.clock.Now().Add(4 * time.Minute).Unix(), "jti": rand.Text()}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	tok.Header["kid"] = b.id + "-1"
	signed, err := tok.SignedString(b.key)
	require.NoError(s.t, err)
	return signed
}

// tokenResponse posts to the token endpoint.
func (s *authStack) tokenResponse(form map[string]string) (int, map[string]any) {
	s.t.Helper()
	values := make([]string, 0, len(form))
	for k, v := range form {
		values = append(values, k+"="+url.QueryEscape(v))
	}
	resp, err := http.Post(s.srv.URL+security.PathToken, "application/x-www-form-urlencoded",
		strings.NewReader(strings.Join(values, "&")))
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func (s *authStack) backendToken(b backend, scope string) string {
	s.t.Helper()
	status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": scope,
		"client_assertion_type": security.AssertionType, "client_assertion": b.assertion(s, nil)})
	require.Equal(s.t, http.StatusOK, status, body)
	return body["access_token"].(string)
}

// do sends a request with an optional bearer token and returns the
// status and body.
func (s *authStack) do(method, path, token, body string, header ...string) (int, string) {
	s.t.Helper()
	status, _, data := s.doHeader(method, path, token, body, header...)
	return status, data
}

// doHeader is do that also returns the response header.
func (s *authStack) doHeader(method, path, token, body string, header ...string) (int, http.Header, string) {
	s.t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, reader)
	require.NoError(s.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, resp.Header, string(data)
}

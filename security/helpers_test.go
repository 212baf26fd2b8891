package security_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const issuer = "https://ehr.example"

var start = time.Date(2025, time.March, 1, 8, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fastPasswords keeps argon2id cheap in tests.
var fastPasswords = security.PasswordParams{MemoryKiB: 64, Iterations: 1, Threads: 1}

type fixture struct {
	svc    *security.Service
	store  security.Store
	clock  *clock
	events *eventLog
	ctx    context.Context
}

type eventLog struct {
	mu     sync.Mutex
	events []security.Event
}

func (l *eventLog) RecordSecurityEvent(_ context.Context, e security.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	return nil
}

func (l *eventLog) types() []security.EventType {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]security.EventType, len(l.events))
	for i, e := range l.events {
		out[i] = e.Type
	}
	return out
}

func newFixture(t testing.TB, cfg security.Config) *fixture {
	t.Helper()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	f := &fixture{store: sqlstore.New(db), clock: &clock{t: start}, events: &eventLog{}, ctx: context.Background()}
	cfg.Store, cfg.Clock, cfg.Recorder = f.store, f.clock.Now, f.events
	if cfg.Issuer == "" {
		cfg.Issuer = issuer
	}
	cfg.Password = fastPasswords
	svc, err := security.New(cfg)
	require.NoError(t, err)
	f.svc = svc
	return f
}

// systemClient is a registered backend client with its private key.
type systemClient struct {
	id  string
	kid string
	key *ecdsa.PrivateKey
}

func (f *fixture) addSystemClient(t testing.TB, id, scopes string, roles ...security.Role) systemClient {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	jwk, err := security.PublicJWK(&key.PublicKey, id+"-key", "ES384")
	require.NoError(t, err)
	set, err := json.Marshal(security.JWKS{Keys: []security.JWK{jwk}})
	require.NoError(t, err)
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: id, Kind: security.ClientSystem,
		JWKS: string(set), Scopes: scopes, Roles: roles}))
	return systemClient{id: id, kid: id + "-key", key: key}
}

// assertion signs a client assertion; edit changes the claims first.
func (c systemClient) assertion(t testing.TB, f *fixture, edit func(jwt.MapClaims)) string {
	t.Helper()
	now := f.clock.Now()
	claims := jwt.MapClaims{"iss": c.id, "sub": c.id, "aud": f.svc.TokenURL(),
		"exp": now.Add(4 * time.Minute).Unix(), "jti": randomJTI(t)}
	if edit != nil {
		edit(claims)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	tok.Header["kid"] = c.kid
	signed, err := tok.SignedString(c.key)
	require.NoError(t, err)
	return signed
}

func randomJTI(t testing.TB) string {
	t.Helper()
	return rand.Text()
}

// systemToken issues a client_credentials token.
func (f *fixture) systemToken(t testing.TB, c systemClient, scope string) string {
	t.Helper()
	tok, err := f.svc.ClientCredentials(f.ctx, security.AssertionType, c.assertion(t, f, nil), scope)
	require.NoError(t, err)
	return tok.AccessToken
}

// tempDB returns a database path in a folder removed when the test binary
// exits, for Examples, which get no testing.T.
func tempDB() string {
	dir, err := os.MkdirTemp("", "security-example")
	if err != nil {
		panic(err)
	}
	exampleDirs = append(exampleDirs, dir)
	return filepath.Join(dir, "example.db")
}

var exampleDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range exampleDirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

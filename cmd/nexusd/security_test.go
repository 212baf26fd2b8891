package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const testIssuer = "http://nexus.test"

// secureServer is nexusd serving with its security stack on a loopback
// port.
type secureServer struct {
	url   string
	stack *securityStack
	db    *storage.DB
	emr   *emr.Service
}

func startSecureServer(t *testing.T, opts securityOptions) secureServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(ctx, schema()...))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	if opts.issuer == "" {
		opts.issuer = testIssuer
	}
	opts.mw = opts.mw.WithDefaults()
	log := slog.New(slog.DiscardHandler)
	stack, err := openSecurity(ctx, db, svc, opts, nil, log)
	require.NoError(t, err)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	o := serveOptions{addr: "127.0.0.1:0", ready: ready, shutdown: 5 * time.Second, db: db, svc: svc,
		log: log, security: stack}
	go func() { done <- serve(ctx, o) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "graceful shutdown")
		stack.close()
	})
	return secureServer{url: stack.scheme() + "://" + addr, stack: stack, db: db, emr: svc}
}

func fetch(t *testing.T, client *http.Client, method, url, token string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(data)
}

// backendToken registers a system client and gets a token with a signed
// client assertion, as a SMART backend service does.
func backendToken(t *testing.T, s secureServer, client *http.Client, scope string, roles ...security.Role) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	jwk, err := security.PublicJWK(&key.PublicKey, "k1", "ES384")
	require.NoError(t, err)
	set, err := json.Marshal(security.JWKS{Keys: []security.JWK{jwk}})
	require.NoError(t, err)
	require.NoError(t, s.stack.svc.AddClient(context.Background(), security.Client{ID: "backend", Kind: security.ClientSystem,
		JWKS: string(set), Scopes: scope, Roles: roles}))
	assertion := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{"iss": "backend", "sub": "backend",
		"aud": s.stack.svc.TokenURL(), "exp": time.Now().Add(time.Minute).Unix(), "jti": rand.Text()})
	assertion.Header["kid"] = "k1"
	signed, err := assertion.SignedString(key)
	require.NoError(t, err)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {security.AssertionType}, "client_assertion": {signed}}
	resp, body := fetch(t, client, http.MethodPost, s.url+security.PathToken, "", strings.NewReader(form.Encode()))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tok))
	return tok.AccessToken
}

func TestServeRequiresToken(t *testing.T) {
	s := startSecureServer(t, securityOptions{})
	client := http.DefaultClient

	resp, body := fetch(t, client, http.MethodGet, s.url+"/fhir/Patient", "", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	assert.Contains(t, body, "OperationOutcome")

	for _, path := range []string{"/fhir/metadata", "/fhir/.well-known/smart-configuration",
		security.PathSMARTConfig, security.PathJWKS, "/healthz"} {
		resp, body := fetch(t, client, http.MethodGet, s.url+path, "", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s is public: %s", path, body)
	}
	_, body = fetch(t, client, http.MethodGet, s.url+"/fhir/.well-known/smart-configuration", "", nil)
	assert.Contains(t, body, testIssuer+security.PathToken)

	token := backendToken(t, s, client, "system/*.rs", security.RoleAdmin)
	resp, body = fetch(t, client, http.MethodGet, s.url+"/fhir/Patient", token, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	resp, body = fetch(t, client, http.MethodPost, s.url+"/fhir/Patient", token, strings.NewReader(`{"resourceType":"Patient"}`))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "system/*.rs does not create: %s", body)

	_, _, err := s.emr.Update(context.Background(), emr.UpdateParams{Type: "Patient", ID: "pat-1",
		Body: []byte(`{"resourceType":"Patient","id":"pat-1"}`)})
	require.NoError(t, err)
	resp, body = fetch(t, client, http.MethodGet, s.url+"/fhir/Patient/pat-1", token, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	page, err := s.stack.audit.Access(context.Background(), audit.AccessQuery{Patient: "pat-1"})
	require.NoError(t, err)
	require.NotEmpty(t, page.Entries, "the read is in the patient's access log")
	assert.Equal(t, "backend", page.Entries[0].Agent.Who)
	assert.Equal(t, "read", page.Entries[0].Subtype)
}

func TestServeLimits(t *testing.T) {
	s := startSecureServer(t, securityOptions{mw: security.MiddlewareConfig{MaxBodyBytes: 1024, IPRate: 1, IPBurst: 4}})
	resp, _ := fetch(t, http.DefaultClient, http.MethodPost, s.url+security.PathToken, "",
		strings.NewReader("grant_type="+strings.Repeat("x", 2048)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "the token endpoint has the body limit too")
	var statuses []int
	for range 5 {
		resp, _ := fetch(t, http.DefaultClient, http.MethodGet, s.url+"/fhir/metadata", "", nil)
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, http.StatusTooManyRequests, statuses[len(statuses)-1])
}

// writeCertificate writes a self-signed certificate for 127.0.0.1.
func writeCertificate(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nexus test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := writeCertificate(t)
	s := startSecureServer(t, securityOptions{tlsCert: certFile, tlsKey: keyFile})
	require.True(t, strings.HasPrefix(s.url, "https://"))

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, body := fetch(t, client, http.MethodGet, s.url+"/fhir/metadata", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.GreaterOrEqual(t, resp.TLS.Version, uint16(tls.VersionTLS12))

	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	_, err := old.Get(s.url + "/fhir/metadata")
	assert.Error(t, err, "TLS 1.1 is rejected")
}

func runApp(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter, app.Reader = &out, &bytes.Buffer{}, strings.NewReader(stdin)
	err := app.Run(append([]string{"nexusd"}, args...))
	return out.String(), err
}

func TestInsecureNoAuthNeedsLoopback(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "noauth.db")
	_, err := runApp(t, "", "serve", "--db", dsn, "--addr", "0.0.0.0:0", "--"+noAuthFlag)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--insecure-no-auth is accepted only with a loopback --addr")

	_, err = runApp(t, "", "serve", "--db", dsn, "--addr", "0.0.0.0:0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--issuer", "an authenticated server on every interface needs its public URL")
}

func TestUserClientAndKeyCommands(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "admin.db")
	_, err := runApp(t, "", "migrate", "--db", dsn)
	require.NoError(t, err)

	out, err := runApp(t, "a long admin password\n", "user", "add", "--db", dsn, "--username", "admin", "--role", "admin")
	require.NoError(t, err)
	assert.Contains(t, out, "user admin added")

	out, err = runApp(t, "another long password\n", "user", "add", "--db", dsn, "--username", "nurse1",
		"--role", "nurse", "--totp", "--location", "ward-3")
	require.NoError(t, err)
	assert.Contains(t, out, "otpauth://totp/")

	_, err = runApp(t, "", "user", "add", "--db", dsn, "--username", "nopass", "--role", "nurse")
	assert.ErrorContains(t, err, "no password")
	_, err = runApp(t, "short\n", "user", "add", "--db", dsn, "--username", "weak", "--role", "nurse")
	assert.ErrorIs(t, err, security.ErrInvalid)
	_, err = runApp(t, "a long admin password\n", "user", "add", "--db", dsn, "--username", "admin", "--role", "admin")
	assert.ErrorIs(t, err, security.ErrConflict)
	_, err = runApp(t, "a long admin password\n", "user", "add", "--db", dsn, "--username", "x", "--role", "janitor")
	assert.ErrorIs(t, err, security.ErrInvalid)

	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pubFile := filepath.Join(t.TempDir(), "lab.pub.pem")
	require.NoError(t, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	out, err = runApp(t, "", "client", "add", "--db", dsn, "--id", "lab", "--kind", "system",
		"--scope", "system/Observation.crus", "--role", "lab-system", "--public-key", pubFile)
	require.NoError(t, err)
	assert.Contains(t, out, "client lab added")
	out, err = runApp(t, "", "client", "add", "--db", dsn, "--id", "chart", "--kind", "app",
		"--scope", "user/*.rs launch/patient", "--redirect-uri", "https://app.example/cb")
	require.NoError(t, err)
	assert.Contains(t, out, "client chart added")
	_, err = runApp(t, "", "client", "add", "--db", dsn, "--id", "nokey", "--kind", "system", "--scope", "system/*.rs",
		"--role", "admin")
	assert.ErrorContains(t, err, "--jwks or --public-key")

	first, err := runApp(t, "", "keys", "rotate", "--db", dsn)
	require.NoError(t, err)
	second, err := runApp(t, "", "keys", "rotate", "--db", dsn)
	require.NoError(t, err)
	assert.Contains(t, first, "signing key k")
	assert.NotEqual(t, first, second, "each rotation makes a new key")
}

func TestUserAddPasswordFromEnvironment(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "env.db")
	_, err := runApp(t, "", "migrate", "--db", dsn)
	require.NoError(t, err)
	t.Setenv(envUserPassword, "a password from the environment")
	out, err := runApp(t, "", "user", "add", "--db", dsn, "--username", "clerk1", "--role", "clerk")
	require.NoError(t, err)
	assert.Contains(t, out, "user clerk1 added")
}

func TestClientAssertionCommand(t *testing.T) {
	s := startSecureServer(t, securityOptions{})
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	set, err := security.JWKSFromPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), "lab-1")
	require.NoError(t, err)
	encoded, err := jsonString(set)
	require.NoError(t, err)
	require.NoError(t, s.stack.svc.AddClient(context.Background(), security.Client{ID: "lab", Kind: security.ClientSystem,
		JWKS: encoded, Scopes: "system/Observation.rs", Roles: []security.Role{security.RoleLabSystem}}))
	keyFile := filepath.Join(t.TempDir(), "lab.key")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))

	out, err := runApp(t, "", "client", "assertion", "--id", "lab", "--key", keyFile, "--kid", "lab-1",
		"--token-url", s.stack.svc.TokenURL())
	require.NoError(t, err)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Observation.rs"},
		"client_assertion_type": {security.AssertionType}, "client_assertion": {strings.TrimSpace(out)}}
	resp, body := fetch(t, http.DefaultClient, http.MethodPost, s.url+security.PathToken, "", strings.NewReader(form.Encode()))
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Contains(t, body, `"scope":"system/Observation.rs"`)
}

package security_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestClientAssertionRejections(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	other := f.addSystemClient(t, "billing-system", "system/*.rs", security.RoleBilling)
	stranger, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)

	reused := c.assertion(t, f, nil)
	_, err = f.svc.ClientCredentials(f.ctx, security.AssertionType, reused, "system/*.rs")
	require.NoError(t, err)

	tests := []struct {
		name      string
		assertion func() string
	}{
		{"replayed jti", func() string { return reused }},
		{"iss differs from sub", func() string {
			return c.assertion(t, f, func(m jwt.MapClaims) { m["sub"] = "billing-system" })
		}},
		{"iss of another client", func() string {
			return c.assertion(t, f, func(m jwt.MapClaims) { m["iss"], m["sub"] = other.id, other.id })
		}},
		{"unknown client", func() string {
			return c.assertion(t, f, func(m jwt.MapClaims) { m["iss"], m["sub"] = "ghost", "ghost" })
		}},
		{"aud is the FHIR base", func() string {
			return c.assertion(t, f, func(m jwt.MapClaims) { m["aud"] = issuer + "/fhir" })
		}},
		{"no exp", func() string { return c.assertion(t, f, func(m jwt.MapClaims) { delete(m, "exp") }) }},
		{"expired", func() string {
			return c.assertion(t, f, func(m jwt.MapClaims) { m["exp"] = f.clock.Now().Add(-time.Minute).Unix() })
		}},
		{"exp ten minutes ahead", func() string {
			return c.assertion(t, f, func(m jwt.MapClaims) { m["exp"] = f.clock.Now().Add(10 * time.Minute).Unix() })
		}},
		{"no jti", func() string { return c.assertion(t, f, func(m jwt.MapClaims) { delete(m, "jti") }) }},
		{"signed by an unregistered key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{"iss": c.id, "sub": c.id,
				"aud": f.svc.TokenURL(), "exp": f.clock.Now().Add(time.Minute).Unix(), "jti": randomJTI(t)})
			tok.Header["kid"] = c.kid
			s, err := tok.SignedString(stranger)
			require.NoError(t, err)
			return s
		}},
		{"HS256 with the client id as secret", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": c.id, "sub": c.id,
				"aud": f.svc.TokenURL(), "exp": f.clock.Now().Add(time.Minute).Unix(), "jti": randomJTI(t)})
			tok.Header["kid"] = c.kid
			s, err := tok.SignedString([]byte(c.id))
			require.NoError(t, err)
			return s
		}},
		{"alg none", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": c.id, "sub": c.id,
				"aud": f.svc.TokenURL(), "exp": f.clock.Now().Add(time.Minute).Unix(), "jti": randomJTI(t)})
			s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			require.NoError(t, err)
			return s
		}},
		{"unknown kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.MapClaims{"iss": c.id, "sub": c.id,
				"aud": f.svc.TokenURL(), "exp": f.clock.Now().Add(time.Minute).Unix(), "jti": randomJTI(t)})
			tok.Header["kid"] = "other"
			s, err := tok.SignedString(c.key)
			require.NoError(t, err)
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.ClientCredentials(f.ctx, security.AssertionType, tt.assertion(), "system/*.rs")
			assert.ErrorIs(t, err, security.ErrUnauthenticated)
			var te *security.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "invalid_client", te.Code)
		})
	}
	assert.Contains(t, f.events.types(), security.EventTokenDenied)
}

func TestClientCredentialsScopeEscalation(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "device-1", "system/Observation.c", security.RoleDevice)
	_, err := f.svc.ClientCredentials(f.ctx, security.AssertionType, c.assertion(t, f, nil), "system/Patient.rs user/*.cruds")
	var te *security.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "invalid_scope", te.Code)
	assert.ErrorIs(t, err, security.ErrForbidden)

	_, err = f.svc.ClientCredentials(f.ctx, "client_secret", c.assertion(t, f, nil), "system/Observation.c")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "another client_assertion_type")
}

func TestClientAssertionConcurrentReplay(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	a := c.assertion(t, f, nil)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.ClientCredentials(f.ctx, security.AssertionType, a, "system/*.rs")
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
	assert.Equal(t, 1, accepted)
}

func TestAddClientValidation(t *testing.T) {
	f := newFixture(t, security.Config{})
	tests := []struct {
		name   string
		client security.Client
	}{
		{"bad id", security.Client{ID: "has space", Kind: security.ClientApp, Scopes: "user/*.rs",
			RedirectURIs: []string{"https://app.example/cb"}}},
		{"malformed scope", security.Client{ID: "a", Kind: security.ClientApp, Scopes: "user/*.sr",
			RedirectURIs: []string{"https://app.example/cb"}}},
		{"app without redirect", security.Client{ID: "a", Kind: security.ClientApp, Scopes: "user/*.rs"}},
		{"app with system scope", security.Client{ID: "a", Kind: security.ClientApp, Scopes: "system/*.rs",
			RedirectURIs: []string{"https://app.example/cb"}}},
		{"relative redirect", security.Client{ID: "a", Kind: security.ClientApp, Scopes: "user/*.rs",
			RedirectURIs: []string{"/cb"}}},
		{"system without keys", security.Client{ID: "s", Kind: security.ClientSystem, Scopes: "system/*.rs",
			Roles: []security.Role{security.RoleLabSystem}}},
		{"unknown kind", security.Client{ID: "s", Kind: "robot", Scopes: "system/*.rs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, f.svc.AddClient(f.ctx, tt.client), security.ErrInvalid)
		})
	}
}

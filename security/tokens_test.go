package security_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestTokenRoundTrip(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/Observation.crus system/Patient.rs", security.RoleLabSystem)
	tok, err := f.svc.ClientCredentials(f.ctx, security.AssertionType, c.assertion(t, f, nil),
		"system/Observation.cruds system/Patient.rs system/Encounter.rs")
	require.NoError(t, err)
	assert.Equal(t, "system/Observation.crus system/Patient.rs", tok.Scope, "scopes are narrowed to the registration")
	assert.Equal(t, 300, tok.ExpiresIn)

	p, err := f.svc.ValidateToken(f.ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "lab", p.Subject)
	assert.Equal(t, security.KindSystem, p.Kind)
	assert.Equal(t, []security.Role{security.RoleLabSystem}, p.Roles)
	require.Len(t, p.Scopes, 2)
	assert.Contains(t, f.events.types(), security.EventTokenIssued)
}

// signedWith parses the payload of tok and signs it again with method and
// key, to forge tokens in the shape an attacker would.
func forge(t *testing.T, tok string, method jwt.SigningMethod, key any, edit func(jwt.MapClaims)) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	require.NoError(t, json.Unmarshal(payload, &claims))
	if edit != nil {
		edit(claims)
	}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(header, &h))
	forged := jwt.NewWithClaims(method, claims)
	forged.Header["kid"] = h["kid"]
	signed, err := forged.SignedString(key)
	require.NoError(t, err)
	return signed
}

func TestValidateTokenRejections(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	good := f.systemToken(t, c, "system/Observation.rs")
	set, err := f.svc.JWKS(f.ctx)
	require.NoError(t, err)
	pub, err := set.Keys[0].PublicKey()
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	parts := strings.Split(good, ".")

	tests := []struct {
		name  string
		token func() string
	}{
		{"alg none", func() string {
			return forge(t, good, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil)
		}},
		{"HS256 keyed with the public key", func() string {
			return forge(t, good, jwt.SigningMethodHS256, pubPEM, nil)
		}},
		{"signed by another key", func() string {
			return forge(t, good, jwt.SigningMethodES384, c.key, nil)
		}},
		{"payload changed after signing", func() string {
			payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
			changed := strings.Replace(string(payload), `"system/Observation.rs"`, `"system/*.cruds"`, 1)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(changed)) + "." + parts[2]
		}},
		{"signature stripped", func() string { return parts[0] + "." + parts[1] + "." }},
		{"garbage", func() string { return "not.a.token" }},
		{"empty", func() string { return "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.ValidateToken(f.ctx, tt.token())
			assert.ErrorIs(t, err, security.ErrUnauthenticated)
		})
	}
}

func TestValidateTokenClaims(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	good := f.systemToken(t, c, "system/Observation.rs")

	_, err := f.svc.ValidateToken(f.ctx, good)
	require.NoError(t, err)

	other := newFixture(t, security.Config{Issuer: "https://other.example"})
	_, err = other.svc.ValidateToken(other.ctx, good)
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a token of another server")

	f.clock.Advance(5*time.Minute + 6*time.Second)
	_, err = f.svc.ValidateToken(f.ctx, good)
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "expired beyond the leeway")
}

func mustService(t *testing.T, f *fixture, cfg security.Config) *security.Service {
	t.Helper()
	cfg.Store, cfg.Clock, cfg.Issuer, cfg.Password = f.store, f.clock.Now, issuer, fastPasswords
	svc, err := security.New(cfg)
	require.NoError(t, err)
	return svc
}

func TestValidateTokenSameKeysWrongAudience(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	good := f.systemToken(t, c, "system/Observation.rs")
	// Same store and keys, another audience: only aud differs.
	svc := mustService(t, f, security.Config{Audience: "https://ehr.example/billing"})
	_, err := svc.ValidateToken(f.ctx, good)
	assert.ErrorIs(t, err, security.ErrUnauthenticated)
	assert.ErrorContains(t, err, "aud")
}

func TestSigningKeyRotation(t *testing.T) {
	f := newFixture(t, security.Config{KeyCacheTTL: time.Hour})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	before := f.systemToken(t, c, "system/Observation.rs")

	// Another process rotates: this service's cache still holds the old
	// key set and reads the store again for the unknown kid.
	other := mustService(t, f, security.Config{})
	newKid, err := other.RotateSigningKey(f.ctx)
	require.NoError(t, err)
	after, err := other.ClientCredentials(f.ctx, security.AssertionType, c.assertion(t, f, nil), "system/Observation.rs")
	require.NoError(t, err)

	_, err = f.svc.ValidateToken(f.ctx, after.AccessToken)
	require.NoError(t, err, "a token of the new key validates before the cache expires")
	_, err = f.svc.ValidateToken(f.ctx, before)
	require.NoError(t, err, "a token of the retired key validates until it expires")

	set, err := other.JWKS(f.ctx)
	require.NoError(t, err)
	require.Len(t, set.Keys, 2, "the retired key stays published")
	assert.Equal(t, newKid, set.Keys[0].KeyID)

	f.clock.Advance(6 * time.Minute)
	set, err = mustService(t, f, security.Config{}).JWKS(f.ctx)
	require.NoError(t, err)
	require.Len(t, set.Keys, 1, "once its tokens expired, the retired key leaves the JWKS")
	assert.Equal(t, newKid, set.Keys[0].KeyID)
}

package security

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SigningAlgorithm is the JWS algorithm of access tokens. Validation
// accepts no other.
const SigningAlgorithm = "ES256"

// accessClaims are the claims of an access token.
type accessClaims struct {
	jwt.RegisteredClaims
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	Kind     Kind   `json:"kind"`
	Roles    []Role `json:"roles,omitempty"`
	Patient  string `json:"patient,omitempty"`
	FHIRUser string `json:"fhirUser,omitempty"`
	Location string `json:"location,omitempty"`
}

// loadedKey is a signing key parsed from its PEM.
type loadedKey struct {
	id      string
	private *ecdsa.PrivateKey
	retired bool
}

// keyCache holds the signing keys read from the store.
type keyCache struct {
	mu       sync.Mutex
	keys     []loadedKey
	loadedAt time.Time
}

// RotateSigningKey creates a new ES256 key and makes it the active one.
// The previous key signs nothing more but stays in the JWKS, and its
// tokens stay valid, until TokenLifetime plus Leeway after the rotation.
// It returns the new key id.
func (s *Service) RotateSigningKey(ctx context.Context) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	key := SigningKey{
		ID: "k" + randomToken(8), Algorithm: SigningAlgorithm,
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		CreatedAt:  s.cfg.Clock().UTC(),
	}
	if err := s.store.RotateSigningKey(ctx, key); err != nil {
		return "", err
	}
	s.keys.mu.Lock()
	s.keys.loadedAt = time.Time{}
	s.keys.mu.Unlock()
	return key.ID, nil
}

// loadKeys returns the cached keys, reading them again when the cache is
// older than KeyCacheTTL or force is set.
func (s *Service) loadKeys(ctx context.Context, force bool) ([]loadedKey, error) {
	now := s.cfg.Clock()
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if !force && !s.keys.loadedAt.IsZero() && now.Sub(s.keys.loadedAt) < s.cfg.KeyCacheTTL {
		return s.keys.keys, nil
	}
	// Keys retired longer ago than a token lives have no valid token left.
	since := now.Add(-s.cfg.TokenLifetime - s.cfg.Leeway)
	stored, err := s.store.SigningKeys(ctx, since)
	if err != nil {
		return nil, err
	}
	keys := make([]loadedKey, 0, len(stored))
	for _, k := range stored {
		block, _ := pem.Decode([]byte(k.PrivateKey))
		if block == nil || k.Algorithm != SigningAlgorithm {
			s.cfg.Logger.Error("skipping unreadable signing key", "kid", k.ID)
			continue
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if err != nil || !ok {
			s.cfg.Logger.Error("skipping unreadable signing key", "kid", k.ID)
			continue
		}
		keys = append(keys, loadedKey{id: k.ID, private: priv, retired: !k.RetiredAt.IsZero()})
	}
	s.keys.keys, s.keys.loadedAt = keys, now
	return keys, nil
}

// activeKey returns the key that signs new tokens, creating the first
// one when the store has none.
func (s *Service) activeKey(ctx context.Context) (loadedKey, error) {
	for attempt := 0; attempt < 2; attempt++ {
		keys, err := s.loadKeys(ctx, attempt > 0)
		if err != nil {
			return loadedKey{}, err
		}
		for _, k := range keys {
			if !k.retired {
				return k, nil
			}
		}
		if attempt == 0 {
			continue
		}
		s.keyMu.Lock()
		_, err = s.RotateSigningKey(ctx)
		s.keyMu.Unlock()
		if err != nil {
			return loadedKey{}, err
		}
		keys, err = s.loadKeys(ctx, true)
		if err != nil {
			return loadedKey{}, err
		}
		for _, k := range keys {
			if !k.retired {
				return k, nil
			}
		}
	}
	return loadedKey{}, errors.New("sign token: no active signing key after creating one")
}

// JWKS returns the public keys that validate current tokens: the active
// key and keys retired within the last TokenLifetime plus Leeway.
func (s *Service) JWKS(ctx context.Context) (JWKS, error) {
	if _, err := s.activeKey(ctx); err != nil {
		return JWKS{}, err
	}
	keys, err := s.loadKeys(ctx, false)
	if err != nil {
		return JWKS{}, err
	}
	set := JWKS{Keys: []JWK{}}
	for _, k := range keys {
		jwk, err := PublicJWK(&k.private.PublicKey, k.id, SigningAlgorithm)
		if err != nil {
			return JWKS{}, err
		}
		set.Keys = append(set.Keys, jwk)
	}
	return set, nil
}

// Token is an issued access token.
type Token struct {
	AccessToken string
	ExpiresIn   int
	Scope       string
	Patient     string
	FHIRUser    string
}

// issue signs an access token for principal p.
func (s *Service) issue(ctx context.Context, p Principal, scope string) (Token, error) {
	key, err := s.activeKey(ctx)
	if err != nil {
		return Token{}, err
	}
	now := s.cfg.Clock()
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.cfg.Issuer, Subject: p.Subject, Audience: jwt.ClaimStrings{s.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.TokenLifetime)), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), ID: randomToken(16),
		},
		Scope: scope, ClientID: p.ClientID, Kind: p.Kind, Roles: p.Roles, Patient: p.Patient,
		FHIRUser: p.FHIRUser, Location: p.Location,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = key.id
	signed, err := tok.SignedString(key.private)
	if err != nil {
		return Token{}, fmt.Errorf("sign token: %w", err)
	}
	return Token{AccessToken: signed, ExpiresIn: int(s.cfg.TokenLifetime / time.Second), Scope: scope,
		Patient: p.Patient, FHIRUser: p.FHIRUser}, nil
}

// ValidateToken checks an access token and returns its principal. The
// signature must be ES256 by a key of this service, and exp, iss and aud
// are required and checked. The token's client, and the user of a user
// token, must exist and be enabled, as read at most PrincipalCheckTTL
// ago. Every failure wraps ErrUnauthenticated, except a Store failure.
func (s *Service) ValidateToken(ctx context.Context, raw string) (*Principal, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		for attempt := 0; attempt < 2; attempt++ {
			// An unknown kid reads the keys again once, so a rotation
			// made by another process is seen before the cache expires.
			// NOTE: each token with an unknown kid costs one store read.
			keys, err := s.loadKeys(ctx, attempt > 0)
			if err != nil {
				return nil, err
			}
			for _, k := range keys {
				if k.id == kid {
					return &k.private.PublicKey, nil
				}
			}
		}
		return nil, errors.New("unknown kid")
	},
		jwt.WithValidMethods([]string{SigningAlgorithm}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.cfg.Leeway),
		jwt.WithTimeFunc(s.cfg.Clock),
	)
	if err != nil {
		return nil, fmt.Errorf("validate access token: %w: %w", err, ErrUnauthenticated)
	}
	// A token that outlives the configured lifetime was not issued here.
	if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > s.cfg.TokenLifetime {
		return nil, fmt.Errorf("validate access token: lifetime too long: %w", ErrUnauthenticated)
	}
	if claims.Subject == "" || (claims.Kind != KindUser && claims.Kind != KindSystem) {
		return nil, fmt.Errorf("validate access token: missing sub or kind: %w", ErrUnauthenticated)
	}
	if err := s.checkActive(ctx, claims.Kind, claims.Subject, claims.ClientID); err != nil {
		return nil, err
	}
	parsed := ParseScopes(claims.Scope)
	return &Principal{
		Subject: claims.Subject, ClientID: claims.ClientID, Kind: claims.Kind, Roles: claims.Roles,
		Scopes: parsed.Resource, Launch: parsed.Launch, Patient: claims.Patient, FHIRUser: claims.FHIRUser,
		Location: claims.Location, TokenID: claims.ID,
	}, nil
}

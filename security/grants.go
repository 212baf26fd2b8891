package security

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// AssertionType is the client_assertion_type of private_key_jwt.
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgorithms are the JWS algorithms accepted on client
// assertions. SMART Backend Services requires RS384 and ES384, and the
// others are the same families with other hash sizes.
var assertionAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}

// curveOfAlgorithm is the curve each ECDSA algorithm needs.
var curveOfAlgorithm = map[string]string{"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}

// TokenError is an OAuth2 error response (RFC 6749 section 5.2). It wraps
// ErrUnauthenticated, ErrForbidden or ErrInvalid.
type TokenError struct {
	// Code is the OAuth2 error code, such as "invalid_client".
	Code        string
	Description string
	Err         error
}

func (e *TokenError) Error() string { return "token request: " + e.Code + ": " + e.Description }

// Unwrap returns the sentinel the error wraps.
func (e *TokenError) Unwrap() error { return e.Err }

func tokenError(code, description string, err error) *TokenError {
	return &TokenError{Code: code, Description: description, Err: err}
}

// ClientCredentials checks a private_key_jwt client assertion as SMART
// Backend Services defines it and issues a token with the part of the
// requested scopes that the client's registration allows. The assertion
// must have iss = sub = client id, aud = TokenURL, exp at most
// MaxAssertionLifetime ahead and a jti not used before.
func (s *Service) ClientCredentials(ctx context.Context, assertionType, assertion, scope string) (Token, error) {
	if assertionType != AssertionType {
		return Token{}, s.clientAuthFailed(ctx, "", "client_assertion_type is not "+AssertionType)
	}
	client, claims, err := s.verifyAssertion(ctx, assertion)
	if err != nil {
		s.recordDenial(ctx, Event{Type: EventTokenDenied, Time: s.cfg.Clock(), ClientID: claims.Issuer, Reason: "invalid_client"})
		return Token{}, err
	}

	parsed := ParseScopes(scope)
	ceiling := ParseScopes(client.Scopes).Resource
	var requested []Scope
	for _, sc := range parsed.Resource {
		if sc.Context == ContextSystem {
			requested = append(requested, sc)
		}
	}
	granted := NarrowScopes(requested, ceiling)
	if len(granted) == 0 {
		s.recordDenial(ctx, Event{Type: EventTokenDenied, Time: s.cfg.Clock(), ClientID: client.ID, Reason: "invalid_scope"})
		return Token{}, tokenError("invalid_scope", "no requested system/ scope is allowed for this client", ErrForbidden)
	}

	p := Principal{Subject: client.ID, ClientID: client.ID, Kind: KindSystem, Roles: client.Roles}
	tok, err := s.issue(ctx, p, FormatScopes(granted, nil))
	if err != nil {
		return Token{}, err
	}
	if err := s.record(ctx, Event{Type: EventTokenIssued, Time: s.cfg.Clock(), Subject: client.ID, ClientID: client.ID}); err != nil {
		return Token{}, err
	}
	return tok, nil
}

func (s *Service) verifyAssertion(ctx context.Context, assertion string) (Client, jwt.RegisteredClaims, error) {
	var claims jwt.RegisteredClaims
	var client Client
	invalid := func(reason string) error {
		return s.clientAuthFailed(ctx, claims.Issuer, reason)
	}
	if assertion == "" || len(assertion) > 16<<10 {
		return client, claims, invalid("client_assertion is missing or longer than 16 KiB")
	}
	_, err := jwt.ParseWithClaims(assertion, &claims, func(t *jwt.Token) (any, error) {
		// The parser has decoded the claims but not checked the signature.
		if claims.Issuer == "" || claims.Issuer != claims.Subject {
			return nil, errors.New("iss and sub must both be the client id")
		}
		c, err := s.store.Client(ctx, claims.Issuer)
		if err != nil {
			return nil, errors.New("unknown client")
		}
		if c.Kind != ClientSystem || c.Disabled {
			return nil, errors.New("client may not use client_credentials")
		}
		set, err := ParseJWKS([]byte(c.JWKS))
		if err != nil {
			return nil, errors.New("client key set is unusable")
		}
		kid, _ := t.Header["kid"].(string)
		jwk, ok := set.find(kid)
		if !ok && kid == "" && len(set.Keys) == 1 {
			jwk, ok = set.Keys[0], true
		}
		if !ok {
			return nil, errors.New("no client key has that kid")
		}
		alg := t.Method.Alg()
		if jwk.Algorithm != "" && jwk.Algorithm != alg {
			return nil, errors.New("key is registered for another algorithm")
		}
		pub, err := jwk.PublicKey()
		if err != nil {
			return nil, err
		}
		if ec, isEC := pub.(*ecdsa.PublicKey); isEC && ec.Curve.Params().Name != curveOfAlgorithm[alg] {
			return nil, errors.New("key curve does not match the algorithm")
		}
		client = c
		return pub, nil
	},
		jwt.WithValidMethods(assertionAlgorithms),
		jwt.WithAudience(s.TokenURL()),
		jwt.WithExpirationRequired(),
		// An iat later than now plus Leeway fails the assertion.
		jwt.WithIssuedAt(),
		jwt.WithLeeway(s.cfg.Leeway),
		jwt.WithTimeFunc(s.cfg.Clock),
	)
	if err != nil {
		return Client{}, claims, invalid("client assertion rejected: " + err.Error())
	}
	now := s.cfg.Clock()
	if claims.ExpiresAt.Sub(now) > MaxAssertionLifetime+s.cfg.Leeway {
		return Client{}, claims, invalid("client assertion exp is more than 5 minutes ahead")
	}
	if claims.ID == "" || len(claims.ID) > 256 {
		return Client{}, claims, invalid("client assertion needs a jti of at most 256 characters")
	}
	if err := s.store.UseJTI(ctx, claims.Issuer, claims.ID, claims.ExpiresAt.Time.Add(s.cfg.Leeway), now); err != nil {
		if errors.Is(err, ErrReplay) {
			return Client{}, claims, invalid("client assertion jti was already used")
		}
		return Client{}, claims, err
	}
	return client, claims, nil
}

// AuthorizeParams is an authorization request of the code flow with PKCE,
// together with the user's credentials and consent from the login form.
type AuthorizeParams struct {
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	Audience            string
	CodeChallenge       string
	CodeChallengeMethod string
	// Username, Password and TOTPCode are the user's credentials.
	Username string
	Password string
	TOTPCode string
	// Patient is the patient id picked for a launch/patient request when
	// the user is not a patient.
	Patient string
	// ClientIP is the address of the user's browser, whose failed
	// sign-ins are throttled too. Empty throttles the username only.
	ClientIP string
}

// CheckAuthorizeRequest checks the parts of an authorization request that
// decide whether the server may redirect back to the client at all: a
// registered app client and one of its redirect URIs exactly. It returns
// the client.
func (s *Service) CheckAuthorizeRequest(ctx context.Context, p AuthorizeParams) (Client, error) {
	c, err := s.store.Client(ctx, p.ClientID)
	if err != nil || c.Kind != ClientApp || c.Disabled {
		return Client{}, tokenError("unauthorized_client", "client_id is not a registered app", ErrUnauthenticated)
	}
	if !slices.Contains(c.RedirectURIs, p.RedirectURI) {
		return Client{}, tokenError("invalid_request", "redirect_uri is not registered for this client", ErrInvalid)
	}
	return c, nil
}

// checkAuthorizeParameters checks what the server reports back to the
// client by redirect: audience, PKCE and scopes.
func (s *Service) checkAuthorizeParameters(p AuthorizeParams) error {
	switch {
	case strings.TrimSuffix(p.Audience, "/") != s.cfg.Audience:
		return tokenError("invalid_request", "aud must be the FHIR base URL "+s.cfg.Audience, ErrInvalid)
	case p.CodeChallengeMethod != "S256":
		return tokenError("invalid_request", "code_challenge_method must be S256", ErrInvalid)
	case len(p.CodeChallenge) != 43:
		return tokenError("invalid_request", "code_challenge must be a base64url SHA-256", ErrInvalid)
	case p.State == "":
		return tokenError("invalid_request", "state is required", ErrInvalid)
	}
	return nil
}

// Authorize signs the user in, narrows the requested scopes to what the
// client allows and returns a one-time authorization code.
func (s *Service) Authorize(ctx context.Context, p AuthorizeParams) (string, error) {
	client, err := s.CheckAuthorizeRequest(ctx, p)
	if err != nil {
		return "", err
	}
	if err := s.checkAuthorizeParameters(p); err != nil {
		return "", err
	}
	user, err := s.authenticate(ctx, p.Username, p.Password, p.TOTPCode, client.ID, p.ClientIP)
	if err != nil {
		return "", err
	}

	parsed := ParseScopes(p.Scope)
	var requested []Scope
	for _, sc := range parsed.Resource {
		if sc.Context != ContextSystem {
			requested = append(requested, sc)
		}
	}
	granted := NarrowScopes(requested, ParseScopes(client.Scopes).Resource)
	if len(granted) == 0 {
		return "", tokenError("invalid_scope", "no requested scope is allowed for this client", ErrForbidden)
	}

	patient := ""
	if self, ok := strings.CutPrefix(user.FHIRUser, "Patient/"); ok {
		patient = self
	} else if parsed.HasLaunch("launch/patient") && p.Patient != "" {
		if !idPattern.MatchString(p.Patient) {
			return "", tokenError("invalid_request", "patient must be a Patient id", ErrInvalid)
		}
		if err := s.checkLaunchPatient(ctx, user, client.ID, p.Patient); err != nil {
			return "", err
		}
		patient = p.Patient
	}
	for _, sc := range granted {
		if sc.Context == ContextPatient && patient == "" {
			return "", tokenError("invalid_request", "patient/ scopes need a patient: request launch/patient and pick one", ErrInvalid)
		}
	}

	code := randomToken(32)
	err = s.store.SaveAuthCode(ctx, AuthCode{
		CodeHash: hashCode(code), ClientID: client.ID, RedirectURI: p.RedirectURI,
		Scope: FormatScopes(granted, grantedLaunch(parsed.Launch, client)), Username: user.Username, Challenge: p.CodeChallenge,
		Patient: patient, ExpiresAt: s.cfg.Clock().Add(s.cfg.CodeLifetime),
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

func hashCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// ExchangeCode redeems an authorization code for an access token. The
// code is deleted at the first attempt, so it works once. The client id,
// redirect URI and PKCE verifier must match the authorization request.
func (s *Service) ExchangeCode(ctx context.Context, code, clientID, redirectURI, verifier string) (Token, error) {
	invalid := tokenError("invalid_grant", "authorization code is invalid, expired or used", ErrUnauthenticated)
	if code == "" || len(code) > 256 {
		return Token{}, invalid
	}
	ac, err := s.store.TakeAuthCode(ctx, hashCode(code), s.cfg.Clock())
	if errors.Is(err, ErrNotFound) {
		return Token{}, invalid
	}
	if err != nil {
		return Token{}, err
	}
	if ac.ClientID != clientID || ac.RedirectURI != redirectURI {
		return Token{}, invalid
	}

	if len(verifier) < 43 || len(verifier) > 128 {
		return Token{}, tokenError("invalid_grant", "code_verifier must be 43 to 128 characters", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(verifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != ac.Challenge {
		return Token{}, tokenError("invalid_grant", "code_verifier does not match code_challenge", ErrUnauthenticated)
	}

	user, err := s.store.User(ctx, ac.Username)
	if err != nil || user.Disabled {
		return Token{}, invalid
	}

	parsed := ParseScopes(ac.Scope)
	p := Principal{Subject: user.Username, ClientID: clientID, Kind: KindUser, Roles: user.Roles,
		Patient: ac.Patient, FHIRUser: user.FHIRUser, Location: user.Location}
	tok, err := s.issue(ctx, p, FormatScopes(parsed.Resource, parsed.Launch))
	if err != nil {
		return Token{}, err
	}
	if err := s.record(ctx, Event{Type: EventTokenIssued, Time: s.cfg.Clock(), Subject: user.Username, ClientID: clientID}); err != nil {
		return Token{}, err
	}
	return tok, nil
}

// recordDenial records a rejected token request. The request fails either
// way, so a recording failure is logged instead of returned.
func (s *Service) recordDenial(ctx context.Context, e Event) {
	if err := s.record(ctx, e); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "recording a rejected token request failed", "client_id", e.ClientID, "err", err)
	}
}

// grantedLaunch returns the requested non-resource scopes that client may
// get: all of them, except ScopeBreakGlass when the client's
// registration does not list it.
func grantedLaunch(requested []string, client Client) []string {
	if !slices.Contains(requested, ScopeBreakGlass) || ParseScopes(client.Scopes).HasLaunch(ScopeBreakGlass) {
		return requested
	}
	return slices.DeleteFunc(slices.Clone(requested), func(s string) bool { return s == ScopeBreakGlass })
}

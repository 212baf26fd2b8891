package security

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Service issues and validates tokens, signs users in and decides access.
// It is safe for concurrent use.
type Service struct {
	cfg   Config
	store Store
	keys  keyCache
	// keyMu serialises first-key creation within this process.
	keyMu    sync.Mutex
	throttle *loginThrottle
	// active caches whether the clients and users of tokens are enabled.
	active principalChecks
}

// New returns a Service on cfg.
func New(cfg Config) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: cfg.Store, throttle: newLoginThrottle()}, nil
}

// Config returns the configuration after defaults.
func (s *Service) Config() Config { return s.cfg }

// TokenURL returns the URL of the token endpoint, the aud that client
// assertions must carry.
func (s *Service) TokenURL() string { return s.cfg.Issuer + "/auth/token" }

var (
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@\-]{0,127}$`)
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$`)
	fhirUserPattern = regexp.MustCompile(`^(Practitioner|PractitionerRole|Patient|RelatedPerson|Person)/[A-Za-z0-9\-.]{1,64}$`)
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
)

// AddUserParams describes a new user.
type AddUserParams struct {
	Username string
	Password string
	Roles    []Role
	// TOTP turns on one-time codes; AddUser then returns the otpauth URL.
	TOTP     bool
	FHIRUser string
	Location string
}

// AddUser hashes the password and stores a new user. With p.TOTP it
// returns the otpauth:// URL of the new secret.
func (s *Service) AddUser(ctx context.Context, p AddUserParams) (totpURL string, err error) {
	switch {
	case !usernamePattern.MatchString(p.Username):
		return "", fmt.Errorf("add user: username must be 1 to 128 letters, digits or ._@-: %w", ErrInvalid)
	case len(p.Roles) == 0:
		return "", fmt.Errorf("add user %s: at least one role is required: %w", p.Username, ErrInvalid)
	case p.FHIRUser != "" && !fhirUserPattern.MatchString(p.FHIRUser):
		return "", fmt.Errorf("add user %s: fhirUser must be a reference such as Practitioner/123: %w", p.Username, ErrInvalid)
	case p.Location != "" && !idPattern.MatchString(p.Location):
		return "", fmt.Errorf("add user %s: location must be a Location id: %w", p.Username, ErrInvalid)
	}
	for _, r := range p.Roles {
		if _, ok := s.cfg.Permissions[r]; !ok {
			return "", fmt.Errorf("add user %s: unknown role %q: %w", p.Username, r, ErrInvalid)
		}
	}
	if containsRole(p.Roles, RolePatient) && !strings.HasPrefix(p.FHIRUser, "Patient/") {
		return "", fmt.Errorf("add user %s: role patient needs fhirUser Patient/id: %w", p.Username, ErrInvalid)
	}
	hash, err := HashPassword(p.Password, s.cfg.Password)
	if err != nil {
		return "", fmt.Errorf("add user %s: %w", p.Username, err)
	}
	u := User{Username: p.Username, PasswordHash: hash, Roles: p.Roles, FHIRUser: p.FHIRUser,
		Location: p.Location, CreatedAt: s.cfg.Clock().UTC()}
	if p.TOTP {
		u.TOTPSecret, totpURL, err = NewTOTP(s.cfg.TOTPIssuer, p.Username)
		if err != nil {
			return "", err
		}
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return "", err
	}
	return totpURL, nil
}

func containsRole(roles []Role, r Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// AddClient checks and stores a new client. A system client needs a JWKS
// with its public keys and system/ scopes. An app needs at least one
// redirect URI and patient/ or user/ scopes. Scopes lists the ceiling of
// what the client may be granted and must all parse.
func (s *Service) AddClient(ctx context.Context, c Client) error {
	if !clientIDPattern.MatchString(c.ID) {
		return fmt.Errorf("add client: id must be 1 to 128 letters, digits or ._:-: %w", ErrInvalid)
	}
	parsed := ParseScopes(c.Scopes)
	if len(parsed.Rejected) > 0 {
		return fmt.Errorf("add client %s: invalid scope %q: %w", c.ID, parsed.Rejected[0], ErrInvalid)
	}
	if len(parsed.Resource) == 0 {
		return fmt.Errorf("add client %s: at least one resource scope is required: %w", c.ID, ErrInvalid)
	}
	for _, r := range c.Roles {
		if _, ok := s.cfg.Permissions[r]; !ok {
			return fmt.Errorf("add client %s: unknown role %q: %w", c.ID, r, ErrInvalid)
		}
	}
	switch c.Kind {
	case ClientSystem:
		if _, err := ParseJWKS([]byte(c.JWKS)); err != nil {
			return fmt.Errorf("add client %s: %w", c.ID, err)
		}
		if len(c.Roles) == 0 {
			return fmt.Errorf("add client %s: a system client needs at least one role: %w", c.ID, ErrInvalid)
		}
		for _, sc := range parsed.Resource {
			if sc.Context != ContextSystem {
				return fmt.Errorf("add client %s: a system client takes only system/ scopes: %w", c.ID, ErrInvalid)
			}
		}
	case ClientApp:
		if len(c.RedirectURIs) == 0 {
			return fmt.Errorf("add client %s: an app needs a redirect URI: %w", c.ID, ErrInvalid)
		}
		for _, uri := range c.RedirectURIs {
			u, err := url.Parse(uri)
			if err != nil || !u.IsAbs() || u.Fragment != "" || u.Host == "" {
				return fmt.Errorf("add client %s: redirect URI must be absolute without a fragment: %w", c.ID, ErrInvalid)
			}
		}
		for _, sc := range parsed.Resource {
			if sc.Context == ContextSystem {
				return fmt.Errorf("add client %s: an app takes patient/ and user/ scopes: %w", c.ID, ErrInvalid)
			}
		}
		if len(c.Roles) > 0 {
			return fmt.Errorf("add client %s: an app acts with its user's roles and takes none: %w", c.ID, ErrInvalid)
		}
	default:
		return fmt.Errorf("add client %s: kind must be system or app: %w", c.ID, ErrInvalid)
	}
	c.CreatedAt = s.cfg.Clock().UTC()
	return s.store.CreateClient(ctx, c)
}

// Authenticate checks a user's password and, when the user has TOTP, the
// one-time code, and records the sign-in or its failure. A TOTP code is
// accepted once: a second sign-in with the code of the same or an earlier
// time step fails. Every failure returns the same error wrapping
// ErrUnauthenticated, so callers cannot tell an unknown user from a wrong
// password. After Config.LoginFailureLimit failures within
// Config.LoginLockout the username is locked for LoginLockout. Every
// sign-in then fails with a *ThrottledError without checking the
// password, for unknown users too.
func (s *Service) Authenticate(ctx context.Context, username, password, code, clientID string) (User, error) {
	return s.authenticate(ctx, username, password, code, clientID, "")
}

// authenticate is Authenticate that also throttles the client IP address
// ip, unless ip is empty.
func (s *Service) authenticate(ctx context.Context, username, password, code, clientID, ip string) (User, error) {
	now := s.cfg.Clock()
	keys, limits := []string{"user:" + username}, []int{s.cfg.LoginFailureLimit}
	if ip != "" {
		keys, limits = append(keys, "ip:"+ip), append(limits, s.cfg.LoginIPFailureLimit)
	}
	if wait := s.throttle.lockedFor(now, keys...); wait > 0 {
		if err := s.record(ctx, Event{Type: EventLoginFailed, Time: now, Subject: username, ClientID: clientID,
			Reason: "throttled"}); err != nil {
			return User{}, err
		}
		return User{}, &ThrottledError{RetryAfter: wait}
	}

	fail := func() (User, error) {
		s.throttle.fail(now, s.cfg.LoginLockout, keys, limits)
		if err := s.record(ctx, Event{Type: EventLoginFailed, Time: now, Subject: username, ClientID: clientID}); err != nil {
			return User{}, err
		}
		return User{}, fmt.Errorf("authenticate: invalid username, password or code: %w", ErrUnauthenticated)
	}

	u, err := s.store.User(ctx, username)
	if errors.Is(err, ErrNotFound) {
		// Hash anyway, so the response time does not reveal whether the
		// user exists.
		_, _ = HashPassword(strings.Repeat("x", MinPasswordLength), s.cfg.Password)
		return fail()
	}
	if err != nil {
		return User{}, err
	}
	ok, err := VerifyPassword(password, u.PasswordHash)
	if err != nil {
		s.cfg.Logger.Error("stored password hash is unreadable", "username", username, "err", err)
		return fail()
	}
	if !ok || u.Disabled {
		return fail()
	}
	if u.TOTPSecret != "" {
		step, ok := matchTOTPStep(code, u.TOTPSecret, now)
		if !ok {
			return fail()
		}
		// A code works once: the store accepts each step at most once
		// and never one before the last accepted step.
		err := s.store.UseTOTPStep(ctx, u.Username, step)
		if errors.Is(err, ErrReplay) {
			return fail()
		}
		if err != nil {
			return User{}, err
		}
	}
	if err := s.record(ctx, Event{Type: EventLogin, Time: now, Subject: username, ClientID: clientID}); err != nil {
		return User{}, err
	}
	// The address's count stays, so that one valid account does not
	// reset the guessing budget of its address.
	s.throttle.succeed("user:" + username)
	return u, nil
}

func (s *Service) record(ctx context.Context, e Event) error {
	if s.cfg.Recorder == nil {
		return nil
	}
	if err := s.cfg.Recorder.RecordSecurityEvent(ctx, e); err != nil {
		return fmt.Errorf("record %s event: %w", e.Type, err)
	}
	return nil
}

// randomToken returns n random bytes as hex.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b)
}

package security

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Limits and defaults of Config.
const (
	DefaultTokenLifetime = 5 * time.Minute
	// MaxTokenLifetime is the longest access token lifetime Validate
	// accepts.
	MaxTokenLifetime = 15 * time.Minute
	// MaxAssertionLifetime is how far ahead of now a client assertion's
	// exp may be, as SMART Backend Services requires.
	MaxAssertionLifetime = 5 * time.Minute
	DefaultLeeway        = 5 * time.Second
	DefaultCodeLifetime  = time.Minute
	DefaultKeyCacheTTL   = 30 * time.Second
	// DefaultBreakGlassLifetime is the lifetime of a break-the-glass grant
	// that states none, and DefaultMaxBreakGlassLifetime the longest one.
	DefaultBreakGlassLifetime    = time.Hour
	DefaultMaxBreakGlassLifetime = 12 * time.Hour
	// MinBreakGlassReason is the shortest reason, in characters, that a
	// break-the-glass request must state.
	MinBreakGlassReason = 10
)

// Config configures a Service. The zero value apart from Store and Issuer
// works after WithDefaults.
type Config struct {
	// Store keeps users, clients, keys, used jti values, codes and
	// grants. Required.
	Store Store
	// Issuer is the absolute base URL of the server, without a trailing
	// slash, such as "https://ehr.example". Tokens carry it as iss, and
	// the token endpoint is Issuer + "/auth/token". Required.
	Issuer string
	// Audience is the FHIR base URL that access tokens are for (their
	// aud). Empty means Issuer + "/fhir".
	Audience string
	// TokenLifetime is the lifetime of access tokens, at most
	// MaxTokenLifetime. Zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means
	// DefaultLeeway; it must not exceed one minute.
	Leeway time.Duration
	// CodeLifetime is how long an authorization code can be exchanged.
	// Zero means DefaultCodeLifetime.
	CodeLifetime time.Duration
	// KeyCacheTTL is how long signing keys read from Store are reused
	// before they are read again, which is how a rotation made by another
	// process is seen. Zero means DefaultKeyCacheTTL.
	KeyCacheTTL time.Duration
	// Permissions maps roles to what they may do. Nil means
	// DefaultPermissions().
	Permissions map[Role][]Permission
	// CareRelations returns the patients a user cares for. Nil means no
	// user has care relations, so ReachCare permissions reach only the
	// patients of break-the-glass grants.
	CareRelations CareRelations
	// Patients checks that the patient of a break-the-glass request
	// exists. Nil skips the check.
	Patients PatientDirectory
	// BreakGlassLifetime is the default and MaxBreakGlassLifetime the
	// maximum lifetime of a break-the-glass grant.
	BreakGlassLifetime    time.Duration
	MaxBreakGlassLifetime time.Duration
	// Password sets the argon2id cost of new password hashes. Zero means
	// DefaultPasswordParams.
	Password PasswordParams
	// LoginFailureLimit is the number of failed sign-ins of one username,
	// and LoginIPFailureLimit of one client IP address, within
	// LoginLockout that locks it for LoginLockout. A locked sign-in fails
	// without checking the password. Zero means the Default values.
	LoginFailureLimit   int
	LoginIPFailureLimit int
	LoginLockout        time.Duration
	// TOTPIssuer names the service in authenticator apps. Empty means
	// "Nexus Health 360".
	TOTPIssuer string
	// Recorder receives every sign-in, token issue and break-the-glass
	// grant. Nil records nothing.
	Recorder Recorder
	// Logger receives failures the service handles itself; nil discards.
	Logger *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.Audience == "" && c.Issuer != "" {
		c.Audience = c.Issuer + "/fhir"
	}
	c.Audience = strings.TrimSuffix(c.Audience, "/")
	if c.TokenLifetime == 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.CodeLifetime == 0 {
		c.CodeLifetime = DefaultCodeLifetime
	}
	if c.KeyCacheTTL == 0 {
		c.KeyCacheTTL = DefaultKeyCacheTTL
	}
	if c.Permissions == nil {
		c.Permissions = DefaultPermissions()
	}
	if c.BreakGlassLifetime == 0 {
		c.BreakGlassLifetime = DefaultBreakGlassLifetime
	}
	if c.MaxBreakGlassLifetime == 0 {
		c.MaxBreakGlassLifetime = DefaultMaxBreakGlassLifetime
	}
	if c.Password == (PasswordParams{}) {
		c.Password = DefaultPasswordParams
	}
	if c.LoginFailureLimit == 0 {
		c.LoginFailureLimit = DefaultLoginFailureLimit
	}
	if c.LoginIPFailureLimit == 0 {
		c.LoginIPFailureLimit = DefaultLoginIPFailureLimit
	}
	if c.LoginLockout == 0 {
		c.LoginLockout = DefaultLoginLockout
	}
	if c.TOTPIssuer == "" {
		c.TOTPIssuer = "Nexus Health 360"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return c
}

// Validate returns an error naming the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("security config: Store is required")
	case c.Issuer == "":
		return errors.New("security config: Issuer is required, such as https://ehr.example")
	case !isAbsoluteURL(c.Issuer):
		return fmt.Errorf("security config: Issuer %q is not an absolute http or https URL", c.Issuer)
	case !isAbsoluteURL(c.Audience):
		return fmt.Errorf("security config: Audience %q is not an absolute http or https URL", c.Audience)
	case c.TokenLifetime < 0 || c.TokenLifetime > MaxTokenLifetime:
		return fmt.Errorf("security config: TokenLifetime %s must be between 0 and %s", c.TokenLifetime, MaxTokenLifetime)
	case c.Leeway < 0 || c.Leeway > time.Minute:
		return fmt.Errorf("security config: Leeway %s must be between 0 and 1m", c.Leeway)
	case c.CodeLifetime < 0 || c.CodeLifetime > 10*time.Minute:
		return fmt.Errorf("security config: CodeLifetime %s must be between 0 and 10m", c.CodeLifetime)
	case c.KeyCacheTTL < 0:
		return errors.New("security config: KeyCacheTTL must not be negative")
	case c.LoginFailureLimit < 0 || c.LoginIPFailureLimit < 0:
		return errors.New("security config: LoginFailureLimit and LoginIPFailureLimit must not be negative")
	case c.LoginLockout < 0 || c.LoginLockout > 24*time.Hour:
		return fmt.Errorf("security config: LoginLockout %s must be between 0 and 24h", c.LoginLockout)
	case c.BreakGlassLifetime < 0 || c.BreakGlassLifetime > c.MaxBreakGlassLifetime:
		return errors.New("security config: BreakGlassLifetime must be positive and at most MaxBreakGlassLifetime")
	}
	return nil
}

func isAbsoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// EventType names a security event.
type EventType string

// Event types.
const (
	EventLogin        EventType = "login"
	EventLoginFailed  EventType = "login-failed"
	EventTokenIssued  EventType = "token-issued"
	EventTokenDenied  EventType = "token-denied"
	EventBreakGlass   EventType = "break-the-glass"
	EventBreakGlassNo EventType = "break-the-glass-denied"
	// Account changes made by an administrator; Event.Target names the
	// user or client.
	EventUserDisabled   EventType = "user-disabled"
	EventUserEnabled    EventType = "user-enabled"
	EventClientDisabled EventType = "client-disabled"
	EventClientEnabled  EventType = "client-enabled"
)

// Event is one security event for the audit log. Subject and ClientID
// may name an unknown account, because failed attempts are recorded too.
type Event struct {
	Type     EventType
	Time     time.Time
	Subject  string
	ClientID string
	// Patient is set on break-the-glass events.
	Patient string
	// Reason is the stated reason of a break-the-glass grant or the
	// OAuth2 error code of a denial.
	Reason string
	// GrantID is the id of a break-the-glass grant.
	GrantID string
	// Target is the user name or client id of an account change.
	Target string
}

// Recorder receives security events. An implementation writes them to the
// audit log. Record errors make the operation fail, so that no sign-in or
// break-the-glass grant goes unrecorded.
type Recorder interface {
	RecordSecurityEvent(ctx context.Context, e Event) error
}

// RecorderFunc adapts a function to Recorder.
type RecorderFunc func(ctx context.Context, e Event) error

// RecordSecurityEvent calls f.
func (f RecorderFunc) RecordSecurityEvent(ctx context.Context, e Event) error { return f(ctx, e) }

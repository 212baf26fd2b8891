package security

import (
	"context"
	"time"
)

// User is a person who signs in with a password and, when TOTPSecret is
// set, a time-based one-time code.
type User struct {
	// Username is the sign-in name and the token subject.
	Username string
	// PasswordHash is an argon2id hash in PHC string form, as HashPassword
	// returns it.
	PasswordHash string
	Roles        []Role
	// TOTPSecret is the base32 TOTP secret, empty when TOTP is off.
	TOTPSecret string
	// FHIRUser is a reference such as "Practitioner/123", empty when none.
	FHIRUser string
	// Location is the id of the ward Location the user works on.
	Location  string
	Disabled  bool
	CreatedAt time.Time
}

// UserInfo is a user without its password hash and TOTP secret, as
// Store.Users lists it.
type UserInfo struct {
	Username string
	Roles    []Role
	FHIRUser string
	Location string
	// TOTP reports whether the user signs in with a one-time code.
	TOTP      bool
	Disabled  bool
	CreatedAt time.Time
}

// ClientKind is the OAuth2 grant a client uses at the token endpoint.
type ClientKind string

// Client kinds.
const (
	// ClientSystem authenticates with a private_key_jwt assertion and
	// gets client_credentials tokens.
	ClientSystem ClientKind = "system"
	// ClientApp is a public app using the authorization code flow with
	// PKCE on behalf of a user.
	ClientApp ClientKind = "app"
)

// Client is a registered OAuth2 client.
type Client struct {
	ID   string
	Kind ClientKind
	Name string
	// JWKS is the JSON Web Key Set with the public keys of a system
	// client's assertions.
	JWKS string
	// RedirectURIs are the exact redirect URIs an app may use.
	RedirectURIs []string
	// Scopes is the space-separated ceiling of scopes the client may be
	// granted.
	Scopes string
	// Roles are a system client's roles. For an app the roles are the
	// signed-in user's.
	Roles     []Role
	Disabled  bool
	CreatedAt time.Time
}

// SigningKey is one token signing key. Rotation retires the active key:
// a retired key signs nothing but stays in the JWKS until the tokens it
// signed have expired.
type SigningKey struct {
	ID        string
	Algorithm string
	// PrivateKey is the PKCS #8 PEM encoding of the private key.
	PrivateKey string
	CreatedAt  time.Time
	// RetiredAt is zero while the key is the active one.
	RetiredAt time.Time
}

// AuthCode is an authorization code waiting to be exchanged.
type AuthCode struct {
	// CodeHash is the hex SHA-256 of the code; the code itself is never
	// stored.
	CodeHash    string
	ClientID    string
	RedirectURI string
	Scope       string
	Username    string
	// Challenge is the PKCE S256 code challenge.
	Challenge string
	Patient   string
	ExpiresAt time.Time
}

// Grant is a break-the-glass access: a user reaches one patient outside
// their care relations for a limited time, for a stated reason.
type Grant struct {
	ID      string
	Subject string
	// ClientID is the app the grant was made through. It applies only to
	// the tokens of Subject issued to that client.
	ClientID  string
	Patient   string
	Reason    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Store keeps the security data: users, clients, signing keys, used jti
// values, authorization codes and break-the-glass grants. Package
// security/sqlstore implements it on SQLite and PostgreSQL and
// security/securitytest is its conformance suite.
type Store interface {
	// CreateUser stores a new user; ErrConflict when the name is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns the user named username or ErrNotFound.
	User(ctx context.Context, username string) (User, error)
	// UseTOTPStep records that a sign-in of username accepted the TOTP
	// code of time step step. It returns ErrReplay when a step at or after
	// step was recorded already, so of many concurrent sign-ins with one
	// code exactly one succeeds, and ErrNotFound for an unknown user.
	UseTOTPStep(ctx context.Context, username string, step int64) error
	// SetUserDisabled disables or enables the user named username;
	// ErrNotFound for an unknown user.
	SetUserDisabled(ctx context.Context, username string, disabled bool) error
	// Users returns every user without credentials, ordered by username.
	Users(ctx context.Context) ([]UserInfo, error)
	// CreateClient stores a new client; ErrConflict when the id is taken.
	CreateClient(ctx context.Context, c Client) error
	// Client returns the client or ErrNotFound.
	Client(ctx context.Context, id string) (Client, error)
	// SetClientDisabled disables or enables a client; ErrNotFound for an
	// unknown id.
	SetClientDisabled(ctx context.Context, id string, disabled bool) error
	// Clients returns every client, ordered by id.
	Clients(ctx context.Context) ([]Client, error)
	// RotateSigningKey retires every active key at key.CreatedAt and
	// stores key as the active one, in one transaction.
	RotateSigningKey(ctx context.Context, key SigningKey) error
	// SigningKeys returns the active key first, then every key retired at
	// or after since, newest first.
	SigningKeys(ctx context.Context, since time.Time) ([]SigningKey, error)
	// UseJTI records that issuer used jti, kept until expiresAt. It
	// returns ErrReplay when the pair was already recorded, so of many
	// concurrent uses exactly one succeeds. Rows expired before now are
	// deleted along the way.
	UseJTI(ctx context.Context, issuer, jti string, expiresAt, now time.Time) error
	// SaveAuthCode stores an authorization code.
	SaveAuthCode(ctx context.Context, c AuthCode) error
	// TakeAuthCode deletes and returns the code with that hash, or
	// ErrNotFound when it is missing, already taken or expired at now.
	TakeAuthCode(ctx context.Context, codeHash string, now time.Time) (AuthCode, error)
	// SaveGrant stores a break-the-glass grant.
	SaveGrant(ctx context.Context, g Grant) error
	// ActiveGrants returns the grants of subject, through every client,
	// that have not expired at now, oldest first.
	ActiveGrants(ctx context.Context, subject string, now time.Time) ([]Grant, error)
}

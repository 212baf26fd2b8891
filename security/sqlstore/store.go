// Package sqlstore is the security.Store on SQLite and PostgreSQL. One
// implementation serves both dialects and picks one at run time from the
// storage.DB it is given. Every table name starts with "security_", so
// the schema can share a database with the domains.
//
// Replay protection: UseJTI inserts the (issuer, jti) pair under its
// primary key, so when several nexusd processes share one PostgreSQL
// database and race on one jti, the database lets exactly one insert
// through and the others fail with a unique violation, reported as
// security.ErrReplay.
//
// Concurrency: a Store is safe for concurrent use.
//
// Encryption at rest: when the storage.DB has a Cipher, signing key PEMs
// and TOTP secrets are sealed with associated data that names the table
// and the row (key id or username), so a sealed value moved to another
// row fails to open. Plaintext rows written without a cipher stay
// readable and RewrapBatch seals them. A sealed value read without a
// Cipher, or under another master key, is an error and never returned.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the security schema migrations.
func Migrations() storage.Migrations {
	return storage.EmbeddedMigrations("security", migrationFiles, "migrations")
}

// Store is the SQL security.Store.
type Store struct {
	db *storage.DB
}

var (
	_ security.Store    = (*Store)(nil)
	_ storage.Rewrapper = (*Store)(nil)
)

// New returns a Store on db. The schema must be migrated.
func New(db *storage.DB) *Store {
	return &Store{db: db}
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

func joinRoles(roles []security.Role) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = string(r)
	}
	return strings.Join(parts, " ")
}

// splitList returns nil for an empty list, as the caller stored it.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

func splitRoles(s string) []security.Role {
	var out []security.Role
	for _, f := range strings.Fields(s) {
		out = append(out, security.Role(f))
	}
	return out
}

// classify maps a driver error of operation op to a sentinel error.
func classify(op string, err error) error {
	switch kind, label := storage.Classify(err); kind {
	case storage.ErrorUnique:
		return fmt.Errorf("%s: %s: %w", op, label, security.ErrConflict)
	case storage.ErrorCheck:
		return fmt.Errorf("%s: %s: %w", op, label, security.ErrInvalid)
	case storage.ErrorEncoding:
		return fmt.Errorf("%s: text is not valid UTF-8: %w", op, security.ErrInvalid)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// CreateUser stores a new user, sealing the TOTP secret when the DB has
// a Cipher.
func (s *Store) CreateUser(ctx context.Context, u security.User) error {
	secret, err := s.seal("create user "+u.Username, u.TOTPSecret, totpSecretAAD(u.Username))
	if err != nil {
		return err
	}
	_, err = s.db.Writer.ExecContext(ctx, s.db.Rebind(`INSERT INTO security_users
		(username, password_hash, roles, totp_secret, fhir_user, location, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		u.Username, u.PasswordHash, joinRoles(u.Roles), secret, u.FHIRUser, u.Location,
		u.Disabled, micros(u.CreatedAt))
	if err != nil {
		return classify("create user "+u.Username, err)
	}
	return nil
}

type userRow struct {
	Username     string `db:"username"`
	PasswordHash string `db:"password_hash"`
	Roles        string `db:"roles"`
	TOTPSecret   []byte `db:"totp_secret"`
	FHIRUser     string `db:"fhir_user"`
	Location     string `db:"location"`
	Disabled     bool   `db:"disabled"`
	CreatedAt    int64  `db:"created_at"`
}

// User returns the user named username.
func (s *Store) User(ctx context.Context, username string) (security.User, error) {
	var row userRow
	err := s.db.Reader.GetContext(ctx, &row, s.db.Rebind(`SELECT username, password_hash, roles,
		totp_secret, fhir_user, location, disabled, created_at FROM security_users WHERE username = ?`), username)
	if errors.Is(err, sql.ErrNoRows) {
		return security.User{}, fmt.Errorf("read user %s: %w", username, security.ErrNotFound)
	}
	if err != nil {
		return security.User{}, classify("read user "+username, err)
	}
	secret, err := s.open("read user "+username, row.TOTPSecret, totpSecretAAD(row.Username))
	if err != nil {
		return security.User{}, err
	}
	return security.User{
		Username: row.Username, PasswordHash: row.PasswordHash, Roles: splitRoles(row.Roles),
		TOTPSecret: secret, FHIRUser: row.FHIRUser, Location: row.Location,
		Disabled: row.Disabled, CreatedAt: fromMicros(row.CreatedAt),
	}, nil
}

// CreateClient stores a new client.
func (s *Store) CreateClient(ctx context.Context, c security.Client) error {
	_, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(`INSERT INTO security_clients
		(id, kind, name, jwks, redirect_uris, scopes, roles, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, string(c.Kind), c.Name, c.JWKS, strings.Join(c.RedirectURIs, " "), c.Scopes,
		joinRoles(c.Roles), c.Disabled, micros(c.CreatedAt))
	if err != nil {
		return classify("create client "+c.ID, err)
	}
	return nil
}

type clientRow struct {
	ID           string `db:"id"`
	Kind         string `db:"kind"`
	Name         string `db:"name"`
	JWKS         string `db:"jwks"`
	RedirectURIs string `db:"redirect_uris"`
	Scopes       string `db:"scopes"`
	Roles        string `db:"roles"`
	Disabled     bool   `db:"disabled"`
	CreatedAt    int64  `db:"created_at"`
}

// Client returns the client with that id.
func (s *Store) Client(ctx context.Context, id string) (security.Client, error) {
	var row clientRow
	err := s.db.Reader.GetContext(ctx, &row, s.db.Rebind(`SELECT id, kind, name, jwks, redirect_uris,
		scopes, roles, disabled, created_at FROM security_clients WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return security.Client{}, fmt.Errorf("read client %s: %w", id, security.ErrNotFound)
	}
	if err != nil {
		return security.Client{}, classify("read client "+id, err)
	}
	return security.Client{
		ID: row.ID, Kind: security.ClientKind(row.Kind), Name: row.Name, JWKS: row.JWKS,
		RedirectURIs: splitList(row.RedirectURIs), Scopes: row.Scopes, Roles: splitRoles(row.Roles),
		Disabled: row.Disabled, CreatedAt: fromMicros(row.CreatedAt),
	}, nil
}

// UseTOTPStep raises the user's last accepted TOTP step to step. The
// conditional UPDATE is atomic on both dialects: of concurrent calls with
// one step, the database lets one row update through and the others find
// the predicate false.
func (s *Store) UseTOTPStep(ctx context.Context, username string, step int64) error {
	op := "use totp step of " + username
	res, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(`UPDATE security_users SET totp_last_step = ?
		WHERE username = ? AND totp_last_step < ?`), step, username, step)
	if err != nil {
		return classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if n == 1 {
		return nil
	}
	var exists int
	err = s.db.Writer.GetContext(ctx, &exists, s.db.Rebind(`SELECT COUNT(*) FROM security_users WHERE username = ?`), username)
	if err != nil {
		return classify(op, err)
	}
	if exists == 0 {
		return fmt.Errorf("%s: %w", op, security.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, security.ErrReplay)
}

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/security"
)

// SaveAuthCode stores an authorization code.
func (s *Store) SaveAuthCode(ctx context.Context, c security.AuthCode) error {
	_, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(`INSERT INTO security_auth_codes
		(code_hash, client_id, redirect_uri, scope, username, challenge, patient, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		c.CodeHash, c.ClientID, c.RedirectURI, c.Scope, c.Username, c.Challenge, c.Patient, micros(c.ExpiresAt))
	if err != nil {
		return classify("save authorization code of client "+c.ClientID, err)
	}
	return nil
}

type codeRow struct {
	CodeHash    string `db:"code_hash"`
	ClientID    string `db:"client_id"`
	RedirectURI string `db:"redirect_uri"`
	Scope       string `db:"scope"`
	Username    string `db:"username"`
	Challenge   string `db:"challenge"`
	Patient     string `db:"patient"`
	ExpiresAt   int64  `db:"expires_at"`
}

// TakeAuthCode deletes the code and returns it when it had not expired.
// The DELETE ... RETURNING makes two concurrent exchanges of one code
// return it at most once.
func (s *Store) TakeAuthCode(ctx context.Context, codeHash string, now time.Time) (security.AuthCode, error) {
	var row codeRow
	err := s.db.Writer.GetContext(ctx, &row, s.db.Rebind(`DELETE FROM security_auth_codes WHERE code_hash = ?
		RETURNING code_hash, client_id, redirect_uri, scope, username, challenge, patient, expires_at`), codeHash)
	if errors.Is(err, sql.ErrNoRows) {
		return security.AuthCode{}, fmt.Errorf("take authorization code: %w", security.ErrNotFound)
	}
	if err != nil {
		return security.AuthCode{}, classify("take authorization code", err)
	}
	if row.ExpiresAt < micros(now) {
		return security.AuthCode{}, fmt.Errorf("take authorization code: expired: %w", security.ErrNotFound)
	}
	return security.AuthCode{CodeHash: row.CodeHash, ClientID: row.ClientID, RedirectURI: row.RedirectURI,
		Scope: row.Scope, Username: row.Username, Challenge: row.Challenge, Patient: row.Patient,
		ExpiresAt: fromMicros(row.ExpiresAt)}, nil
}

// SaveGrant stores a break-the-glass grant.
func (s *Store) SaveGrant(ctx context.Context, g security.Grant) error {
	_, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(`INSERT INTO security_grants
		(id, subject, client_id, patient, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		g.ID, g.Subject, g.ClientID, g.Patient, g.Reason, micros(g.CreatedAt), micros(g.ExpiresAt))
	if err != nil {
		return classify("save break-the-glass grant "+g.ID, err)
	}
	return nil
}

type grantRow struct {
	ID        string `db:"id"`
	Subject   string `db:"subject"`
	ClientID  string `db:"client_id"`
	Patient   string `db:"patient"`
	Reason    string `db:"reason"`
	CreatedAt int64  `db:"created_at"`
	ExpiresAt int64  `db:"expires_at"`
}

// ActiveGrants returns the unexpired grants of subject, oldest first.
func (s *Store) ActiveGrants(ctx context.Context, subject string, now time.Time) ([]security.Grant, error) {
	var rows []grantRow
	err := s.db.Reader.SelectContext(ctx, &rows, s.db.Rebind(`SELECT id, subject, client_id, patient, reason,
		created_at, expires_at FROM security_grants WHERE subject = ? AND expires_at > ?
		ORDER BY created_at, id`), subject, micros(now))
	if err != nil {
		return nil, classify("list break-the-glass grants of "+subject, err)
	}
	out := make([]security.Grant, len(rows))
	for i, r := range rows {
		out[i] = security.Grant{ID: r.ID, Subject: r.Subject, ClientID: r.ClientID, Patient: r.Patient, Reason: r.Reason,
			CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt)}
	}
	return out, nil
}

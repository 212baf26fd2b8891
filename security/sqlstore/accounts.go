package sqlstore

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/security"
)

// setDisabled sets the disabled flag of the row of table whose key
// column is value, and returns ErrNotFound when there is none.
func (s *Store) setDisabled(ctx context.Context, op, table, key, value string, disabled bool) error {
	res, err := s.db.Writer.ExecContext(ctx, s.db.Rebind(`UPDATE `+table+` SET disabled = ? WHERE `+key+` = ?`),
		disabled, value)
	if err != nil {
		return classify(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return classify(op, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", op, security.ErrNotFound)
	}
	return nil
}

// SetUserDisabled disables or enables a user.
func (s *Store) SetUserDisabled(ctx context.Context, username string, disabled bool) error {
	return s.setDisabled(ctx, "set disabled of user "+username, "security_users", "username", username, disabled)
}

// SetClientDisabled disables or enables a client.
func (s *Store) SetClientDisabled(ctx context.Context, id string, disabled bool) error {
	return s.setDisabled(ctx, "set disabled of client "+id, "security_clients", "id", id, disabled)
}

type userInfoRow struct {
	Username  string `db:"username"`
	Roles     string `db:"roles"`
	HasTOTP   bool   `db:"has_totp"`
	FHIRUser  string `db:"fhir_user"`
	Location  string `db:"location"`
	Disabled  bool   `db:"disabled"`
	CreatedAt int64  `db:"created_at"`
}

// Users returns every user, without reading password hashes or TOTP
// secrets, so no sealed secret is opened.
func (s *Store) Users(ctx context.Context) ([]security.UserInfo, error) {
	var rows []userInfoRow
	err := s.db.Reader.SelectContext(ctx, &rows, `SELECT username, roles,
		CASE WHEN LENGTH(totp_secret) > 0 THEN 1 ELSE 0 END AS has_totp,
		fhir_user, location, disabled, created_at FROM security_users ORDER BY username`)
	if err != nil {
		return nil, classify("list users", err)
	}
	out := make([]security.UserInfo, len(rows))
	for i, r := range rows {
		out[i] = security.UserInfo{Username: r.Username, Roles: splitRoles(r.Roles), FHIRUser: r.FHIRUser,
			Location: r.Location, TOTP: r.HasTOTP, Disabled: r.Disabled, CreatedAt: fromMicros(r.CreatedAt)}
	}
	return out, nil
}

// Clients returns every client.
func (s *Store) Clients(ctx context.Context) ([]security.Client, error) {
	var rows []clientRow
	err := s.db.Reader.SelectContext(ctx, &rows, `SELECT id, kind, name, jwks, redirect_uris,
		scopes, roles, disabled, created_at FROM security_clients ORDER BY id`)
	if err != nil {
		return nil, classify("list clients", err)
	}
	out := make([]security.Client, len(rows))
	for i, row := range rows {
		out[i] = security.Client{
			ID: row.ID, Kind: security.ClientKind(row.Kind), Name: row.Name, JWKS: row.JWKS,
			RedirectURIs: splitList(row.RedirectURIs), Scopes: row.Scopes, Roles: splitRoles(row.Roles),
			Disabled: row.Disabled, CreatedAt: fromMicros(row.CreatedAt),
		}
	}
	return out, nil
}

package security

import (
	"context"
	"slices"
)

// Kind is the kind of party a principal acts for.
type Kind string

// Principal kinds.
const (
	// KindUser is a person signed in through an app (authorization code
	// flow) or a local tool.
	KindUser Kind = "user"
	// KindSystem is a backend service authenticated with a client
	// assertion (SMART Backend Services).
	KindSystem Kind = "system"
)

// Principal is the authenticated caller of one request, read from a
// validated access token.
type Principal struct {
	// Subject is the user name for KindUser and the client id for
	// KindSystem.
	Subject  string
	ClientID string
	Kind     Kind
	Roles    []Role
	// Scopes are the granted scopes. Malformed ones were dropped when the
	// token was issued.
	Scopes []Scope
	// Launch are the granted scopes that name no resource, such as
	// launch/patient and ScopeBreakGlass.
	Launch []string
	// Patient is the launch patient id of an app started in a patient
	// context, empty otherwise.
	Patient string
	// FHIRUser is a reference such as "Practitioner/123" to the resource
	// that describes the user, empty when none is known.
	FHIRUser string
	// Location is the id of the Location (ward) the user works on, used by
	// CareRelations; empty when none is set.
	Location string
	// TokenID is the jti of the access token.
	TokenID string
}

// HasRole reports whether p holds role r.
func (p *Principal) HasRole(r Role) bool { return slices.Contains(p.Roles, r) }

// HasScope reports whether p was granted the non-resource scope name.
func (p *Principal) HasScope(name string) bool { return slices.Contains(p.Launch, name) }

type principalKey struct{}

// ContextWithPrincipal returns ctx carrying p.
func ContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil when the request was
// not authenticated.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

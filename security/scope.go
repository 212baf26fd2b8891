package security

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Interaction is one FHIR REST interaction class as SMART v2 scopes name
// them: create, read, update, delete and search.
type Interaction byte

// Interactions, by their SMART v2 scope letter. Read covers read, vread
// and instance history; Search covers type and system search and history;
// Update covers update and patch.
const (
	Create Interaction = 'c'
	Read   Interaction = 'r'
	Update Interaction = 'u'
	Delete Interaction = 'd'
	Search Interaction = 's'
)

// String returns the interaction's name.
func (i Interaction) String() string {
	switch i {
	case Create:
		return "create"
	case Read:
		return "read"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Search:
		return "search"
	}
	return fmt.Sprintf("interaction(%q)", byte(i))
}

// scopeLetters are the SMART v2 interaction letters in the order a scope
// must list them.
const scopeLetters = "cruds"

// Scope contexts.
const (
	ContextPatient = "patient"
	ContextUser    = "user"
	ContextSystem  = "system"
)

// Scope is one parsed SMART resource scope, such as
// "patient/Observation.rs" or "system/*.read".
type Scope struct {
	// Context is "patient", "user" or "system".
	Context string
	// Type is a resource type name or "*" for every type.
	Type string
	// Interactions lists the granted letters in the order "cruds".
	Interactions string
	// Query is the SMART v2 "?param=value" restriction, nil when absent.
	Query url.Values
}

// String returns the scope in SMART v2 syntax.
func (s Scope) String() string {
	out := s.Context + "/" + s.Type + "." + s.Interactions
	if len(s.Query) > 0 {
		out += "?" + s.Query.Encode()
	}
	return out
}

// Allows reports whether s grants interaction i on resource type typ.
func (s Scope) Allows(typ string, i Interaction) bool {
	return (s.Type == "*" || s.Type == typ) && strings.IndexByte(s.Interactions, byte(i)) >= 0
}

var (
	scopeTypePattern = regexp.MustCompile(`^(\*|[A-Z][A-Za-z]{1,63})$`)
	// launchScopes are the non-resource scopes that the token endpoint
	// accepts: those of SMART App Launch v2 and OpenID Connect, passed
	// through, and ScopeBreakGlass, granted only to a client whose
	// registration lists it.
	launchScopes = map[string]bool{
		"openid": true, "fhirUser": true, "launch": true, "launch/patient": true,
		"online_access": true, "offline_access": true, ScopeBreakGlass: true,
	}
)

// ParseScope parses one SMART resource scope in v1 syntax (".read",
// ".write", ".*") or v2 syntax (a non-empty subset of "cruds" in that
// order, optionally followed by "?param=value"). A v1 ".write" grants
// create, update and delete but no read. Any other form is an error
// wrapping ErrInvalid, and the scope grants nothing.
func ParseScope(raw string) (Scope, error) {
	invalid := fmt.Errorf("parse scope %q: want context/Type.cruds: %w", raw, ErrInvalid)
	if len(raw) > 512 {
		return Scope{}, fmt.Errorf("parse scope: longer than 512 bytes: %w", ErrInvalid)
	}
	context, rest, ok := strings.Cut(raw, "/")
	if !ok || (context != ContextPatient && context != ContextUser && context != ContextSystem) {
		return Scope{}, invalid
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	typ, perms, ok := strings.Cut(rest, ".")
	if !ok || !scopeTypePattern.MatchString(typ) {
		return Scope{}, invalid
	}
	s := Scope{Context: context, Type: typ}
	switch perms {
	case "read":
		s.Interactions = "rs"
	case "write":
		s.Interactions = "cud"
	case "*":
		s.Interactions = scopeLetters
	default:
		if !inScopeOrder(perms) {
			return Scope{}, invalid
		}
		s.Interactions = perms
	}
	if hasQuery {
		if s.Interactions != perms {
			return Scope{}, fmt.Errorf("parse scope %q: a query needs v2 letters: %w", raw, ErrInvalid)
		}
		values, err := url.ParseQuery(query)
		if err != nil || len(values) == 0 {
			return Scope{}, invalid
		}
		s.Query = values
	}
	return s, nil
}

// inScopeOrder reports whether perms is a non-empty subset of "cruds"
// in that order without repeats.
func inScopeOrder(perms string) bool {
	if perms == "" {
		return false
	}
	next := 0
	for i := 0; i < len(perms); i++ {
		at := strings.IndexByte(scopeLetters[next:], perms[i])
		if at < 0 {
			return false
		}
		next += at + 1
	}
	return true
}

// ParsedScopes is a space-separated scope string split into resource
// scopes, recognised launch scopes and rejected entries.
type ParsedScopes struct {
	Resource []Scope
	// Launch holds openid, fhirUser, launch, launch/patient,
	// online_access, offline_access and ScopeBreakGlass when requested.
	Launch []string
	// Rejected holds the entries that are neither, which grant nothing.
	Rejected []string
}

// ParseScopes splits a space-separated scope parameter.
func ParseScopes(raw string) ParsedScopes {
	var out ParsedScopes
	for _, field := range strings.Fields(raw) {
		if launchScopes[field] {
			out.Launch = append(out.Launch, field)
			continue
		}
		s, err := ParseScope(field)
		if err != nil {
			out.Rejected = append(out.Rejected, field)
			continue
		}
		out.Resource = append(out.Resource, s)
	}
	return out
}

// HasLaunch reports whether name was among the launch scopes.
func (p ParsedScopes) HasLaunch(name string) bool {
	for _, l := range p.Launch {
		if l == name {
			return true
		}
	}
	return false
}

// FormatScopes joins resource and launch scopes into a scope parameter.
func FormatScopes(resource []Scope, launch []string) string {
	parts := make([]string, 0, len(resource)+len(launch))
	for _, s := range resource {
		parts = append(parts, s.String())
	}
	parts = append(parts, launch...)
	return strings.Join(parts, " ")
}

// narrowScope returns the part of requested that ceiling grants: the same
// context and a type and letters both allow. ok is false when nothing is
// left.
func narrowScope(requested, ceiling Scope) (Scope, bool) {
	if requested.Context != ceiling.Context {
		return Scope{}, false
	}
	if ceiling.Type != "*" && ceiling.Type != requested.Type {
		return Scope{}, false
	}
	if len(ceiling.Query) > 0 && requested.Query.Encode() != ceiling.Query.Encode() {
		return Scope{}, false
	}
	var letters strings.Builder
	for i := 0; i < len(requested.Interactions); i++ {
		if strings.IndexByte(ceiling.Interactions, requested.Interactions[i]) >= 0 {
			letters.WriteByte(requested.Interactions[i])
		}
	}
	if letters.Len() == 0 {
		return Scope{}, false
	}
	requested.Interactions = letters.String()
	return requested, true
}

// NarrowScopes returns, for each requested scope, the part that some
// ceiling scope grants, dropping the rest. A client registered with
// "system/*.rs" that requests "system/Patient.cruds" gets
// "system/Patient.rs".
func NarrowScopes(requested, ceiling []Scope) []Scope {
	var out []Scope
	for _, r := range requested {
		var letters string
		var kept Scope
		for _, c := range ceiling {
			n, ok := narrowScope(r, c)
			if !ok {
				continue
			}
			kept = n
			for i := 0; i < len(n.Interactions); i++ {
				if strings.IndexByte(letters, n.Interactions[i]) < 0 {
					letters += string(n.Interactions[i])
				}
			}
		}
		if letters == "" {
			continue
		}
		kept.Interactions = orderLetters(letters)
		out = append(out, kept)
	}
	return out
}

func orderLetters(letters string) string {
	var b strings.Builder
	for i := 0; i < len(scopeLetters); i++ {
		if strings.IndexByte(letters, scopeLetters[i]) >= 0 {
			b.WriteByte(scopeLetters[i])
		}
	}
	return b.String()
}

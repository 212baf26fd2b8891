package security

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// CareRelations returns the ids of the patients a user cares for, such as
// the patients with an in-progress Encounter on the user's ward
// (p.Location) or with the user (p.FHIRUser) as an Encounter participant.
// cmd/nexusd implements it on the clinical record. Decisions under the
// context of a request that Middleware authenticated call it once per
// request and principal.
type CareRelations interface {
	PatientsOf(ctx context.Context, p *Principal) ([]string, error)
}

// CareRelationsFunc adapts a function to CareRelations.
type CareRelationsFunc func(ctx context.Context, p *Principal) ([]string, error)

// PatientsOf calls f.
func (f CareRelationsFunc) PatientsOf(ctx context.Context, p *Principal) ([]string, error) {
	return f(ctx, p)
}

// Request is one interaction to decide on.
type Request struct {
	// Type is the resource type.
	Type        string
	Interaction Interaction
}

// Decision is the outcome of Decide for an allowed request: which patient
// compartments the caller may see or write, and which resource types it
// may read.
type Decision struct {
	// AllPatients lifts the compartment restriction.
	AllPatients bool
	// Patients are the patient ids whose compartments may be seen and
	// written when AllPatients is false. Empty means none: only
	// resources outside every patient compartment are visible.
	Patients []string
	// ReadTypes, when non-nil, are the only resource types that may be
	// read, as the main result or through _include and _revinclude.
	ReadTypes []string
	// ReachTypes, when non-nil, are the only types whose read permission
	// reaches every patient in Patients (every patient with AllPatients).
	// Resources in a patient compartment of other types must stay hidden
	// under this Decision, because the caller reads them for fewer
	// patients. Types outside every patient compartment are not affected.
	ReachTypes []string
	// BreakGlass lists the grants that added patients to Patients. The
	// caller records each access made through them in the audit log.
	BreakGlass []Grant
}

// CanSeePatient reports whether d covers the compartment of patient id.
func (d Decision) CanSeePatient(id string) bool {
	return d.AllPatients || slices.Contains(d.Patients, id)
}

// typeSet is a set of resource types, or every type when all is set.
type typeSet struct {
	all   bool
	types map[string]bool
}

func (t *typeSet) add(types []string) {
	for _, typ := range types {
		if typ == "*" {
			t.all = true
			continue
		}
		if t.types == nil {
			t.types = map[string]bool{}
		}
		t.types[typ] = true
	}
}

// intersect returns nil for every type or the sorted common types.
func intersect(a, b typeSet) []string {
	if a.all && b.all {
		return nil
	}
	out := []string{}
	pick := func(from map[string]bool, other typeSet) {
		for typ := range from {
			if other.all || other.types[typ] {
				out = append(out, typ)
			}
		}
	}
	if a.all {
		pick(b.types, a)
	} else {
		pick(a.types, b)
	}
	slices.Sort(out)
	return out
}

// scopeApplies reports whether a scope of this context can be used by p:
// system/ scopes by system clients, patient/ and user/ scopes by users.
// Scopes with a "?param=value" restriction are never used.
func scopeApplies(p *Principal, s Scope) bool {
	// NOTE: SMART v2 scope queries are parsed but not enforced, so such a
	// scope grants nothing rather than more than it names.
	if len(s.Query) > 0 {
		return false
	}
	if p.Kind == KindSystem {
		return s.Context == ContextSystem
	}
	return s.Context == ContextPatient || s.Context == ContextUser
}

// Decide returns what p may do for req. It fails with ErrForbidden when
// neither a scope and a role together allow the interaction, and with
// ErrUnauthenticated when p is nil. The caller applies the Decision
// inside its queries and records the BreakGlass grants it used.
func (s *Service) Decide(ctx context.Context, p *Principal, req Request) (Decision, error) {
	if p == nil {
		return Decision{}, fmt.Errorf("decide %s %s: no principal: %w", req.Interaction, req.Type, ErrUnauthenticated)
	}
	denied := fmt.Errorf("decide %s %s for %s: %w", req.Interaction, req.Type, p.Subject, ErrForbidden)

	scopeContexts := map[string]bool{}
	var scopeTypes typeSet
	for _, sc := range p.Scopes {
		if !scopeApplies(p, sc) {
			continue
		}
		if sc.Allows(req.Type, req.Interaction) {
			scopeContexts[sc.Context] = true
		}
		if strings.ContainsRune(sc.Interactions, rune(Read)) {
			scopeTypes.add([]string{sc.Type})
		}
	}
	if len(scopeContexts) == 0 {
		return Decision{}, denied
	}

	var reach Reach
	var roleTypes typeSet
	for _, role := range p.Roles {
		for _, perm := range s.cfg.Permissions[role] {
			if perm.allows(req.Type, req.Interaction) {
				reach = max(reach, perm.Reach)
			}
			if strings.ContainsRune(perm.Interactions, rune(Read)) {
				roleTypes.add(perm.Types)
			}
		}
	}
	if reach == 0 {
		return Decision{}, denied
	}

	d := Decision{ReadTypes: intersect(scopeTypes, roleTypes)}
	if d.ReadTypes != nil && req.Interaction == Search && !slices.Contains(d.ReadTypes, req.Type) {
		d.ReadTypes = append(d.ReadTypes, req.Type)
		slices.Sort(d.ReadTypes)
	}
	if err := s.decideReach(ctx, p, reach, scopeContexts, &d); err != nil {
		return Decision{}, err
	}
	d.ReachTypes = s.reachTypes(p, reach, req, &d)
	return d, nil
}

// decideReach fills the compartment part of d.
func (s *Service) decideReach(ctx context.Context, p *Principal, reach Reach, contexts map[string]bool, d *Decision) error {
	var reachable []string
	switch reach {
	case ReachAll:
		d.AllPatients = true
	case ReachSelf:
		if self, ok := strings.CutPrefix(p.FHIRUser, "Patient/"); ok {
			reachable = []string{self}
		}
	case ReachCare:
		ids, err := s.careRelationsOf(ctx, p)
		if err != nil {
			return fmt.Errorf("decide for %s: read care relations: %w", p.Subject, err)
		}
		reachable = ids
		if p.Kind == KindUser {
			grants, err := s.activeGrantsOf(ctx, p)
			if err != nil {
				return err
			}
			for _, g := range grants {
				if !slices.Contains(reachable, g.Patient) {
					reachable = append(reachable, g.Patient)
					d.BreakGlass = append(d.BreakGlass, g)
				}
			}
		}
	}
	// A user/ scope (or system/) uses the role's reach; patient/ scopes
	// alone narrow it to the launch patient.
	if contexts[ContextUser] || contexts[ContextSystem] {
		d.Patients = reachable
		return nil
	}
	d.AllPatients = false
	d.BreakGlass = slices.DeleteFunc(d.BreakGlass, func(g Grant) bool { return g.Patient != p.Patient })
	if p.Patient != "" && (reach == ReachAll || slices.Contains(reachable, p.Patient)) {
		d.Patients = []string{p.Patient}
	} else {
		d.Patients = []string{}
	}
	return nil
}

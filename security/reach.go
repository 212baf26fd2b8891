package security

import (
	"slices"
	"strings"
)

// reachTypes returns the resource types whose read permissions reach every
// patient that d covers, or nil when a permission on every type does.
// main is the reach of the permission that allowed req.
//
// A Decision's patients apply to the whole query, including _include,
// _revinclude and _has. Without this list, a search on a type that a role
// reads for every patient (Practitioner, Organization) would reach every
// patient's clinical resources through those parameters, although the
// role reads them only for the patients it cares for.
func (s *Service) reachTypes(p *Principal, main Reach, req Request, d *Decision) []string {
	var covered typeSet
	for _, role := range p.Roles {
		for _, perm := range s.cfg.Permissions[role] {
			if strings.ContainsRune(perm.Interactions, rune(Read)) && reachCovers(perm.Reach, main, d) {
				covered.add(perm.Types)
			}
		}
	}
	if covered.all {
		return nil
	}
	out := make([]string, 0, len(covered.types)+1)
	for typ := range covered.types {
		out = append(out, typ)
	}
	// The requested type is covered by the permission that allowed it.
	if req.Type != "*" && !slices.Contains(out, req.Type) {
		out = append(out, req.Type)
	}
	slices.Sort(out)
	return out
}

// reachCovers reports whether a permission of reach r reaches every
// patient of d, whose patients come from a permission of reach main.
func reachCovers(r, main Reach, d *Decision) bool {
	switch {
	case r == ReachAll || r == main:
		return true
	case d.AllPatients:
		return false
	case len(d.Patients) == 0:
		// No patient is visible, so no reach is too narrow.
		return true
	}
	// NOTE: a narrower reach can still include every patient of d, such
	// as a care relation with the launch patient of an app. It is not
	// looked up, so its types stay hidden in that request.
	return false
}

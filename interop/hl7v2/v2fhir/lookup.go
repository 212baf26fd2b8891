package v2fhir

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/emr"
)

// maxSearchIdentifiers is the number of identifiers that one conditional
// search names. Each identifier is one condition, and emr.Service rejects
// a search of more than emr.MaxSearchConditions conditions as invalid.
const maxSearchIdentifiers = emr.MaxSearchConditions

// identifierSearches returns the searches that together match a resource
// holding any of ids: one per maxSearchIdentifiers ids, in the order of
// ids, so the first search names the first identifiers of the message.
func identifierSearches(ids []identifier) []string {
	var out []string
	for len(ids) > 0 {
		n := min(len(ids), maxSearchIdentifiers)
		out = append(out, identifierCriteria(ids[:n]))
		ids = ids[n:]
	}
	return out
}

// searchList returns all when it lists the searches of a resource with
// more identifiers than one search names, else first alone.
func searchList(first string, all []string) []string {
	if len(all) > 1 {
		return all
	}
	return []string{first}
}

// searches returns every conditional search that finds the entry's stored
// match, Criteria first.
func (e Entry) searches() []string { return searchList(e.Criteria, e.allCriteria) }

func (s MergeStep) sourceSearches() []string { return searchList(s.SourceCriteria, s.allSource) }

func (s MergeStep) targetSearches() []string { return searchList(s.TargetCriteria, s.allTarget) }

// findOneOf returns the one resource that matches any of searches, as
// findOne does for one search. When two searches find different
// resources, it fails as one search matching both would, so splitting the
// identifiers of a patient over several searches keeps the check that
// they name one stored patient.
func findOneOf(ctx context.Context, t Target, typ string, searches []string, follow bool) (*stored, error) {
	if len(searches) == 1 {
		return findOne(ctx, t, typ, searches[0], follow)
	}
	var found *stored
	matched := ""
	for _, criteria := range searches {
		m, err := findOne(ctx, t, typ, criteria, false)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		if found != nil && m.id != found.id {
			return nil, fmt.Errorf("criteria match more than one %s: %w", typ, emr.ErrPreconditionFailed)
		}
		found, matched = m, criteria
	}
	if found == nil || !follow {
		return found, nil
	}
	// The searches compare the resources that the identifiers name, as one
	// search would, and only then is a merged patient replaced by the
	// surviving one.
	return findOne(ctx, t, typ, matched, true)
}

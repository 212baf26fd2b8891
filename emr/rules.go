package emr

import (
	"fmt"
	"strings"
)

// checkRules enforces FHIR R4 rules of particular resource types that the
// structure validator does not check.
func checkRules(typ string, tree map[string]any) error {
	if typ == "Bundle" {
		return checkBundleRules(tree)
	}
	return nil
}

// uniqueRelations are the Bundle.link relations that may appear once.
var uniqueRelations = map[string]bool{"self": true, "first": true, "previous": true, "prev": true, "next": true, "last": true}

// checkBundleRules checks a stored Bundle: links that may appear once
// (the paging relations), absolute fullUrls that match their entry's type
// and id, and searchset entries that carry an id and, for outcome entries,
// an OperationOutcome.
func checkBundleRules(tree map[string]any) error {
	seen := map[string]bool{}
	links, _ := tree["link"].([]any)
	for i, l := range links {
		m, _ := l.(map[string]any)
		rel, _ := m["relation"].(string)
		if uniqueRelations[rel] {
			if seen[rel] {
				return invalid(fmt.Sprintf("Bundle.link[%d]", i), "invariant", "the link relation %s may appear only once", rel)
			}
			seen[rel] = true
		}
	}
	kind, _ := tree["type"].(string)
	entries, _ := tree["entry"].([]any)
	for i, raw := range entries {
		e, _ := raw.(map[string]any)
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		res, _ := e["resource"].(map[string]any)
		rt, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if fullURL, ok := e["fullUrl"].(string); ok {
			if err := checkFullURL(path, fullURL, rt, id); err != nil {
				return err
			}
		}
		if kind == "searchset" && res != nil {
			search, _ := e["search"].(map[string]any)
			mode, _ := search["mode"].(string)
			if mode == "outcome" && rt != "OperationOutcome" {
				return invalid(path+".resource", "invariant", "a searchset entry with search.mode outcome must be an OperationOutcome")
			}
			if mode != "outcome" && rt != "OperationOutcome" && id == "" {
				return invalid(path+".resource", "invariant", "search results must have ids")
			}
		}
	}
	return nil
}

// checkFullURL requires an absolute fullUrl, and one that looks like a
// RESTful URL (…/Type/id) to name the entry's own type and id.
func checkFullURL(path, fullURL, rt, id string) error {
	if strings.HasPrefix(fullURL, "urn:") {
		return nil
	}
	if !strings.Contains(fullURL, "://") {
		return invalid(path+".fullUrl", "invariant", "fullUrl must be an absolute URL")
	}
	parts := strings.Split(strings.TrimSuffix(fullURL, "/"), "/")
	if len(parts) >= 2 {
		typ, last := parts[len(parts)-2], parts[len(parts)-1]
		if len(parts) >= 4 && parts[len(parts)-2] == "_history" {
			typ, last = parts[len(parts)-4], parts[len(parts)-3]
		}
		if IsResourceType(typ) && rt != "" && (typ != rt || (id != "" && last != id)) {
			return invalid(path+".fullUrl", "invariant", "fullUrl looks like a RESTful URL, so it must end with the entry's type and id")
		}
	}
	return nil
}

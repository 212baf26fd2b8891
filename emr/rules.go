package emr

import (
	"fmt"
	"slices"
	"strings"
)

// checkRules enforces FHIR R4 rules of particular resource types that the
// structure validator does not check, on the resource and on every
// resource inside it (contained resources and bundle entries).
func checkRules(typ string, tree map[string]any) error {
	return checkRulesAt(typ, tree, typ, 0)
}

// maxNesting bounds how deep checkRules follows resources inside
// resources, which JSON nesting limits already keep small.
const maxNesting = 16

func checkRulesAt(typ string, tree map[string]any, path string, depth int) error {
	if depth > maxNesting {
		return nil
	}
	if typ == "Bundle" {
		if err := checkBundleRules(tree); err != nil {
			return prefixNested(err, path, typ)
		}
	}
	contained, _ := tree["contained"].([]any)
	for i, raw := range contained {
		if err := checkInner(raw, fmt.Sprintf("%s.contained[%d]", path, i), depth); err != nil {
			return err
		}
	}
	entries, _ := tree["entry"].([]any)
	for i, raw := range entries {
		if typ != "Bundle" {
			break
		}
		e, _ := raw.(map[string]any)
		if err := checkInner(e["resource"], fmt.Sprintf("%s.entry[%d].resource", path, i), depth); err != nil {
			return err
		}
	}
	return nil
}

func checkInner(raw any, path string, depth int) error {
	res, _ := raw.(map[string]any)
	rt, _ := res["resourceType"].(string)
	if res == nil || rt == "" {
		return nil
	}
	return checkRulesAt(rt, res, path, depth+1)
}

// prefixNested rewrites the issue paths of a nested resource's error,
// which start with its type, to start at path.
func prefixNested(err error, path, typ string) error {
	if path == typ {
		return err
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		return err
	}
	for i := range ve.Issues {
		ve.Issues[i].Path = path + strings.TrimPrefix(ve.Issues[i].Path, typ)
	}
	return ve
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
	if kind == "document" {
		if err := checkDocumentReferences(entries); err != nil {
			return err
		}
	}
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
			// In a transaction or batch the server assigns ids, and a
			// searchset's OperationOutcome is a message, not a stored
			// resource. Other resources need the id of their fullUrl.
			exempt := kind == "transaction" || kind == "batch" || kind == "searchset" && rt == "OperationOutcome"
			if res != nil && id == "" && !strings.HasPrefix(fullURL, "urn:") && !exempt {
				return invalid(path+".resource.id", "invariant", "a resource whose fullUrl is not a urn: must have an id that matches the fullUrl")
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

// checkDocumentReferences checks the references between the entries of a
// document Bundle. A versioned reference to an entry must name a version
// that the bundle carries. A reference may not match several entries,
// which happens when entries share a fullUrl with different versions.
// References that match no entry are left alone, because a document may
// refer to resources that it does not carry.
func checkDocumentReferences(entries []any) error {
	versions := map[string][]string{} // fullUrl -> meta.versionId of each entry
	for _, raw := range entries {
		e, _ := raw.(map[string]any)
		fullURL, _ := e["fullUrl"].(string)
		res, _ := e["resource"].(map[string]any)
		if fullURL == "" || res == nil {
			continue
		}
		meta, _ := res["meta"].(map[string]any)
		version, _ := meta["versionId"].(string)
		versions[fullURL] = append(versions[fullURL], version)
	}
	for i, raw := range entries {
		e, _ := raw.(map[string]any)
		fullURL, _ := e["fullUrl"].(string)
		var refs []map[string]any
		collectReferences(e["resource"], &refs)
		for _, ref := range refs {
			target, version := resolveInBundle(fullURL, ref["reference"].(string))
			found, ok := versions[target]
			if !ok {
				continue
			}
			path := fmt.Sprintf("Bundle.entry[%d].resource", i)
			if version != "" && !slices.Contains(found, version) {
				return invalid(path, "not-found", "a versioned reference names a version that the document does not contain")
			}
			if version == "" && len(found) > 1 {
				return invalid(path, "multiple-matches", "a reference matches %d entries of the document, so it must name a version", len(found))
			}
		}
	}
	return nil
}

// resolveInBundle turns a reference of an entry into the fullUrl it
// names, resolving Type/id against the entry's own base URL, and returns
// the version of a versioned reference.
func resolveInBundle(entryURL, ref string) (target, version string) {
	if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "urn:") {
		return ref, ""
	}
	if before, v, ok := strings.Cut(ref, "/_history/"); ok {
		ref, version = before, v
	}
	if strings.Contains(ref, "://") {
		return ref, version
	}
	parts := strings.Split(strings.TrimSuffix(entryURL, "/"), "/")
	if len(parts) < 2 {
		return ref, version
	}
	base := strings.Join(parts[:len(parts)-2], "/")
	return base + "/" + ref, version
}

package emr

import "fmt"

// Limits on the size of one resource, so that one write cannot hold the
// database writer for long. A write over a limit fails with ErrTooLarge,
// which the FHIR API returns as 413 with an OperationOutcome of code
// too-costly.
const (
	// MaxRepeatedElements is the maximum number of items of one repeating
	// element, such as Patient.identifier or one Group.member list.
	MaxRepeatedElements = 10000
	// MaxIndexEntries is the maximum number of search index entries that
	// one resource gives (one per identifier, per coding, per name part
	// and so on).
	MaxIndexEntries = 20000
	// MaxPatchOperations is the maximum number of operations of one
	// FHIRPath Patch. Each operation evaluates its path on the whole
	// resource, so the cost grows with operations times resource size.
	MaxPatchOperations = 1000
)

// checkRepeats returns an error wrapping ErrTooLarge when an array in tree,
// a resource of type rt, has more than MaxRepeatedElements items. The error
// names the element path without its values.
func checkRepeats(rt string, tree map[string]any) error {
	if maxArrayLen(tree) <= MaxRepeatedElements {
		return nil
	}
	path, n := arrayOver(tree, rt, MaxRepeatedElements)
	return fmt.Errorf("%s has %d items, the maximum is %d: %w", path, n, MaxRepeatedElements, ErrTooLarge)
}

// maxArrayLen returns the length of the longest array under v.
func maxArrayLen(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for _, child := range v {
			n = max(n, maxArrayLen(child))
		}
	case []any:
		n = len(v)
		for _, item := range v {
			n = max(n, maxArrayLen(item))
		}
	}
	return n
}

// arrayOver returns the path and length of an array under v, at path, with
// more than limit items, or "" and 0.
func arrayOver(v any, path string, limit int) (string, int) {
	switch v := v.(type) {
	case map[string]any:
		for key, child := range v {
			if p, n := arrayOver(child, path+"."+key, limit); n > 0 {
				return p, n
			}
		}
	case []any:
		if len(v) > limit {
			return path, len(v)
		}
		for _, item := range v {
			if p, n := arrayOver(item, path, limit); n > 0 {
				return p, n
			}
		}
	}
	return "", 0
}

// checkIndexSize returns an error wrapping ErrTooLarge when a resource
// gives more than MaxIndexEntries index entries.
func checkIndexSize(rt string, entries int) error {
	if entries > MaxIndexEntries {
		return fmt.Errorf("%s gives %d search index entries, the maximum is %d: %w", rt, entries, MaxIndexEntries, ErrTooLarge)
	}
	return nil
}

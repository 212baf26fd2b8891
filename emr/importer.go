package emr

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// ImportResult counts what an import did, per resource type.
type ImportResult struct {
	Created   map[string]int
	Updated   map[string]int
	Unchanged map[string]int
	// Unresolved counts urn:uuid: and urn:oid: references that named no
	// entry of their bundle and were kept as written.
	Unresolved int
}

func newImportResult() *ImportResult {
	return &ImportResult{Created: map[string]int{}, Updated: map[string]int{}, Unchanged: map[string]int{}}
}

// Add adds the counts of o to r.
func (r *ImportResult) Add(o *ImportResult) {
	for k, v := range o.Created {
		r.Created[k] += v
	}
	for k, v := range o.Updated {
		r.Updated[k] += v
	}
	for k, v := range o.Unchanged {
		r.Unchanged[k] += v
	}
	r.Unresolved += o.Unresolved
}

// EntryError locates a failure at one entry of an imported bundle or line
// of an NDJSON file. Index counts from 0.
type EntryError struct {
	Index int
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %d: %v", e.Index, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

type importEntry struct {
	fullURL string
	tree    map[string]any
}

// ImportBundle stores every resource of a FHIR Bundle of any type
// (transaction, batch, collection and others) in one transaction, or a
// single resource when data is not a Bundle. A resource that carries an id
// is stored under that id: created when new, updated when its content
// differs from every stored version, left alone otherwise, so importing
// the same files again writes nothing. A resource without an id gets a new
// one. References to an entry's fullUrl (urn:uuid: or an absolute URL) are
// rewritten to Type/id. When any entry is invalid nothing of the bundle is
// stored and the error is an *EntryError.
func (s *Service) ImportBundle(ctx context.Context, data []byte) (*ImportResult, error) {
	tree, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	if tree["resourceType"] != "Bundle" {
		return s.importEntries(ctx, []importEntry{{tree: tree}})
	}
	rawEntries, _ := tree["entry"].([]any)
	if len(rawEntries) > s.cfg.MaxBundleEntries {
		return nil, fmt.Errorf("import: bundle has %d entries, the maximum is %d: %w", len(rawEntries), s.cfg.MaxBundleEntries, ErrTooLarge)
	}
	entries := make([]importEntry, 0, len(rawEntries))
	for i, raw := range rawEntries {
		path := fmt.Sprintf("Bundle.entry[%d]", i)
		entry, ok := raw.(map[string]any)
		if !ok {
			return nil, &EntryError{Index: i, Err: invalid(path, "structure", "entry must be an object")}
		}
		res, ok := entry["resource"].(map[string]any)
		if !ok {
			return nil, &EntryError{Index: i, Err: invalid(path, "required", "entry has no resource to import")}
		}
		fullURL, _ := entry["fullUrl"].(string)
		entries = append(entries, importEntry{fullURL: fullURL, tree: res})
	}
	return s.importEntries(ctx, entries)
}

// ImportResources stores resources given one JSON object each, as from the
// lines of an NDJSON file, in one transaction with the rules of
// ImportBundle.
func (s *Service) ImportResources(ctx context.Context, bodies [][]byte) (*ImportResult, error) {
	if len(bodies) > s.cfg.MaxBundleEntries {
		return nil, fmt.Errorf("import: %d resources in one call, the maximum is %d: %w", len(bodies), s.cfg.MaxBundleEntries, ErrTooLarge)
	}
	entries := make([]importEntry, len(bodies))
	for i, b := range bodies {
		tree, err := decodeJSON(b)
		if err != nil {
			return nil, &EntryError{Index: i, Err: err}
		}
		entries[i] = importEntry{tree: tree}
	}
	return s.importEntries(ctx, entries)
}

func (s *Service) importEntries(ctx context.Context, entries []importEntry) (*ImportResult, error) {
	result := newImportResult()
	ids := make([]string, len(entries))
	mapping := map[string]string{}
	for i, e := range entries {
		rt, _ := e.tree["resourceType"].(string)
		id, _ := e.tree["id"].(string)
		if id == "" {
			id = s.cfg.NewID()
		}
		ids[i] = id
		if e.fullURL != "" && rt != "" {
			mapping[e.fullURL] = rt + "/" + id
		}
	}
	preps := make([]*prepared, len(entries))
	errs := make([]error, len(entries))
	var unresolved []string
	for _, e := range entries {
		rewriteReferences(e.tree, mapping, &unresolved)
	}
	result.Unresolved = len(unresolved)

	// Validation and indexing dominate the cost, so they run on every core.
	workers := min(runtime.GOMAXPROCS(0), len(entries))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				preps[i], errs[i] = s.prepare("", ids[i], entries[i].tree)
			}
		}()
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, &EntryError{Index: i, Err: err}
		}
	}

	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		attempt := newImportResult()
		attempt.Unresolved = result.Unresolved
		for i, p := range preps {
			_, outcome, err := s.write(ctx, tx, p, writeMode{skipKnown: true})
			if err != nil {
				var r retryable
				if errors.As(err, &r) {
					return err
				}
				return &EntryError{Index: i, Err: err}
			}
			switch outcome {
			case Created:
				attempt.Created[p.typ]++
			case Updated:
				attempt.Updated[p.typ]++
			default:
				attempt.Unchanged[p.typ]++
			}
		}
		result = attempt
		return nil
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

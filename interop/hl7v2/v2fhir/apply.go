package v2fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
)

// Target is the part of the clinical record that Apply writes to.
// *emr.Service implements it.
type Target interface {
	ProcessBundle(ctx context.Context, body []byte) (*emr.BundleResponse, error)
	Merge(ctx context.Context, p emr.MergeParams) error
	// ConditionalMatches finds the stored match of an entry. Inside a
	// write batch it also spares the transaction's conditional create the
	// same search.
	ConditionalMatches(ctx context.Context, typ, criteria string) ([]emr.Resource, error)
}

// ResourceResult is the outcome of Apply for one resource of the plan.
type ResourceResult struct {
	Type    string
	ID      string
	Version int64
	// Outcome is emr.Created, emr.Updated or emr.Unchanged.
	Outcome emr.Outcome
	// Late marks a result older than the stored version, which stays
	// current. The message's version is in a Provenance (see Apply).
	Late bool
}

// Result is the outcome of Apply.
type Result struct {
	Created   int
	Updated   int
	Unchanged int
	// Late counts the results that were older than their stored version,
	// which Apply kept in a Provenance without making them current.
	Late int
	// Resources lists every entry of the plan in order, with its id.
	Resources []ResourceResult
	// Merged lists the A40 merges that were run, by patient id.
	Merged []emr.MergeParams
}

// maxApplyAttempts bounds how often Apply starts again when a concurrent
// writer changed a resource between its read and its transaction.
const maxApplyAttempts = 3

// Apply writes a plan to the clinical record. It finds the stored match of
// every entry by its criteria, merges ModeUpdate entries into it, and sends
// the entries that change something in one atomic transaction
// (ProcessBundle). Entries whose merged content equals the stored version
// are left out, so a message sent again makes no new versions. The A40
// merges run after the transaction, each in a transaction of its own.
// Before anything is written, Apply checks that MRG-1 and PID-3 of each
// merge name two different stored patients, so an A40 never creates its
// surviving patient or merges a patient into itself.
//
// Merging keeps every stored element the message does not send, replaces
// those it sends, and deletes those it nulls (Entry.Clear). A sent type of
// a choice element (deceasedBoolean) drops the stored other types
// (deceasedDateTime). An Observation or DiagnosticReport is replaced
// instead: every element that the OBX or OBR maps comes from the message
// and is removed when the message leaves it empty. Identifiers
// and DiagnosticReport.result are merged as sets, Encounter.period member
// by member, and Encounter.location by the event: the sent location
// becomes the active one, and earlier ones are kept as completed, their
// periods ending at the event. A12 drops the location it cancels and
// reopens the one before, A03 completes all, A11 completes all and adds
// none, and A08 leaves the status of the current location as it was.
//
// A stored patient that was merged into another one (a replaced-by link)
// is replaced by the surviving patient, which takes the message's data
// except the identifiers that the merged patient keeps.
//
// An Observation or DiagnosticReport older than its stored version (see
// the package doc, Order of results) is not merged. It is kept in a
// Provenance written in the same transaction, and counted in Result.Late.
func Apply(ctx context.Context, t Target, plan *Plan) (*Result, error) {
	var err error
	for attempt := 0; attempt < maxApplyAttempts; attempt++ {
		var res *Result
		res, err = apply(ctx, t, plan)
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, emr.ErrVersionMismatch) {
			return nil, err
		}
	}
	return nil, err
}

// stored is the match of one plan entry.
type stored struct {
	id      string
	version int64
	tree    map[string]any
	// mergedFrom is the patient that the criteria matched when it was
	// merged into this one, nil otherwise.
	mergedFrom map[string]any
}

func apply(ctx context.Context, t Target, plan *Plan) (*Result, error) {
	tree, err := decodeTree(plan.Bundle)
	if err != nil {
		return nil, fmt.Errorf("apply: decode plan bundle: %w", err)
	}
	rawEntries, _ := tree["entry"].([]any)
	if len(rawEntries) != len(plan.Entries) {
		return nil, errors.New("apply: plan bundle and plan entries differ in length")
	}

	// A merge whose prior or surviving patient is unknown, or that names
	// one patient twice, fails the message before anything is written, so
	// a rejected A40 stores nothing. Without this check the bundle's
	// Patient entry would create the surviving patient from PID-3.
	for _, step := range plan.Merges {
		if _, _, err := findMergePair(ctx, t, step); err != nil {
			return nil, err
		}
	}

	matches := make([]*stored, len(plan.Entries))
	mapping := map[string]string{}
	for i, e := range plan.Entries {
		m, err := findOneOf(ctx, t, e.Type, e.searches(), true)
		if err != nil {
			return nil, located(fmt.Errorf("apply: entry %d (%s): %w", i, e.Type, err), e.from, e.Type)
		}
		matches[i] = m
		if m != nil {
			mapping[e.Reference()] = e.Type + "/" + m.id
		} else {
			mapping[e.Reference()] = e.FullURL
		}
	}

	result := &Result{Resources: make([]ResourceResult, len(plan.Entries))}
	var out []any
	var sent []int
	for i, e := range plan.Entries {
		raw, _ := rawEntries[i].(map[string]any)
		resource, _ := raw["resource"].(map[string]any)
		if resource == nil {
			return nil, fmt.Errorf("apply: entry %d (%s) has no resource", i, e.Type)
		}
		rewriteReferences(resource, mapping)
		m := matches[i]
		if err := checkSubject(e, m, resource, matches, plan); err != nil {
			return nil, err
		}
		switch {
		case m == nil:
			out = append(out, map[string]any{
				"fullUrl":  e.FullURL,
				"resource": resource,
				"request":  map[string]any{"method": "POST", "url": e.Type, "ifNoneExist": e.Criteria},
			})
			sent = append(sent, i)
			continue
		case e.Mode == ModeCreate:
			result.Resources[i] = ResourceResult{Type: e.Type, ID: m.id, Version: m.version, Outcome: emr.Unchanged}
			continue
		}
		if m.mergedFrom != nil {
			// The merged patient keeps its identifiers, which the
			// store allows one patient only, so the survivor takes the
			// message's other data without them.
			dropIdentifiersOf(resource, m.mergedFrom)
		}
		merged := mergeResource(m.tree, resource, e)
		if err := checkPeriods(e, m, resource, merged); err != nil {
			return nil, err
		}
		same, err := equalJSON(merged, m.tree)
		if err != nil {
			return nil, fmt.Errorf("apply: entry %d (%s): %w", i, e.Type, err)
		}
		if same {
			result.Resources[i] = ResourceResult{Type: e.Type, ID: m.id, Version: m.version, Outcome: emr.Unchanged}
			continue
		}
		if isResultType(e.Type) && orderOf(resource).olderThan(orderOf(m.tree)) {
			out = append(out, map[string]any{
				"resource": lateProvenance(e.Type, m, resource, plan.Received),
				"request":  map[string]any{"method": "POST", "url": "Provenance"},
			})
			sent = append(sent, -1)
			result.Resources[i] = ResourceResult{Type: e.Type, ID: m.id, Version: m.version, Outcome: emr.Unchanged, Late: true}
			result.Late++
			continue
		}
		out = append(out, map[string]any{
			"fullUrl":  e.FullURL,
			"resource": merged,
			"request": map[string]any{
				"method": "PUT", "url": e.Type + "/" + m.id,
				"ifMatch": `W/"` + strconv.FormatInt(m.version, 10) + `"`,
			},
		})
		sent = append(sent, i)
	}

	if len(out) > 0 {
		body, err := marshalJSON(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": out})
		if err != nil {
			return nil, fmt.Errorf("apply: encode transaction: %w", err)
		}
		resp, err := t.ProcessBundle(ctx, body)
		if err != nil {
			return nil, transactionError(err, plan, sent)
		}
		if len(resp.Entries) != len(sent) {
			return nil, errors.New("apply: transaction response has the wrong number of entries")
		}
		for j, i := range sent {
			if i < 0 {
				continue // the Provenance of a late result
			}
			r := resp.Entries[j]
			rr := ResourceResult{Type: plan.Entries[i].Type, Outcome: emr.Updated}
			if r.Resource != nil {
				rr.ID, rr.Version = r.Resource.ID, r.Resource.VersionID
			}
			switch {
			case r.Status == http.StatusCreated:
				rr.Outcome = emr.Created
			case matches[i] == nil:
				// A POST that matched: another writer created it first.
				rr.Outcome = emr.Unchanged
			}
			result.Resources[i] = rr
		}
	}
	for _, r := range result.Resources {
		switch r.Outcome {
		case emr.Created:
			result.Created++
		case emr.Updated:
			result.Updated++
		default:
			result.Unchanged++
		}
	}

	for _, step := range plan.Merges {
		merged, err := runMerge(ctx, t, plan, step)
		if err != nil {
			return nil, err
		}
		if merged != nil {
			result.Merged = append(result.Merged, *merged)
		}
	}
	return result, nil
}

// runMerge merges the source patient of an A40 into the target. A source
// already merged into the target is left alone, so a resent A40 changes
// nothing.
func runMerge(ctx context.Context, t Target, plan *Plan, step MergeStep) (*emr.MergeParams, error) {
	source, target, err := findMergePair(ctx, t, step)
	if err != nil {
		return nil, err
	}
	if replacedBy(source.tree) == "Patient/"+target.id {
		return nil, nil
	}
	p := emr.MergeParams{Source: source.id, Target: target.id, Reason: "HL7 v2 " + plan.Event + " message " + plan.Key.ControlID}
	if err := t.Merge(ctx, p); err != nil {
		return nil, located(fmt.Errorf("apply: merge Patient/%s into Patient/%s: %w", source.id, target.id, err),
			step.sourceAt(), "merge")
	}
	return &p, nil
}

// findMergePair returns the stored patients of an A40 merge: the source
// found by MRG-1 and the target found by PID-3. A patient that is not
// stored gives an *Error with code 204 at MRG-1 or PID-3. When MRG-1 names
// the patient of PID-3, the *Error has code 207 at MRG-1 (see the package
// doc).
func findMergePair(ctx context.Context, t Target, step MergeStep) (source, target *stored, err error) {
	source, err = findOneOf(ctx, t, "Patient", step.sourceSearches(), false)
	if err != nil {
		return nil, nil, located(fmt.Errorf("apply: merge source: %w", err), step.sourceAt(), "MRG-1 prior patient")
	}
	if source == nil {
		return nil, nil, &Error{Code: CodeUnknownKey, SegmentID: "MRG", Occurrence: step.Occurrence, Field: 1,
			Message: "no stored patient has the prior patient identifier"}
	}
	target, err = findOneOf(ctx, t, "Patient", step.targetSearches(), false)
	if err != nil {
		return nil, nil, located(fmt.Errorf("apply: merge target: %w", err), step.targetAt(), "PID-3 patient")
	}
	if target == nil {
		return nil, nil, located(fmt.Errorf("apply: merge target: no patient matches PID-3: %w", emr.ErrNotFound),
			step.targetAt(), "PID-3 patient")
	}
	if source.id == target.id {
		return nil, nil, &Error{Code: CodeInternal, SegmentID: "MRG", Occurrence: step.Occurrence, Field: 1,
			Message: "the prior patient is the same stored patient as PID-3, and a patient cannot be merged into itself",
			cause:   fmt.Errorf("apply: merge Patient/%s into itself: %w", source.id, emr.ErrInvalid)}
	}
	return source, target, nil
}

// located returns err as a located *Error when it is a fault of the
// message's content (see contentError), and err itself otherwise.
func located(err error, at source, subject string) error {
	if e := contentError(err, at, subject); e != nil {
		return e
	}
	return err
}

// transactionError locates an error of the transaction at the entry that
// failed. sent maps each transaction entry to its plan entry, -1 for the
// Provenance of a late result.
func transactionError(err error, plan *Plan, sent []int) error {
	wrapped := fmt.Errorf("apply: transaction: %w", err)
	var entryErr *emr.EntryError
	at, subject := source{segment: "MSH", occurrence: 1}, "transaction"
	if errors.As(err, &entryErr) && entryErr.Index >= 0 && entryErr.Index < len(sent) {
		if i := sent[entryErr.Index]; i >= 0 {
			at, subject = plan.Entries[i].from, plan.Entries[i].Type
		}
	}
	return located(wrapped, at, subject)
}

// findOne returns the one resource matching criteria, nil when none does,
// and an error wrapping emr.ErrPreconditionFailed when several do. With
// follow set, a patient merged into another gives the surviving one.
func findOne(ctx context.Context, t Target, typ, criteria string, follow bool) (*stored, error) {
	matches, err := t.ConditionalMatches(ctx, typ, criteria)
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("criteria match more than one %s: %w", typ, emr.ErrPreconditionFailed)
	}
	res := matches[0]
	tree, err := decodeTree(res.Body)
	if err != nil {
		return nil, fmt.Errorf("decode stored %s/%s: %w", typ, res.ID, err)
	}
	if ref := replacedBy(tree); follow && typ == "Patient" && strings.HasPrefix(ref, "Patient/") {
		survivor, err := findOne(ctx, t, typ, url.Values{"_id": {strings.TrimPrefix(ref, "Patient/")}}.Encode(), false)
		if survivor != nil {
			survivor.mergedFrom = tree
		}
		return survivor, err
	}
	return &stored{id: res.ID, version: res.VersionID, tree: tree}, nil
}

// checkSubject rejects a message whose entry e matches a stored resource
// of another patient, as when a visit number (PV1-19) or an order number
// (OBR-3) is reused for a second patient. Applying it would move the
// visit or the result to the patient of the message. The stored subject
// may be a patient that was merged into the message's patient, which is
// the same person.
func checkSubject(e Entry, m *stored, resource map[string]any, matches []*stored, plan *Plan) error {
	if m == nil {
		return nil
	}
	storedSubject := referenceOf(m.tree["subject"])
	sentSubject := referenceOf(resource["subject"])
	if storedSubject == "" || sentSubject == "" || storedSubject == sentSubject {
		return nil
	}
	for i, pe := range plan.Entries {
		p := matches[i]
		if pe.Type != "Patient" || p == nil || p.mergedFrom == nil {
			continue
		}
		if id, _ := p.mergedFrom["id"].(string); sentSubject == "Patient/"+p.id && storedSubject == "Patient/"+id {
			return nil
		}
	}
	err := fmt.Errorf("apply: %s/%s belongs to another patient: %w", e.Type, m.id, emr.ErrIdentifierInUse)
	return &Error{Code: CodeDuplicateKey, SegmentID: e.from.segment, Occurrence: e.from.occurrence,
		Field: e.from.field, Repetition: e.from.repetition,
		Message: e.Type + ": the identifier names a record of another patient", cause: err}
}

// referenceOf returns the reference string of a FHIR Reference, or "".
func referenceOf(value any) string {
	ref, _ := value.(map[string]any)
	s, _ := ref["reference"].(string)
	return s
}

// dropIdentifiersOf removes from resource the identifiers that patient
// holds, by system and value.
func dropIdentifiersOf(resource, patient map[string]any) {
	held := map[[2]any]bool{}
	heldList, _ := patient["identifier"].([]any)
	for _, item := range heldList {
		if id, ok := item.(map[string]any); ok {
			held[[2]any{id["system"], id["value"]}] = true
		}
	}
	sent, _ := resource["identifier"].([]any)
	kept := make([]any, 0, len(sent))
	for _, item := range sent {
		id, ok := item.(map[string]any)
		if ok && held[[2]any{id["system"], id["value"]}] {
			continue
		}
		kept = append(kept, item)
	}
	if len(kept) == 0 {
		delete(resource, "identifier")
		return
	}
	resource["identifier"] = kept
}

// replacedBy returns the reference of a patient's replaced-by link, or "".
func replacedBy(patient map[string]any) string {
	links, _ := patient["link"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		if m["type"] != "replaced-by" {
			continue
		}
		return referenceOf(m["other"])
	}
	return ""
}

// rewriteReferences replaces every Reference.reference found in mapping.
func rewriteReferences(v any, mapping map[string]string) {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			if s, ok := child.(string); ok && k == "reference" {
				if to, ok := mapping[s]; ok {
					n[k] = to
				}
				continue
			}
			rewriteReferences(child, mapping)
		}
	case []any:
		for _, child := range n {
			rewriteReferences(child, mapping)
		}
	}
}

// decodeTree decodes a JSON object keeping numbers as json.Number.
func decodeTree(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// equalJSON reports whether a and b encode to the same JSON.
func equalJSON(a, b any) (bool, error) {
	ja, err := marshalJSON(a)
	if err != nil {
		return false, err
	}
	jb, err := marshalJSON(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}

package emr

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/nexus-health-360/nexus/emr/match"
)

const defaultDuplicateThreshold = match.DefaultThreshold

// maxMatchCandidates bounds how many patients sharing a blocking key are
// scored at registration.
const maxMatchCandidates = 200

// minCandidateScore is the lowest score reported as a candidate.
const minCandidateScore = 0.5

// Candidate is an existing patient that may be the same person.
type Candidate struct {
	PatientID string
	// Score is the match probability from 0 to 1.
	Score float64
	// Fields lists how each compared field agreed.
	Fields []match.FieldMatch
}

// DuplicateError reports likely duplicates found at registration. It wraps
// ErrPossibleDuplicate.
type DuplicateError struct {
	Candidates []Candidate
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("registration: %d existing patients score at or above the duplicate threshold; give an override reason to register anyway", len(e.Candidates))
}

// Unwrap makes errors.Is(err, ErrPossibleDuplicate) hold.
func (e *DuplicateError) Unwrap() error { return ErrPossibleDuplicate }

// RegisterParams is the input of RegisterPatient.
type RegisterParams struct {
	// Patient is a FHIR R4 Patient; its id, if any, is ignored.
	Patient []byte
	// OverrideReason registers the patient despite likely duplicates.
	// It is recorded with the registration event.
	OverrideReason string
}

// Registration is the result of RegisterPatient.
type Registration struct {
	Patient *Resource
	// MRN is the assigned medical record number.
	MRN string
	// Candidates are the existing patients scoring at least 0.5, best
	// first.
	Candidates []Candidate
	// Overridden is true when candidates at or above the threshold were
	// overridden with a reason.
	Overridden bool
}

// patientKeys returns the identifiers a patient claims and its master
// patient index blocking keys.
func patientKeys(tree map[string]any) ([]Identifier, []string) {
	var ids []Identifier
	seen := map[Identifier]bool{}
	list, _ := tree["identifier"].([]any)
	for _, raw := range list {
		m, _ := raw.(map[string]any)
		system, _ := m["system"].(string)
		value, _ := m["value"].(string)
		id := Identifier{System: system, Value: value}
		if system == "" || value == "" || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, match.BlockingKeys(match.FromPatient(tree))
}

// FindDuplicates scores existing patients against a FHIR Patient and
// returns those scoring at least 0.5, best first.
func (s *Service) FindDuplicates(ctx context.Context, patient []byte) ([]Candidate, error) {
	tree, err := decodeJSON(patient)
	if err != nil {
		return nil, err
	}
	if tree["resourceType"] != "Patient" {
		return nil, invalid("", "invalid", "duplicate search needs a Patient")
	}
	return s.scoreCandidates(ctx, s.store, tree)
}

type candidateSource interface {
	MatchCandidates(ctx context.Context, keys []string, limit int) ([]string, error)
	Read(ctx context.Context, typ, id string) (*Resource, error)
}

func (s *Service) scoreCandidates(ctx context.Context, src candidateSource, tree map[string]any) ([]Candidate, error) {
	person := match.FromPatient(tree)
	ids, err := src.MatchCandidates(ctx, match.BlockingKeys(person), maxMatchCandidates)
	if err != nil {
		return nil, err
	}
	cfg := match.Config{Threshold: s.cfg.DuplicateThreshold, IgnoreSystems: []string{s.cfg.MRNSystem}}.WithDefaults()
	var out []Candidate
	for _, id := range ids {
		res, err := src.Read(ctx, "Patient", id)
		if err != nil {
			return nil, err
		}
		if res.Deleted {
			continue
		}
		other, err := decodeJSON(res.Body)
		if err != nil {
			return nil, fmt.Errorf("decode stored Patient/%s: %w", id, err)
		}
		if mergedAway(other) {
			continue
		}
		r := match.Compare(person, match.FromPatient(other), cfg)
		if r.Score >= minCandidateScore {
			out = append(out, Candidate{PatientID: id, Score: r.Score, Fields: r.Fields})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out, nil
}

// mergedAway reports whether a patient was merged into another one.
func mergedAway(patient map[string]any) bool {
	links, _ := patient["link"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		if m["type"] == "replaced-by" {
			return true
		}
	}
	return false
}

// RegisterPatient stores a new patient with an assigned medical record
// number after checking for duplicates. It fails with a *DuplicateError
// when an existing patient scores at or above the configured threshold and
// no override reason is given, and with ErrConflict when an identifier
// (system and value) is already held by another patient.
func (s *Service) RegisterPatient(ctx context.Context, p RegisterParams) (*Registration, error) {
	tree, err := decodeJSON(p.Patient)
	if err != nil {
		return nil, err
	}
	if rt, _ := tree["resourceType"].(string); rt != "Patient" {
		return nil, invalid("", "invalid", "registration needs a Patient")
	}
	if err := checkWriteAccess(ctx, "register patient", "Patient", nil, true); err != nil {
		return nil, err
	}
	id := s.cfg.NewID()
	var reg *Registration
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		// Registrations take turns, so two clerks registering the same
		// person at once see each other.
		if err := tx.Lock(ctx, "emr.registration"); err != nil {
			return err
		}
		work := CloneTree(tree)
		candidates, err := s.scoreCandidates(ctx, tx, work)
		if err != nil {
			return err
		}
		var above []Candidate
		for _, c := range candidates {
			if c.Score >= s.cfg.DuplicateThreshold {
				above = append(above, c)
			}
		}
		if len(above) > 0 && p.OverrideReason == "" {
			return &DuplicateError{Candidates: above}
		}
		n, err := tx.NextValue(ctx, "emr.mrn")
		if err != nil {
			return err
		}
		mrn := fmt.Sprintf("%s%08d", s.cfg.MRNPrefix, n)
		ids, _ := work["identifier"].([]any)
		work["identifier"] = append(ids, map[string]any{
			"use": "usual",
			"type": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number",
			}}},
			"system": s.cfg.MRNSystem,
			"value":  mrn,
		})
		prep, err := s.prepare("Patient", id, work)
		if err != nil {
			return err
		}
		res, _, err := s.write(ctx, tx, prep, writeMode{mustCreate: true})
		if err != nil {
			return err
		}
		data := map[string]any{"candidates": candidateIDs(candidates)}
		if len(above) > 0 {
			data["override"] = true
			data["overrideReason"] = p.OverrideReason
			data["overriddenCandidates"] = candidateIDs(above)
		}
		if err := tx.Emit(ctx, Event{Topic: "emr.patient.registered", Type: "Patient", ID: id, Version: res.VersionID,
			Author: res.Author, Time: res.LastUpdated, Data: eventData(data)}); err != nil {
			return err
		}
		reg = &Registration{Patient: res, MRN: mrn, Candidates: candidates, Overridden: len(above) > 0}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reg, nil
}

func candidateIDs(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.PatientID
	}
	return out
}

// MergeParams names the patients of a merge or unmerge.
type MergeParams struct {
	// Source is the duplicate record that is retired.
	Source string
	// Target is the record that survives.
	Target string
	Reason string
}

// Merge marks Source as replaced by Target: Source gets a link of type
// replaced-by and active=false, Target a link of type replaces. Both stay
// readable, so every reference to Source still resolves, and no earlier
// version changes. Unmerge undoes it.
func (s *Service) Merge(ctx context.Context, p MergeParams) error {
	if p.Source == p.Target {
		return invalid("", "invalid", "a patient cannot be merged into itself")
	}
	return s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		src, tgt, err := s.readPair(ctx, tx, p)
		if err != nil {
			return err
		}
		if mergedAway(src) {
			return fmt.Errorf("merge: Patient/%s is already merged into another patient: %w", p.Source, ErrConflict)
		}
		if mergedAway(tgt) {
			return fmt.Errorf("merge: target Patient/%s is itself merged into another patient: %w", p.Target, ErrConflict)
		}
		src["link"] = append(linksOf(src), link("Patient/"+p.Target, "replaced-by"))
		src["active"] = false
		tgt["link"] = append(linksOf(tgt), link("Patient/"+p.Source, "replaces"))
		if err := s.rewritePair(ctx, tx, p, src, tgt); err != nil {
			return err
		}
		return tx.Emit(ctx, Event{Topic: "emr.patient.merged", Type: "Patient", ID: p.Source, Author: ActorFromContext(ctx),
			Time: s.now(), Data: eventData(map[string]any{"source": p.Source, "target": p.Target, "reason": p.Reason})})
	})
}

// Unmerge removes the links a Merge of the same pair added and restores
// Source's active flag to its value before the merge.
func (s *Service) Unmerge(ctx context.Context, p MergeParams) error {
	return s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		src, tgt, err := s.readPair(ctx, tx, p)
		if err != nil {
			return err
		}
		srcLinks, removedSrc := dropLink(linksOf(src), "Patient/"+p.Target, "replaced-by")
		tgtLinks, removedTgt := dropLink(linksOf(tgt), "Patient/"+p.Source, "replaces")
		if !removedSrc || !removedTgt {
			return fmt.Errorf("unmerge: Patient/%s is not merged into Patient/%s: %w", p.Source, p.Target, ErrConflict)
		}
		setLinks(src, srcLinks)
		setLinks(tgt, tgtLinks)
		active, present, err := s.activeBeforeMerge(ctx, p)
		if err != nil {
			return err
		}
		if present {
			src["active"] = active
		} else {
			delete(src, "active")
		}
		if err := s.rewritePair(ctx, tx, p, src, tgt); err != nil {
			return err
		}
		return tx.Emit(ctx, Event{Topic: "emr.patient.unmerged", Type: "Patient", ID: p.Source, Author: ActorFromContext(ctx),
			Time: s.now(), Data: eventData(map[string]any{"source": p.Source, "target": p.Target, "reason": p.Reason})})
	})
}

func (s *Service) readPair(ctx context.Context, tx Tx, p MergeParams) (map[string]any, map[string]any, error) {
	read := func(id string) (map[string]any, error) {
		if !ValidID(id) {
			return nil, fmt.Errorf("invalid patient id: %w", ErrNotFound)
		}
		res, err := tx.Read(ctx, "Patient", id)
		if err != nil {
			return nil, err
		}
		if res.Deleted {
			return nil, fmt.Errorf("Patient/%s: %w", id, ErrGone)
		}
		return decodeJSON(res.Body)
	}
	src, err := read(p.Source)
	if err != nil {
		return nil, nil, err
	}
	tgt, err := read(p.Target)
	if err != nil {
		return nil, nil, err
	}
	return src, tgt, nil
}

func (s *Service) rewritePair(ctx context.Context, tx Tx, p MergeParams, src, tgt map[string]any) error {
	for _, item := range []struct {
		id   string
		tree map[string]any
	}{{p.Source, src}, {p.Target, tgt}} {
		prep, err := s.prepare("Patient", item.id, item.tree)
		if err != nil {
			return err
		}
		if _, _, err := s.write(ctx, tx, prep, writeMode{}); err != nil {
			return err
		}
	}
	return nil
}

// activeBeforeMerge finds Source's active flag in the newest version that
// has no replaced-by link.
func (s *Service) activeBeforeMerge(ctx context.Context, p MergeParams) (bool, bool, error) {
	q := HistoryQuery{Type: "Patient", ID: p.Source, Count: 100}
	for {
		page, err := s.store.History(ctx, q)
		if err != nil {
			return false, false, err
		}
		for _, v := range page.Versions {
			if v.Deleted {
				continue
			}
			tree, err := decodeJSON(v.Body)
			if err != nil {
				return false, false, err
			}
			if !mergedAway(tree) {
				active, present := tree["active"].(bool)
				return active, present, nil
			}
		}
		if page.Next == 0 {
			return false, false, errors.New("unmerge: no version before the merge")
		}
		q.Before = page.Next
	}
}

func linksOf(tree map[string]any) []any {
	l, _ := tree["link"].([]any)
	return l
}

func setLinks(tree map[string]any, links []any) {
	if len(links) == 0 {
		delete(tree, "link")
		return
	}
	tree["link"] = links
}

func link(ref, typ string) map[string]any {
	return map[string]any{"other": map[string]any{"reference": ref}, "type": typ}
}

func dropLink(links []any, ref, typ string) ([]any, bool) {
	out := links[:0:0]
	removed := false
	for _, l := range links {
		m, _ := l.(map[string]any)
		other, _ := m["other"].(map[string]any)
		if !removed && m["type"] == typ && other["reference"] == ref {
			removed = true
			continue
		}
		out = append(out, l)
	}
	return out, removed
}

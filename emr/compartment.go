package emr

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

//go:embed data/compartment-patient.json
var patientCompartmentJSON []byte

var (
	compartmentOnce sync.Once
	compartment     map[string][]string
)

// PatientCompartment returns, for each resource type, the search parameters
// whose reference to a Patient places a resource in that patient's
// compartment, as the FHIR R4 Patient CompartmentDefinition lists them.
// Types it does not list are never in a patient's compartment.
func PatientCompartment() map[string][]string {
	compartmentOnce.Do(func() {
		var def struct {
			Resources map[string][]string `json:"resources"`
		}
		if err := json.Unmarshal(patientCompartmentJSON, &def); err != nil {
			panic(fmt.Sprintf("emr: embedded patient compartment: %v", err)) // a build defect
		}
		compartment = def.Resources
	})
	return compartment
}

// EverythingParams is the input of Everything.
type EverythingParams struct {
	PatientID string
	// Since keeps resources changed at or after this time when not zero.
	Since time.Time
	// Types limits the result to these resource types when not empty.
	Types []string
	// Max bounds the number of resources; 0 means 10,000.
	Max int
}

// EverythingResult is the patient's compartment.
type EverythingResult struct {
	// Resources begins with the Patient, then the other types in
	// alphabetical order.
	Resources []Resource
	// Truncated is true when Max stopped the result early.
	Truncated bool
}

// Everything returns the patient and every current resource in the
// patient's compartment, as for Patient/$everything.
func (s *Service) Everything(ctx context.Context, p EverythingParams) (*EverythingResult, error) {
	patient, err := s.Read(ctx, "Patient", p.PatientID)
	if err != nil {
		return nil, err
	}
	limit := p.Max
	if limit <= 0 {
		limit = 10000
	}
	selected := map[string]bool{}
	for _, t := range p.Types {
		if !IsResourceType(t) {
			return nil, badSearch("_type", "value", "unknown resource type in _type")
		}
		selected[t] = true
	}
	out := &EverythingResult{}
	if len(selected) == 0 || selected["Patient"] {
		if p.Since.IsZero() || !patient.LastUpdated.Before(p.Since) {
			out.Resources = append(out.Resources, *patient)
		}
	}
	types := make([]string, 0, len(PatientCompartment()))
	for t := range PatientCompartment() {
		if t != "Patient" && (len(selected) == 0 || selected[t]) {
			types = append(types, t)
		}
	}
	sort.Strings(types)
	for _, typ := range types {
		var clause Clause
		for _, param := range PatientCompartment()[typ] {
			if def, ok := s.cfg.Registry.Lookup(typ, param); ok && def.Expression != "" && def.Type == "reference" {
				clause = append(clause, Cond{Kind: CondReference, Param: def.Code, RefType: "Patient", RefID: p.PatientID})
			}
		}
		if len(clause) == 0 {
			continue
		}
		q := Query{Type: typ, Where: []Clause{clause}, Count: s.cfg.MaxCount}
		if !p.Since.IsZero() {
			q.Where = append(q.Where, Clause{{Kind: CondLastUpdated, Param: "_lastUpdated", Prefix: "ge", Lo: p.Since.UnixMicro(), Hi: p.Since.UnixMicro() + 1}})
		}
		for {
			page, err := s.store.Search(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, r := range page.Resources {
				if len(out.Resources) >= limit {
					out.Truncated = true
					return out, nil
				}
				out.Resources = append(out.Resources, r)
			}
			if page.Next == 0 {
				break
			}
			q.After = page.Next
		}
	}
	return out, nil
}

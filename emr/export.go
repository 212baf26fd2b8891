package emr

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"
)

// ExportParams selects what Export writes.
type ExportParams struct {
	// Types limits the export to these resource types when not empty.
	Types []string
	// Since keeps resources changed at or after this time when not zero.
	Since time.Time
	// Patients, when not empty, limits the export to the compartments of
	// these patients (Patient- and Group-level export). PatientLevel with
	// no Patients exports the compartments of every patient.
	Patients     []string
	PatientLevel bool
}

// ExportWriter returns the writer for one resource type's NDJSON output;
// Export calls it once per type that has resources, before the first line.
type ExportWriter func(typ string) (io.Writer, error)

// Export writes the current version of every selected resource as NDJSON,
// one file per type, in the FHIR Bulk Data format, and returns the number
// of resources written per type. It reads page by page, so memory use does
// not grow with the database.
//
// NOTE: the export reads without a snapshot: a resource changed while the
// export runs may be written in its old or its new version.
func (s *Service) Export(ctx context.Context, p ExportParams, open ExportWriter) (map[string]int, error) {
	types := p.Types
	if len(types) == 0 {
		types = ResourceTypes()
	}
	for _, t := range types {
		if !IsResourceType(t) {
			return nil, badSearch("_type", "value", "unknown resource type in _type")
		}
	}
	sort.Strings(types)
	counts := map[string]int{}
	writers := map[string]io.Writer{}
	write := func(r Resource) error {
		w, ok := writers[r.Type]
		if !ok {
			var err error
			if w, err = open(r.Type); err != nil {
				return fmt.Errorf("export %s: %w", r.Type, err)
			}
			writers[r.Type] = w
		}
		if _, err := w.Write(append(append([]byte(nil), r.Body...), '\n')); err != nil {
			return fmt.Errorf("export %s: %w", r.Type, err)
		}
		counts[r.Type]++
		return nil
	}
	if p.PatientLevel || len(p.Patients) > 0 {
		return counts, s.exportCompartments(ctx, p, types, write)
	}
	for _, typ := range types {
		q := Query{Type: typ, Count: s.cfg.MaxCount}
		if !p.Since.IsZero() {
			q.Where = append(q.Where, Clause{{Kind: CondLastUpdated, Param: "_lastUpdated", Prefix: "ge",
				Lo: p.Since.UnixMicro(), Hi: p.Since.UnixMicro() + 1}})
		}
		for {
			page, err := s.store.Search(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, r := range page.Resources {
				if err := write(r); err != nil {
					return nil, err
				}
			}
			if page.Next == 0 {
				break
			}
			q.After = page.Next
		}
	}
	return counts, nil
}

func (s *Service) exportCompartments(ctx context.Context, p ExportParams, types []string, write func(Resource) error) error {
	patients := p.Patients
	if len(patients) == 0 {
		q := Query{Type: "Patient", Count: s.cfg.MaxCount}
		for {
			page, err := s.store.Search(ctx, q)
			if err != nil {
				return err
			}
			for _, r := range page.Resources {
				patients = append(patients, r.ID)
			}
			if page.Next == 0 {
				break
			}
			q.After = page.Next
		}
	}
	seen := map[string]bool{}
	for _, id := range patients {
		res, err := s.Everything(ctx, EverythingParams{PatientID: id, Since: p.Since, Types: types, Max: 1 << 30})
		if err != nil {
			return fmt.Errorf("export compartment of Patient/%s: %w", id, err)
		}
		for _, r := range res.Resources {
			key := r.Type + "/" + r.ID
			if seen[key] {
				continue
			}
			seen[key] = true
			if err := write(r); err != nil {
				return err
			}
		}
	}
	return nil
}

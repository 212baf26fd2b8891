package emr

import (
	"context"
	"strings"
)

// Include parameters.
const (
	paramInclude    = "_include"
	paramRevinclude = "_revinclude"
)

// maxIncluded bounds the resources that _include and _revinclude add to one
// page, so a search cannot pull in a whole database.
const maxIncluded = 1000

// maxIncludeRounds bounds :iterate.
const maxIncludeRounds = 4

// includeSpec is one _include or _revinclude value: Source:param[:Target].
type includeSpec struct {
	reverse bool
	iterate bool
	source  string
	param   string
	target  string
}

func (s *Service) parseIncludes(typ string, key string, values []string) ([]includeSpec, error) {
	name, modifier, _ := strings.Cut(key, ":")
	if modifier != "" && modifier != "iterate" && modifier != "recurse" {
		return nil, badSearch(key, "not-supported", "%s takes only the :iterate modifier", name)
	}
	var out []includeSpec
	for _, v := range values {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || !IsResourceType(parts[0]) {
			return nil, badSearch(name, "value", "%s must be SourceType:parameter[:TargetType]", name)
		}
		spec := includeSpec{reverse: name == paramRevinclude, iterate: modifier != "", source: parts[0], param: parts[1]}
		if len(parts) == 3 {
			if !IsResourceType(parts[2]) {
				return nil, badSearch(name, "value", "%s names an unknown target type", name)
			}
			spec.target = parts[2]
		}
		def, ok := s.cfg.Registry.Lookup(spec.source, spec.param)
		if !ok || def.Type != "reference" || def.Expression == "" {
			return nil, badSearch(name, "value", "%s needs a reference parameter of %s", name, spec.source)
		}
		if !spec.reverse && !spec.iterate && spec.source != typ {
			return nil, badSearch(name, "value", "_include without :iterate must start with the searched type %s", typ)
		}
		out = append(out, spec)
	}
	return out, nil
}

// resolveIncludes returns the resources that the includes add to results,
// leaving out those already in results.
func (s *Service) resolveIncludes(ctx context.Context, results []Resource, specs []includeSpec) ([]Resource, error) {
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.Type+"/"+r.ID] = true
	}
	var included []Resource
	frontier := results
	for round := 0; round < maxIncludeRounds && len(frontier) > 0; round++ {
		var next []Resource
		for _, spec := range specs {
			if round > 0 && !spec.iterate {
				continue
			}
			var found []Resource
			var err error
			if spec.reverse {
				found, err = s.revinclude(ctx, frontier, spec)
			} else {
				found, err = s.include(ctx, frontier, spec)
			}
			if err != nil {
				return nil, err
			}
			for _, r := range found {
				key := r.Type + "/" + r.ID
				if seen[key] {
					continue
				}
				seen[key] = true
				included = append(included, r)
				next = append(next, r)
				if len(included) >= maxIncluded {
					return included, nil
				}
			}
		}
		frontier = next
	}
	return included, nil
}

// include reads the targets of spec's reference parameter in resources of
// spec.source.
func (s *Service) include(ctx context.Context, from []Resource, spec includeSpec) ([]Resource, error) {
	byType := map[string][]string{}
	for _, r := range from {
		if r.Type != spec.source || r.Deleted {
			continue
		}
		tree, err := decodeJSON(r.Body)
		if err != nil {
			return nil, err
		}
		entries, err := s.cfg.Registry.Extract(r.Type, tree)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Param != spec.param || e.RefType == "" || e.RefID == "" {
				continue
			}
			if spec.target != "" && e.RefType != spec.target {
				continue
			}
			byType[e.RefType] = append(byType[e.RefType], e.RefID)
		}
	}
	var out []Resource
	for typ, ids := range byType {
		for start := 0; start < len(ids); start += 200 {
			chunk := ids[start:min(start+200, len(ids))]
			page, err := s.store.Search(ctx, Query{Type: typ, Where: []Clause{{{Kind: CondID, Param: "_id", IDs: chunk}}}, Count: len(chunk)})
			if err != nil {
				return nil, err
			}
			out = append(out, page.Resources...)
		}
	}
	return out, nil
}

// revinclude reads the resources of spec.source whose reference parameter
// points at one of from.
func (s *Service) revinclude(ctx context.Context, from []Resource, spec includeSpec) ([]Resource, error) {
	var targets Clause
	for _, r := range from {
		if spec.target != "" && r.Type != spec.target {
			continue
		}
		targets = append(targets, Cond{Kind: CondReference, Param: spec.param, RefType: r.Type, RefID: r.ID})
	}
	var out []Resource
	for start := 0; start < len(targets); start += 100 {
		chunk := targets[start:min(start+100, len(targets))]
		page, err := s.store.Search(ctx, Query{Type: spec.source, Where: []Clause{chunk}, Count: maxIncluded})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Resources...)
	}
	return out, nil
}

package security

import (
	"context"
	"slices"
	"sync"
)

// careMemoKey is the context key of the *careMemo of one request.
type careMemoKey struct{}

// careMemo stores the care relations read during one request, per
// principal. One FHIR request can decide many times (each bundle entry,
// each type it reads or creates), and each CareRelations call can search
// the clinical record, so the decisions of a request share one result.
type careMemo struct {
	mu  sync.Mutex
	ids map[*Principal][]string
}

// contextWithCareMemo returns ctx with an empty careMemo. Middleware adds
// one to each authenticated request.
func contextWithCareMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, careMemoKey{}, &careMemo{ids: map[*Principal][]string{}})
}

// careRelationsOf returns the patients of Config.CareRelations for p, read
// once per request and principal when ctx has a careMemo. A failed read
// is not stored, so the next decision tries again. The result is a copy
// that the caller may change.
func (s *Service) careRelationsOf(ctx context.Context, p *Principal) ([]string, error) {
	if s.cfg.CareRelations == nil {
		return nil, nil
	}
	memo, _ := ctx.Value(careMemoKey{}).(*careMemo)
	if memo == nil {
		return s.cfg.CareRelations.PatientsOf(ctx, p)
	}
	// The lock is held during the read, so concurrent decisions of one
	// request wait for it rather than search again.
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if ids, ok := memo.ids[p]; ok {
		return slices.Clone(ids), nil
	}
	ids, err := s.cfg.CareRelations.PatientsOf(ctx, p)
	if err != nil {
		return nil, err
	}
	memo.ids[p] = slices.Clone(ids)
	return ids, nil
}

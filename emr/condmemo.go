package emr

import "context"

// ConditionalMatches returns the current resources that match criteria, a
// conditional create's search (ifNoneExist) such as
// "identifier=http://example.org/mrn|123", at most two of them, so that
// more than one match shows as two.
//
// Inside a unit of WriteBatch it takes the lock that a conditional create
// of the same criteria takes, so the result stays true until the unit
// writes. A conditional create or update of the same criteria in the
// unit's next write transaction then uses the result instead of searching
// again. That saves the second search of a caller that looks before it
// writes, such as the HL7 v2 mapping. Outside a batch it is a plain
// search of committed data.
func (s *Service) ConditionalMatches(ctx context.Context, typ, criteria string) ([]Resource, error) {
	q, canonical, err := s.criteria(typ, criteria)
	if err != nil {
		return nil, err
	}
	q.Count = 2
	q.CountOnly, q.Total = false, false
	b, inBatch := s.store.(*batchStore)
	if !inBatch {
		page, err := s.store.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		return page.Resources, nil
	}
	if err := b.lock(ctx, conditionalLock(canonical)); err != nil {
		return nil, err
	}
	page, err := b.tx.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	if AccessFromContext(ctx) == nil && len(page.Resources) <= 1 {
		if b.matches == nil {
			b.matches = map[string]string{}
		}
		id := ""
		if len(page.Resources) == 1 {
			id = page.Resources[0].ID
		}
		b.matches[canonical] = id
	}
	return page.Resources, nil
}

func conditionalLock(canonical string) string {
	return "conditional:" + canonical
}

// lock takes the named lock in the batch's transaction once per unit.
func (b *batchStore) lock(ctx context.Context, name string) error {
	if b.locks[name] {
		return nil
	}
	if err := b.tx.Lock(ctx, name); err != nil {
		return err
	}
	if b.locks == nil {
		b.locks = map[string]bool{}
	}
	b.locks[name] = true
	return nil
}

// lockIn takes the named lock in tx, once per unit inside a WriteBatch.
// Locks last until the transaction ends, so one taken is held for the rest
// of the unit.
func (s *Service) lockIn(ctx context.Context, tx Tx, name string) error {
	if b, ok := s.store.(*batchStore); ok && b.tx == tx {
		return b.lock(ctx, name)
	}
	return tx.Lock(ctx, name)
}

// recallMatch returns the id that ConditionalMatches found for the
// canonical criteria in this unit since its last write transaction, ""
// for none, and whether it has such a result.
func (s *Service) recallMatch(tx Tx, canonical string) (string, bool) {
	b, ok := s.store.(*batchStore)
	if !ok || b.tx != tx {
		return "", false
	}
	id, ok := b.matches[canonical]
	return id, ok
}

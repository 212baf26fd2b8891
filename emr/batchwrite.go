package emr

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"time"
)

// BatchUnit is one unit of work of WriteBatch. It writes through svc, a
// Service whose every read and write runs in the batch's transaction, so
// a unit reads what the units before it wrote. A unit must write only
// through svc and must not keep svc after it returns.
type BatchUnit func(ctx context.Context, svc *Service) error

// maxBatchRetries bounds how often WriteBatch starts a batch again after a
// concurrent writer won a race, as inTx does for one write.
const maxBatchRetries = 5

// errUnitFailed ends the transaction of a batch when one unit failed.
var errUnitFailed = errors.New("emr: a unit of the batch failed")

// errBatchAborted is returned to a unit that writes again after one of its
// writes failed, because the transaction can no longer be used.
var errBatchAborted = errors.New("emr: the batch transaction was aborted by an earlier error")

// WriteBatch runs units in order in one write transaction, so that many
// small writes share one commit. Each unit's effects are isolated: when a
// unit returns an error, the transaction is rolled back, that unit gets
// its error in errs, and the batch runs again without it. So the units
// that succeed see the same data as when run one by one in order, and a
// failed unit leaves nothing behind. A conflict with a concurrent writer
// starts the whole batch again, up to maxBatchRetries times in all, after
// which a unit that still conflicts fails alone.
//
// errs[i] is the error of units[i], nil when its writes were committed.
// When err is not nil, the transaction itself failed (the commit, say, or
// its retries ran out), and the units whose errs entry is nil were not
// committed either.
//
// A unit may run several times, once per attempt, so it must not have
// effects outside svc.
func (s *Service) WriteBatch(ctx context.Context, units []BatchUnit) (errs []error, err error) {
	errs = make([]error, len(units))
	pending := make([]int, len(units))
	for i := range pending {
		pending[i] = i
	}
	retries := 0
	for len(pending) > 0 {
		failed, unitErr, err := s.runBatch(ctx, units, pending)
		switch {
		case err == nil:
			return errs, nil
		case failed >= 0 && unitRetryable(unitErr) && retries < maxBatchRetries,
			failed < 0 && isRetryable(err) && retries < maxBatchRetries:
			retries++
			s.log.DebugContext(ctx, "retrying write batch after a concurrent change", "attempt", retries, "units", len(pending))
			time.Sleep(time.Duration(retries) * time.Duration(1+mrand.IntN(20)) * time.Millisecond)
		case failed >= 0:
			errs[failed] = unitErr
			pending = slices.DeleteFunc(pending, func(i int) bool { return i == failed })
		default:
			return errs, fmt.Errorf("emr: write batch of %d units: %w", len(pending), err)
		}
	}
	return errs, nil
}

// unitRetryable reports whether a unit's error may go away when the batch
// runs again: a concurrent transaction won a race, or a version read in
// the batch was changed by a writer outside it before the batch wrote.
func unitRetryable(err error) bool {
	return isRetryable(err) || errors.Is(err, ErrVersionMismatch)
}

// runBatch runs the pending units in one transaction. It returns the index
// of the unit that failed (-1 for none) with its error, and the error of
// the transaction.
func (s *Service) runBatch(ctx context.Context, units []BatchUnit, pending []int) (int, error, error) {
	failed := -1
	var unitErr error
	err := s.store.InTx(ctx, func(ctx context.Context, tx Tx) error {
		for _, i := range pending {
			store := &batchStore{Store: s.store, tx: tx}
			bound := *s
			bound.store = store
			err := units[i](ctx, &bound)
			err = unitError(err, store.failed)
			if err != nil {
				failed, unitErr = i, err
				return errUnitFailed
			}
		}
		return nil
	})
	return failed, unitErr, err
}

// unitError returns the error that a unit's run ends with, given the
// unit's returned error and the first of its writes that failed. A unit
// that wraps the failed write in its own error keeps it, because the
// wrapper may name where the failure came from. A unit that returned
// nothing or only the aborted transaction gets the failed write, because
// that is the cause. When the two differ, both are kept, so that a
// retryable write failure stays retryable.
func unitError(returned, failedWrite error) error {
	switch {
	case failedWrite == nil:
		return returned
	case returned == nil, errors.Is(returned, errBatchAborted):
		return failedWrite
	case errors.Is(returned, failedWrite):
		return returned
	}
	return errors.Join(returned, failedWrite)
}

func isRetryable(err error) bool {
	return err != nil && (errors.Is(err, errRetry) || errors.Is(err, ErrTransient))
}

// batchStore is the Store of a unit of WriteBatch: reads and writes go to
// the batch's transaction, and a write transaction of the Service joins it
// instead of starting its own. History and Events read committed data
// through the embedded Store.
type batchStore struct {
	Store
	tx     Tx
	failed error
	// locks are the lock names the unit took in the transaction.
	locks map[string]bool
	// matches are the ids ConditionalMatches found by canonical criteria
	// ("" for none), forgotten when a write transaction of the unit ends.
	matches map[string]string
}

func (b *batchStore) Read(ctx context.Context, typ, id string) (*Resource, error) {
	return b.tx.Read(ctx, typ, id)
}

func (b *batchStore) ReadVersion(ctx context.Context, typ, id string, version int64) (*Resource, error) {
	return b.tx.ReadVersion(ctx, typ, id, version)
}

func (b *batchStore) Search(ctx context.Context, q Query) (*Page, error) {
	return b.tx.Search(ctx, q)
}

func (b *batchStore) MatchCandidates(ctx context.Context, keys []string, limit int) ([]string, error) {
	return b.tx.MatchCandidates(ctx, keys, limit)
}

// InTx runs fn in the batch's transaction. After a failed fn the
// transaction may be unusable (PostgreSQL aborts it on any error), so
// later calls return errBatchAborted without running fn, which also stops
// the retries of Service.inTx.
func (b *batchStore) InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	if b.failed != nil {
		return errBatchAborted
	}
	// Whatever fn wrote may change what the criteria match.
	defer func() { b.matches = nil }()
	if err := fn(ctx, b.tx); err != nil {
		b.failed = err
		return err
	}
	return nil
}

// Close does nothing: the batch's Store outlives the unit.
func (b *batchStore) Close() error { return nil }

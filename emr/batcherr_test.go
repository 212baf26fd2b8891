package emr_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// sourceError is a unit's own error around a failed write, such as the
// HL7 v2 mapping's error that names the segment the resource came from.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "from PID: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

func TestWriteBatchKeepsUnitErrors(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		ctx := context.Background()
		_, err := svc.Create(ctx, "Patient", patientBody("HELD"))
		require.NoError(t, err)

		errOther := errors.New("unit failed for another reason")
		claim := func(handle func(error) error) emr.BatchUnit {
			return func(ctx context.Context, bsvc *emr.Service) error {
				_, err := bsvc.Create(ctx, "Patient", patientBody("HELD"))
				return handle(err)
			}
		}
		errs, err := svc.WriteBatch(ctx, []emr.BatchUnit{
			claim(func(err error) error { return &sourceError{err} }),
			claim(func(error) error { return nil }),
			claim(func(error) error { return errOther }),
		})
		require.NoError(t, err)
		require.Len(t, errs, 3)

		var wrapped *sourceError
		assert.ErrorAs(t, errs[0], &wrapped, "the unit's wrapper is kept")
		assert.ErrorIs(t, errs[0], emr.ErrConflict)
		assert.ErrorIs(t, errs[1], emr.ErrConflict, "a swallowed write failure still fails the unit")
		assert.ErrorIs(t, errs[2], errOther)
		assert.ErrorIs(t, errs[2], emr.ErrConflict, "an unrelated error keeps the write failure too")
		assert.Equal(t, 1, patientsWith(t, svc, "HELD"))
	})
}

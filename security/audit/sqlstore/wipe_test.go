package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/audit/audittest"
	"github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestVerifyDetectsWipedLog(t *testing.T) {
	cases := []struct {
		name       string
		entries    int
		statements []string
		seq        int64
	}{
		{name: "all entries and head", entries: 10, statements: []string{`DELETE FROM audit_log`, `DELETE FROM audit_head`}, seq: 1},
		{name: "head of an empty log", entries: 0, statements: []string{`DELETE FROM audit_head`}, seq: 1},
		{name: "head only", entries: 10, statements: []string{`DELETE FROM audit_head`}, seq: 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				store := sqlstore.New(migrated(t, db))
				log := audittest.OpenLog(t, store)
				audittest.Fill(t, log, tc.entries)
				rep, err := log.Verify(ctx)
				require.NoError(t, err)
				require.True(t, rep.OK(), "before tampering: %v", rep.Err())

				bypassTriggers(t, db)
				for _, statement := range tc.statements {
					exec(t, db, statement)
				}

				reopened := audittest.OpenLog(t, store)
				rep, err = reopened.Verify(ctx)
				require.NoError(t, err)
				require.False(t, rep.OK(), "the wiped log verified")
				assert.Equal(t, audit.Removed, rep.Problem.Kind, rep.Problem.Detail)
				assert.Equal(t, tc.seq, rep.Problem.Seq, rep.Problem.Detail)
				assert.ErrorIs(t, rep.Err(), audit.ErrTampered)
			})
		})
	}
}

func TestVerifyAcceptsNewEmptyLog(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		store := sqlstore.New(migrated(t, db))
		audittest.OpenLog(t, store)
		rep, err := audittest.OpenLog(t, store).Verify(context.Background())
		require.NoError(t, err)
		assert.True(t, rep.OK(), "%v", rep.Err())
		assert.Zero(t, rep.Checked)
	})
}

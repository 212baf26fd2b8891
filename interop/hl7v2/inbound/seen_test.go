package inbound_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// newRecordService returns a clinical record on a fresh SQLite database.
func newRecordService(t *testing.T) *emr.Service {
	t.Helper()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	return svc
}

func TestSeenStores(t *testing.T) {
	t.Parallel()
	svc := newRecordService(t)
	stores := []struct {
		name  string
		store inbound.SeenStore
	}{
		{name: "memory", store: &inbound.MemorySeen{}},
		{name: "clinical record", store: inbound.RecordSeen{Service: svc}},
	}
	key := inbound.MessageKey(&hl7v2.Header{SendingApplication: "ADT", SendingFacility: "HOSP", ControlID: "C1"})
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			seen, err := tc.store.Seen(ctx, key)
			require.NoError(t, err)
			assert.False(t, seen, "before Record")
			require.NoError(t, tc.store.Record(ctx, key))
			seen, err = tc.store.Seen(ctx, key)
			require.NoError(t, err)
			assert.True(t, seen, "after Record")
			require.NoError(t, tc.store.Record(ctx, key), "recording twice")
		})
	}

	res, err := svc.Read(context.Background(), "MessageHeader", key)
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.VersionID, "recording the same key again writes no version")
}

func TestRecordSeenAcrossHandlers(t *testing.T) {
	t.Parallel()
	svc := newRecordService(t)
	applier := &fakeApplier{}
	message := admission("ADT", "HOSP", "R1", "", "")
	for range 2 {
		// A new Handler per attempt stands for a restarted server.
		h := newHandler(applier)
		h.Seen = inbound.RecordSeen{Service: svc}
		res, err := h.Process(context.Background(), message)
		require.NoError(t, err)
		assert.Equal(t, "AA", res.Code)
	}
	assert.Equal(t, 1, applier.count("R1"))
}

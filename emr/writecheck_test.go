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

// checkLog is a WriteCheck that records the writes it saw and fails
// those of the resource type reject.
type checkLog struct {
	seen   []emr.PendingWrite
	reject string
}

var errRejected = errors.New("rejected by the write check")

func (l *checkLog) check(_ context.Context, w emr.PendingWrite) error {
	l.seen = append(l.seen, w)
	if w.Type == l.reject {
		return errRejected
	}
	return nil
}

func TestWriteCheckSeesEveryWrite(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		log := &checkLog{}
		ctx := emr.ContextWithWriteCheck(context.Background(), log.check)

		created, err := svc.Create(ctx, "Patient", patientBody("W1"))
		require.NoError(t, err)
		_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: created.ID,
			Body: []byte(`{"resourceType":"Patient","id":"` + created.ID + `","gender":"female"}`)})
		require.NoError(t, err)
		_, err = svc.Patch(ctx, emr.PatchParams{Type: "Patient", ID: created.ID,
			JSONPatch: []byte(`[{"op":"replace","path":"/gender","value":"male"}]`)})
		require.NoError(t, err)
		_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "put-new",
			Body: []byte(`{"resourceType":"Patient","id":"put-new"}`)})
		require.NoError(t, err)
		_, err = svc.ProcessBundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient","id":"tx-new"},"request":{"method":"PUT","url":"Patient/tx-new"}}]}`))
		require.NoError(t, err)

		require.Len(t, log.seen, 5)
		assert.True(t, log.seen[0].Creates(), "a create")
		assert.Nil(t, log.seen[0].Current)
		assert.False(t, log.seen[1].Creates(), "an update of an existing id")
		assert.Equal(t, int64(1), log.seen[1].Current.VersionID)
		assert.Equal(t, "female", log.seen[1].Resource["gender"], "the new content")
		assert.False(t, log.seen[2].Creates(), "a patch")
		assert.Equal(t, "male", log.seen[2].Resource["gender"], "the patched result")
		assert.True(t, log.seen[3].Creates(), "a PUT to a new id")
		assert.Equal(t, "put-new", log.seen[3].ID)
		assert.True(t, log.seen[4].Creates(), "a transaction PUT to a new id")
		assert.Equal(t, []string{created.ID}, log.seen[0].Patients, "a Patient is in its own compartment")
	})
}

func TestWriteCheckErrorAbortsWrite(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := batchService(t, db)
		existing, err := svc.Create(context.Background(), "Patient", patientBody("W2"))
		require.NoError(t, err)
		_, err = svc.Delete(context.Background(), "Patient", existing.ID, 0)
		require.NoError(t, err)
		log := &checkLog{reject: "Patient"}
		ctx := emr.ContextWithWriteCheck(context.Background(), log.check)

		_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: existing.ID,
			Body: []byte(`{"resourceType":"Patient","id":"` + existing.ID + `"}`)})
		assert.ErrorIs(t, err, errRejected)
		require.Len(t, log.seen, 1)
		assert.True(t, log.seen[0].Creates(), "writing over a deletion creates")

		_, err = svc.ProcessBundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Organization","name":"ok"},"request":{"method":"POST","url":"Organization"}},
			{"resource":{"resourceType":"Patient","id":"tx2"},"request":{"method":"PUT","url":"Patient/tx2"}}]}`))
		assert.ErrorIs(t, err, errRejected)
		_, err = svc.Read(context.Background(), "Patient", "tx2")
		assert.ErrorIs(t, err, emr.ErrNotFound, "the transaction stored nothing")
		page, err := svc.Search(context.Background(), "Organization", nil)
		require.NoError(t, err)
		assert.Empty(t, page.Resources, "the entry before the rejected one was rolled back")
	})
}

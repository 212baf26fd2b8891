package sqlstore_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func limitService(t *testing.T, db *storage.DB) *emr.Service {
	t.Helper()
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	return svc
}

// patientWithTypedIdentifiers returns a Patient without id with n
// identifiers, each
// with codings type codings, so that it gives n*(1+codings) index entries.
func patientWithTypedIdentifiers(n, codings int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Patient","identifier":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"type":{"coding":[`)
		for c := range codings {
			if c > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"system":"urn:example:types","code":"T%d"}`, c)
		}
		fmt.Fprintf(&sb, `]},"system":"urn:example:ids","value":"ID-%07d"}`, i)
	}
	sb.WriteString(`],"gender":"female"}`)
	return []byte(sb.String())
}

func assertTooLarge(t *testing.T, err error, location string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, emr.ErrTooLarge)
	assert.Equal(t, http.StatusRequestEntityTooLarge, emr.StatusFor(err))
	assert.Contains(t, err.Error(), location)
	assert.NotContains(t, err.Error(), "ID-00", "no identifier values in the error")
}

func TestRepeatedElementLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := emr.ContextWithActor(context.Background(), "test")
		svc := limitService(t, db)
		_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "over",
			Body: patientWithIdentifiers("over", emr.MaxRepeatedElements+1)})
		assertTooLarge(t, err, "Patient.identifier")
	})
}

// TestRepeatedElementLimitAfterPatch runs on SQLite only: the limit is
// checked by emr.Service before the store, and writing a list at the limit
// takes seconds.
func TestRepeatedElementLimitAfterPatch(t *testing.T) {
	ctx := emr.ContextWithActor(context.Background(), "test")
	svc := limitService(t, storagetest.SQLite(t))
	_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "at",
		Body: patientWithIdentifiers("at", emr.MaxRepeatedElements)})
	require.NoError(t, err, "the limit itself is allowed")

	// Two adds take the list over the limit.
	_, err = svc.FHIRPathPatch(ctx, emr.FHIRPathPatchParams{Type: "Patient", ID: "at", Parameters: patchAddingIdentifiers(2)})
	assertTooLarge(t, err, "Patient.identifier")
}

func TestIndexEntryLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := emr.ContextWithActor(context.Background(), "test")
		svc := limitService(t, db)
		// 2,100 identifiers with 9 type codings give 21,000 entries, in
		// lists far below MaxRepeatedElements.
		_, err := svc.Create(ctx, "Patient", patientWithTypedIdentifiers(2100, 9))
		assertTooLarge(t, err, "search index entries")
		page, err := svc.Search(ctx, "Patient", nil)
		require.NoError(t, err)
		assert.Empty(t, page.Resources, "nothing was stored")
	})
}

func TestPatchOperationLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := emr.ContextWithActor(context.Background(), "test")
		svc := limitService(t, db)
		_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "p",
			Body: []byte(`{"resourceType":"Patient","id":"p","gender":"female"}`)})
		require.NoError(t, err)
		_, err = svc.FHIRPathPatch(ctx, emr.FHIRPathPatchParams{Type: "Patient", ID: "p",
			Parameters: patchAddingIdentifiers(emr.MaxPatchOperations + 1)})
		assertTooLarge(t, err, "operations")
		got, err := svc.FHIRPathPatch(ctx, emr.FHIRPathPatchParams{Type: "Patient", ID: "p",
			Parameters: patchAddingIdentifiers(emr.MaxPatchOperations)})
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.VersionID)
	})
}

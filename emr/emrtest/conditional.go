package emrtest

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func testConditionalAndPatch(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/clerk")
	svc := newService(t, newStore)
	body := []byte(`{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"C-1"}],"gender":"male"}`)

	t.Run("conditional create", func(t *testing.T) {
		first, outcome, err := svc.ConditionalCreate(ctx, "Patient", body, "identifier=http://example.org/mrn|C-1")
		require.NoError(t, err)
		assert.Equal(t, emr.Created, outcome)
		again, outcome, err := svc.ConditionalCreate(ctx, "Patient", body, "identifier=http%3A%2F%2Fexample.org%2Fmrn%7CC-1")
		require.NoError(t, err)
		assert.Equal(t, emr.Unchanged, outcome)
		assert.Equal(t, first.ID, again.ID)
	})
	t.Run("conditional create races", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := []byte(`{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"RACE-2"}]}`)
				_, _, err := svc.ConditionalCreate(ctx, "Patient", b, "identifier=http://example.org/mrn|RACE-2")
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		assert.Len(t, searchIDs(t, svc, "Patient", "identifier=http://example.org/mrn|RACE-2"), 1)
	})
	t.Run("conditional update", func(t *testing.T) {
		upd := []byte(`{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"C-1"}],"gender":"female"}`)
		res, outcome, err := svc.ConditionalUpdate(ctx, "Patient", "identifier=http://example.org/mrn|C-1", upd)
		require.NoError(t, err)
		assert.Equal(t, emr.Updated, outcome)
		assert.Equal(t, int64(2), res.VersionID)
		created, outcome, err := svc.ConditionalUpdate(ctx, "Patient", "identifier=http://example.org/mrn|C-NEW",
			[]byte(`{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"C-NEW"}]}`))
		require.NoError(t, err)
		assert.Equal(t, emr.Created, outcome)
		assert.NotEmpty(t, created.ID)
		_, _, err = svc.ConditionalUpdate(ctx, "Patient", "identifier=http://example.org/mrn|C-1",
			[]byte(`{"resourceType":"Patient","id":"someone-else"}`))
		assert.ErrorIs(t, err, emr.ErrInvalid)
		put(t, svc, "Patient", "twin-1", `{"resourceType":"Patient","gender":"other","birthDate":"1999-09-09"}`)
		put(t, svc, "Patient", "twin-2", `{"resourceType":"Patient","gender":"other","birthDate":"1999-09-09"}`)
		_, _, err = svc.ConditionalUpdate(ctx, "Patient", "birthdate=1999-09-09", []byte(`{"resourceType":"Patient"}`))
		assert.ErrorIs(t, err, emr.ErrPreconditionFailed, "several matches")
	})
	t.Run("conditional delete", func(t *testing.T) {
		del, err := svc.ConditionalDelete(ctx, "Patient", "identifier=http://example.org/mrn|C-NEW")
		require.NoError(t, err)
		require.NotNil(t, del)
		assert.True(t, del.Deleted)
		none, err := svc.ConditionalDelete(ctx, "Patient", "identifier=http://example.org/mrn|NOBODY")
		require.NoError(t, err)
		assert.Nil(t, none)
		_, err = svc.ConditionalDelete(ctx, "Patient", "birthdate=1999-09-09")
		assert.ErrorIs(t, err, emr.ErrPreconditionFailed)
	})
	t.Run("json patch", func(t *testing.T) {
		put(t, svc, "Observation", "obs-p", `{"resourceType":"Observation","status":"preliminary","code":{"text":"bp"},
			"valueQuantity":{"value":140.0,"unit":"mm[Hg]"}}`)
		res, err := svc.Patch(ctx, emr.PatchParams{Type: "Observation", ID: "obs-p", IfMatch: 1,
			JSONPatch: []byte(`[{"op":"test","path":"/status","value":"preliminary"},{"op":"replace","path":"/status","value":"final"}]`)})
		require.NoError(t, err)
		assert.Equal(t, int64(2), res.VersionID)
		assert.Contains(t, string(res.Body), `"status":"final"`)
		assert.Contains(t, string(res.Body), `"value":140.0`, "untouched decimals keep their form")

		cases := []struct {
			name    string
			patch   string
			ifMatch int64
			want    error
		}{
			{name: "failed test", patch: `[{"op":"test","path":"/status","value":"preliminary"}]`, want: emr.ErrPreconditionFailed},
			{name: "stale version", patch: `[{"op":"replace","path":"/status","value":"amended"}]`, ifMatch: 1, want: emr.ErrVersionMismatch},
			{name: "invalid result", patch: `[{"op":"replace","path":"/status","value":"sideways"}]`, want: emr.ErrInvalid},
			{name: "change id", patch: `[{"op":"replace","path":"/id","value":"other"}]`, want: emr.ErrInvalid},
			{name: "missing path", patch: `[{"op":"remove","path":"/subject"}]`, want: emr.ErrInvalid},
			{name: "not a patch", patch: `{"op":"remove"}`, want: emr.ErrInvalid},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.Patch(ctx, emr.PatchParams{Type: "Observation", ID: "obs-p", IfMatch: tc.ifMatch, JSONPatch: []byte(tc.patch)})
				assert.ErrorIs(t, err, tc.want)
			})
		}
		cur, err := svc.Read(ctx, "Observation", "obs-p")
		require.NoError(t, err)
		assert.Equal(t, int64(2), cur.VersionID, "failed patches store nothing")
	})
}

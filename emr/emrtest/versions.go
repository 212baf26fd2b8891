package emrtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

const patientJSON = `{"resourceType":"Patient","id":"ignored","meta":{"versionId":"99","lastUpdated":"1999-01-01T00:00:00Z","tag":[{"system":"http://example.org/tags","code":"demo"}]},
	"name":[{"family":"Tester","given":["Ava"]}],"gender":"female","birthDate":"1980-01-01"}`

func testVersions(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/alice")
	svc := newService(t, newStore)

	created, err := svc.Create(ctx, "Patient", []byte(patientJSON))
	require.NoError(t, err)
	assert.NotEqual(t, "ignored", created.ID, "create assigns its own id")
	assert.Equal(t, int64(1), created.VersionID)
	assert.Equal(t, "user/alice", created.Author)
	m := meta(t, created.Body)
	assert.Equal(t, "1", m["versionId"], "client versionId is replaced")
	assert.NotEqual(t, "1999-01-01T00:00:00Z", m["lastUpdated"], "client lastUpdated is replaced")
	assert.NotNil(t, m["tag"], "other meta elements are kept")

	read, err := svc.Read(ctx, "Patient", created.ID)
	require.NoError(t, err)
	assert.Equal(t, string(created.Body), string(read.Body), "a read returns the stored bytes")

	upd := []byte(`{"resourceType":"Patient","id":"` + created.ID + `","name":[{"family":"Tester","given":["Ava","Marie"]}],"gender":"female","birthDate":"1980-01-01"}`)
	v2, outcome, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: created.ID, Body: upd, IfMatch: 1})
	require.NoError(t, err)
	assert.Equal(t, emr.Updated, outcome)
	assert.Equal(t, int64(2), v2.VersionID)

	_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: created.ID, Body: upd, IfMatch: 1})
	assert.ErrorIs(t, err, emr.ErrVersionMismatch, "a stale If-Match is rejected")

	old, err := svc.VRead(ctx, "Patient", created.ID, 1)
	require.NoError(t, err)
	assert.Equal(t, string(created.Body), string(old.Body), "version 1 is never changed")

	_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "other-id", Body: upd})
	assert.ErrorIs(t, err, emr.ErrInvalid, "id in body must match the URL")

	put, outcome, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "client-chosen",
		Body: []byte(`{"resourceType":"Patient","gender":"male"}`)})
	require.NoError(t, err)
	assert.Equal(t, emr.Created, outcome, "update on a new id creates")
	assert.Equal(t, "client-chosen", put.ID)

	del, err := svc.Delete(ctx, "Patient", created.ID, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), del.VersionID)
	assert.True(t, del.Deleted)
	_, err = svc.Read(ctx, "Patient", created.ID)
	assert.ErrorIs(t, err, emr.ErrGone)
	again, err := svc.Delete(ctx, "Patient", created.ID, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), again.VersionID, "deleting twice adds no version")
	v2again, err := svc.VRead(ctx, "Patient", created.ID, 2)
	require.NoError(t, err)
	assert.Equal(t, string(v2.Body), string(v2again.Body), "history survives deletion")

	_, err = svc.Read(ctx, "Patient", "does-not-exist")
	assert.ErrorIs(t, err, emr.ErrNotFound)
	_, err = svc.Read(ctx, "NoSuchType", "x")
	assert.ErrorIs(t, err, emr.ErrNotFound)
	_, err = svc.VRead(ctx, "Patient", created.ID, 9)
	assert.ErrorIs(t, err, emr.ErrNotFound)

	t.Run("invalid input names the path and no value", func(t *testing.T) {
		bad := `{"resourceType":"Patient","name":[{"family":"Zzsecretname"}],"birthDate":"1980-13-45","identifier":[{"system":"urn:mrn","value":"MRN-SECRET-77"}]}`
		_, err := svc.Create(ctx, "Patient", []byte(bad))
		require.Error(t, err)
		var ve *emr.ValidationError
		require.True(t, errors.As(err, &ve))
		assert.Equal(t, "Patient.birthDate", ve.Issues[0].Path)
		assert.NotContains(t, err.Error(), "Zzsecretname")
		assert.NotContains(t, err.Error(), "MRN-SECRET-77")
		assert.NotContains(t, err.Error(), "1980-13-45")
	})
	t.Run("invalid inputs", func(t *testing.T) {
		cases := []struct {
			name string
			body string
		}{
			{name: "not json", body: `{"resourceType":`},
			{name: "array", body: `[1,2]`},
			{name: "unknown element", body: `{"resourceType":"Patient","colour":"blue"}`},
			{name: "wrong type", body: `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`},
			{name: "missing required", body: `{"resourceType":"Patient","link":[{"type":"seealso"}]}`},
			{name: "bad code", body: `{"resourceType":"Patient","gender":"unknown-value"}`},
			{name: "trailing data", body: `{"resourceType":"Patient"} {}`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := svc.Create(ctx, "Patient", []byte(tc.body))
				assert.ErrorIs(t, err, emr.ErrInvalid)
			})
		}
	})
}

func testUnknownElements(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	cases := []struct {
		name string
		body string
		path string
	}{
		{name: "top level", body: `{"resourceType":"Patient","colour":"blue"}`, path: "Patient.colour"},
		{name: "nested", body: `{"resourceType":"Patient","name":[{"family":"A"},{"family":"B","nickname":"b"}]}`, path: "Patient.name[1].nickname"},
		{name: "data as key", body: `{"resourceType":"Patient","Zz Secret Name":"x"}`, path: "Patient"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Create(ctxFor("test"), "Patient", []byte(tc.body))
			var ve *emr.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			assert.Equal(t, tc.path, ve.Issues[0].Path)
			assert.NotContains(t, err.Error(), "Secret")
		})
	}
}

func testUnchangedUpdate(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/alice")
	svc := newService(t, newStore)
	body := []byte(`{"resourceType":"Organization","id":"same","name":"Same Clinic"}`)
	first, outcome, err := svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: "same", Body: body})
	require.NoError(t, err)
	assert.Equal(t, emr.Created, outcome)
	again, outcome, err := svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: "same", Body: body})
	require.NoError(t, err)
	assert.Equal(t, emr.Unchanged, outcome, "an update that changes nothing makes no version")
	assert.Equal(t, first.VersionID, again.VersionID)
	_, _, err = svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: "same", Body: body, IfMatch: 7})
	assert.ErrorIs(t, err, emr.ErrVersionMismatch, "If-Match is checked first")
}

// testTakenID checks a create whose new id is already taken, as when
// Config.NewID repeats itself: it fails with ErrConflict, because a create
// does not read before it writes, and the stored resource stays as it was.
func testTakenID(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/alice")
	svc, err := emr.NewService(newStore(t), emr.Config{NewID: func() string { return "same-id" }})
	require.NoError(t, err)

	first, err := svc.Create(ctx, "Patient", []byte(patientJSON))
	require.NoError(t, err)
	require.Equal(t, "same-id", first.ID)

	_, err = svc.Create(ctx, "Patient", []byte(`{"resourceType":"Patient","gender":"male"}`))
	require.ErrorIs(t, err, emr.ErrConflict)

	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"POST","url":"Patient"}}]}`
	_, err = svc.ProcessBundle(ctx, []byte(bundle))
	require.ErrorIs(t, err, emr.ErrConflict)

	stored, err := svc.Read(ctx, "Patient", "same-id")
	require.NoError(t, err)
	assert.Equal(t, string(first.Body), string(stored.Body), "the first create stays current")
	assert.Equal(t, int64(1), stored.VersionID)
}

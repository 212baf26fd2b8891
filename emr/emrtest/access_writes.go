package emrtest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

const (
	observationOfA = `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/pa"}}`
	observationOfB = `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/pb"}}`
)

func testAccessWrites(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	seedCompartments(t, svc)
	all := ctxFor("user/admin")
	onlyA := onlyPatientA()

	// unchangedB checks that pb's Observation ob is still version 1.
	unchangedB := func(t *testing.T) {
		t.Helper()
		r, err := svc.Read(all, "Observation", "ob")
		require.NoError(t, err)
		assert.Equal(t, int64(1), r.VersionID)
	}

	t.Run("create in own compartment", func(t *testing.T) {
		_, err := svc.Create(onlyA, "Observation", []byte(observationOfA))
		assert.NoError(t, err)
	})
	t.Run("create in other compartment", func(t *testing.T) {
		_, err := svc.Create(onlyA, "Observation", []byte(observationOfB))
		assert.ErrorIs(t, err, emr.ErrForbidden)
		assert.Equal(t, 403, emr.StatusFor(err))
	})
	t.Run("create in no compartment", func(t *testing.T) {
		_, err := svc.Create(onlyA, "Observation", []byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"}}`))
		assert.ErrorIs(t, err, emr.ErrForbidden)
	})
	t.Run("create outside the compartment types", func(t *testing.T) {
		_, err := svc.Create(onlyA, "Organization", []byte(`{"resourceType":"Organization","name":"Other Clinic"}`))
		assert.NoError(t, err)
	})
	t.Run("create patient", func(t *testing.T) {
		_, err := svc.Create(onlyA, "Patient", []byte(`{"resourceType":"Patient"}`))
		assert.ErrorIs(t, err, emr.ErrForbidden)
		_, err = svc.RegisterPatient(onlyA, emr.RegisterParams{Patient: []byte(`{"resourceType":"Patient"}`)})
		assert.ErrorIs(t, err, emr.ErrForbidden)
		_, err = svc.Create(emr.ContextWithAccess(all, &emr.Access{AllPatients: true}), "Patient", []byte(`{"resourceType":"Patient"}`))
		assert.NoError(t, err)
	})
	t.Run("update own patient", func(t *testing.T) {
		_, _, err := svc.Update(onlyA, emr.UpdateParams{Type: "Patient", ID: "pa", Body: []byte(`{"resourceType":"Patient","active":true}`)})
		assert.NoError(t, err)
	})
	t.Run("update hidden resource", func(t *testing.T) {
		_, _, err := svc.Update(onlyA, emr.UpdateParams{Type: "Observation", ID: "ob", Body: []byte(observationOfA)})
		assert.ErrorIs(t, err, emr.ErrNotFound)
		_, _, err = svc.Update(onlyA, emr.UpdateParams{Type: "Patient", ID: "pb", Body: []byte(`{"resourceType":"Patient"}`)})
		assert.ErrorIs(t, err, emr.ErrNotFound)
		unchangedB(t)
	})
	t.Run("move into other compartment", func(t *testing.T) {
		_, _, err := svc.Update(onlyA, emr.UpdateParams{Type: "Observation", ID: "oa", Body: []byte(observationOfB)})
		assert.ErrorIs(t, err, emr.ErrForbidden)
	})
	t.Run("patch", func(t *testing.T) {
		patch := []byte(`[{"op":"replace","path":"/status","value":"amended"}]`)
		_, err := svc.Patch(onlyA, emr.PatchParams{Type: "Observation", ID: "ob", JSONPatch: patch})
		assert.ErrorIs(t, err, emr.ErrNotFound)
		toB := []byte(`[{"op":"replace","path":"/subject/reference","value":"Patient/pb"}]`)
		_, err = svc.Patch(onlyA, emr.PatchParams{Type: "Observation", ID: "oa", JSONPatch: toB})
		assert.ErrorIs(t, err, emr.ErrForbidden)
		unchangedB(t)
	})
	t.Run("delete", func(t *testing.T) {
		_, err := svc.Delete(onlyA, "Observation", "ob", 0)
		assert.ErrorIs(t, err, emr.ErrNotFound)
		unchangedB(t)
	})
	t.Run("conditional", func(t *testing.T) {
		res, outcome, err := svc.ConditionalCreate(onlyA, "Observation", []byte(observationOfA), "code="+codeB)
		require.NoError(t, err)
		assert.Equal(t, emr.Created, outcome, "the hidden match does not count")
		assert.NotEqual(t, "ob", res.ID)
		_, outcome, err = svc.ConditionalUpdate(onlyA, "Observation", "_id=ob", []byte(observationOfA))
		require.NoError(t, err)
		assert.Equal(t, emr.Created, outcome)
		deleted, err := svc.ConditionalDelete(onlyA, "Condition", "subject=Patient/pb")
		require.NoError(t, err)
		assert.Nil(t, deleted)
		_, err = svc.Read(all, "Condition", "cb")
		assert.NoError(t, err)
		unchangedB(t)
	})
	t.Run("transaction entries", func(t *testing.T) {
		get := `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Observation/ob"}}]}`
		_, err := svc.ProcessBundle(onlyA, []byte(get))
		assert.ErrorIs(t, err, emr.ErrNotFound)
		post := `{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":` + observationOfA + `,"request":{"method":"POST","url":"Observation"}},
			{"resource":` + observationOfB + `,"request":{"method":"POST","url":"Observation"}}]}`
		_, err = svc.ProcessBundle(onlyA, []byte(post))
		assert.ErrorIs(t, err, emr.ErrForbidden)
		var entryErr *emr.EntryError
		require.ErrorAs(t, err, &entryErr)
		assert.Equal(t, 1, entryErr.Index)
	})
	t.Run("batch entries", func(t *testing.T) {
		batch := `{"resourceType":"Bundle","type":"batch","entry":[
			{"request":{"method":"GET","url":"Observation/ob"}},
			{"request":{"method":"GET","url":"Observation/oa"}},
			{"resource":` + observationOfA + `,"request":{"method":"PUT","url":"Observation/ob"}},
			{"resource":` + observationOfB + `,"request":{"method":"POST","url":"Observation"}},
			{"request":{"method":"DELETE","url":"Condition/cb"}},
			{"request":{"method":"GET","url":"Observation/ob/_history/1"}}]}`
		resp, err := svc.ProcessBundle(onlyA, []byte(batch))
		require.NoError(t, err)
		var statuses []int
		for _, e := range resp.Entries {
			statuses = append(statuses, e.Status)
		}
		// A DELETE of a resource the caller cannot read returns 204, as for
		// one that does not exist.
		assert.Equal(t, []int{404, 200, 404, 403, 204, 404}, statuses)
		_, err = svc.Read(all, "Condition", "cb")
		assert.NoError(t, err)
		unchangedB(t)
	})
	t.Run("import", func(t *testing.T) {
		_, err := svc.ImportResources(onlyA, [][]byte{[]byte(observationOfA), []byte(observationOfB)})
		assert.ErrorIs(t, err, emr.ErrForbidden)
	})
}

// testWriteEvents checks that every write leaves an outbox event naming
// the compartments of the version and no values of the resource.
func testWriteEvents(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	ctx := ctxFor("user/writer")
	put(t, svc, "Patient", "pa", `{"resourceType":"Patient","name":[{"family":"Alpha"}]}`)
	obs, err := svc.Create(ctx, "Observation", []byte(observationOfA))
	require.NoError(t, err)
	_, err = svc.Patch(ctx, emr.PatchParams{Type: "Observation", ID: obs.ID,
		JSONPatch: []byte(`[{"op":"replace","path":"/status","value":"amended"}]`)})
	require.NoError(t, err)
	_, err = svc.Delete(ctx, "Observation", obs.ID, 0)
	require.NoError(t, err)
	put(t, svc, "Organization", "org", `{"resourceType":"Organization","name":"Test Clinic"}`)
	_, err = svc.ProcessBundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
		{"resource":`+observationOfA+`,"request":{"method":"POST","url":"Observation"}}]}`))
	require.NoError(t, err)
	_, err = svc.ImportResources(ctx, [][]byte{[]byte(`{"resourceType":"Observation","id":"imp","status":"final",
		"code":{"text":"x"},"subject":{"reference":"Patient/pa"}}`)})
	require.NoError(t, err)

	events, err := svc.Events(ctx, 0, 100)
	require.NoError(t, err)
	type row struct {
		Topic, Type, Method string
		Version             int64
		Patients            []string
	}
	var got []row
	for _, e := range events {
		var data struct {
			Method   string   `json:"method"`
			Patients []string `json:"patients"`
		}
		require.NoError(t, json.Unmarshal(e.Data, &data))
		assert.NotContains(t, string(e.Data), "Alpha")
		assert.False(t, e.Time.IsZero())
		if e.Type == "Observation" {
			assert.Equal(t, "user/writer", e.Author)
		}
		got = append(got, row{Topic: e.Topic, Type: e.Type, Method: data.Method, Version: e.Version, Patients: data.Patients})
	}
	pa := []string{"pa"}
	assert.Equal(t, []row{
		{Topic: "emr.resource.created", Type: "Patient", Method: "update", Version: 1, Patients: pa},
		{Topic: "emr.resource.created", Type: "Observation", Method: "create", Version: 1, Patients: pa},
		{Topic: "emr.resource.updated", Type: "Observation", Method: "update", Version: 2, Patients: pa},
		{Topic: "emr.resource.deleted", Type: "Observation", Method: "delete", Version: 3, Patients: pa},
		{Topic: "emr.resource.created", Type: "Organization", Method: "update", Version: 1, Patients: []string{}},
		{Topic: "emr.resource.created", Type: "Observation", Method: "create", Version: 1, Patients: pa},
		{Topic: "emr.resource.created", Type: "Observation", Method: "update", Version: 1, Patients: pa},
	}, got)
}

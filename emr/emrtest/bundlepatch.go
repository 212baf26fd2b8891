package emrtest

import (
	"encoding/base64"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

// binaryPatch returns a Binary resource carrying a JSON Patch, as a PATCH
// bundle entry sends it.
func binaryPatch(patch string) string {
	return `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` +
		base64.StdEncoding.EncodeToString([]byte(patch)) + `"}`
}

func bundleOf(kind string, entries ...string) []byte {
	body := `{"resourceType":"Bundle","type":"` + kind + `","entry":[`
	for i, e := range entries {
		if i > 0 {
			body += ","
		}
		body += e
	}
	return []byte(body + `]}`)
}

func patchEntry(url, resource, ifMatch string) string {
	request := `{"method":"PATCH","url":"` + url + `"`
	if ifMatch != "" {
		request += `,"ifMatch":` + strconv.Quote(ifMatch)
	}
	return `{"resource":` + resource + `,"request":` + request + `}}`
}

func readVersion(t *testing.T, svc *emr.Service, typ, id string) (int64, map[string]any) {
	t.Helper()
	res, err := svc.Read(ctxFor("test"), typ, id)
	require.NoError(t, err)
	return res.VersionID, object(t, res.Body)
}

func testBundlePatch(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/clerk")
	svc := newService(t, newStore)
	put(t, svc, "Patient", "bp-1", `{"resourceType":"Patient","gender":"male","birthDate":"1970-01-01"}`)
	put(t, svc, "Observation", "bo-1", `{"resourceType":"Observation","status":"preliminary","code":{"text":"hr"}}`)
	put(t, svc, "Observation", "bo-del", `{"resourceType":"Observation","status":"final","code":{"text":"hr"}}`)

	fhirPathFinal := `{"resourceType":"Parameters","parameter":[
		{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.status"},{"name":"value","valueCode":"final"}]}]}`
	fhirPathStatus := `{"resourceType":"Parameters","parameter":[
		{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.status"},{"name":"value","valueCode":"final"}]},
		{"name":"operation","part":[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Observation"},{"name":"name","valueString":"subject"},
		  {"name":"value","valueReference":{"reference":"urn:uuid:00000000-0000-4000-8000-00000000b001"}}]}]}`

	t.Run("transaction in processing order", func(t *testing.T) {
		body := bundleOf("transaction",
			// The GET is listed first but runs last, so it reads the
			// patched version.
			`{"request":{"method":"GET","url":"Patient/bp-1"}}`,
			patchEntry("Patient/bp-1", binaryPatch(`[{"op":"replace","path":"/birthDate","value":"1971-02-03"}]`), `W/"1"`),
			patchEntry("Observation/bo-1", fhirPathStatus, ""),
			`{"fullUrl":"urn:uuid:00000000-0000-4000-8000-00000000b001","resource":{"resourceType":"Patient","gender":"female"},"request":{"method":"POST","url":"Patient"}}`,
			`{"request":{"method":"DELETE","url":"Observation/bo-del"}}`,
		)
		resp, err := svc.ProcessBundle(ctx, body)
		require.NoError(t, err)
		require.Len(t, resp.Entries, 5)
		assert.Equal(t, 200, resp.Entries[0].Status)
		assert.Equal(t, 200, resp.Entries[1].Status)
		assert.Equal(t, 200, resp.Entries[2].Status)
		assert.Equal(t, 201, resp.Entries[3].Status)
		assert.Equal(t, 204, resp.Entries[4].Status)

		require.NotNil(t, resp.Entries[0].Resource)
		assert.Equal(t, "1971-02-03", object(t, resp.Entries[0].Resource.Body)["birthDate"], "GET runs after PATCH")
		require.NotNil(t, resp.Entries[1].Resource)
		assert.Equal(t, int64(2), resp.Entries[1].Resource.VersionID)
		assert.Equal(t, "Patient/bp-1/_history/2", resp.Entries[1].Location)

		_, obs := readVersion(t, svc, "Observation", "bo-1")
		assert.Equal(t, "final", obs["status"])
		created := resp.Entries[3].Resource
		require.NotNil(t, created)
		assert.Equal(t, map[string]any{"reference": "Patient/" + created.ID}, obs["subject"], "fullUrl in a patch value resolved")
		_, err = svc.Read(ctxFor("test"), "Observation", "bo-del")
		assert.ErrorIs(t, err, emr.ErrGone)
	})

	t.Run("transaction is atomic", func(t *testing.T) {
		before, _ := readVersion(t, svc, "Patient", "bp-1")
		body := bundleOf("transaction",
			patchEntry("Patient/bp-1", binaryPatch(`[{"op":"replace","path":"/gender","value":"other"}]`), ""),
			patchEntry("Observation/bo-1", binaryPatch(`[{"op":"test","path":"/status","value":"preliminary"}]`), ""),
		)
		_, err := svc.ProcessBundle(ctx, body)
		require.Error(t, err)
		var ee *emr.EntryError
		require.True(t, errors.As(err, &ee), "%v", err)
		assert.Equal(t, 1, ee.Index)
		assert.Equal(t, 412, emr.StatusFor(err))
		after, patient := readVersion(t, svc, "Patient", "bp-1")
		assert.Equal(t, before, after, "nothing stored")
		assert.Equal(t, "male", patient["gender"])
	})

	t.Run("transaction if-match", func(t *testing.T) {
		body := bundleOf("transaction",
			patchEntry("Patient/bp-1", binaryPatch(`[{"op":"replace","path":"/gender","value":"other"}]`), `W/"1"`))
		_, err := svc.ProcessBundle(ctx, body)
		require.Error(t, err)
		assert.Equal(t, 412, emr.StatusFor(err))
	})

	t.Run("batch entries fail alone", func(t *testing.T) {
		version, _ := readVersion(t, svc, "Patient", "bp-1")
		body := bundleOf("batch",
			patchEntry("Patient/bp-1", binaryPatch(`[{"op":"replace","path":"/gender","value":"other"}]`), `W/"1"`),
			patchEntry("Patient/bp-1", binaryPatch(`[{"op":"replace","path":"/gender","value":"unknown"}]`), etagOf(version)),
			patchEntry("Patient/bp-missing", binaryPatch(`[{"op":"replace","path":"/gender","value":"other"}]`), ""),
			patchEntry("Observation/bo-1", binaryPatch(`[{"op":"replace","path":"/nothing/here","value":"x"}]`), ""),
			patchEntry("Observation/bo-del", fhirPathFinal, ""),
			patchEntry("Observation/bo-1", fhirPathStatus, ""),
		)
		resp, err := svc.ProcessBundle(ctx, body)
		require.NoError(t, err)
		require.Len(t, resp.Entries, 6)
		assert.Equal(t, 412, resp.Entries[0].Status, "stale ifMatch")
		assert.Equal(t, 200, resp.Entries[1].Status)
		assert.Equal(t, 404, resp.Entries[2].Status)
		assert.Equal(t, 422, resp.Entries[3].Status)
		assert.Equal(t, 410, resp.Entries[4].Status)
		assert.Equal(t, 422, resp.Entries[5].Status, "a batch has no fullUrls of other entries")
		_, patient := readVersion(t, svc, "Patient", "bp-1")
		assert.Equal(t, "unknown", patient["gender"])
	})

	t.Run("malformed patch entries", func(t *testing.T) {
		cases := []struct {
			name  string
			entry string
		}{
			{name: "no resource", entry: `{"request":{"method":"PATCH","url":"Patient/bp-1"}}`},
			{name: "other content type", entry: patchEntry("Patient/bp-1",
				`{"resourceType":"Binary","contentType":"application/json","data":"W10="}`, "")},
			{name: "data not base64", entry: patchEntry("Patient/bp-1",
				`{"resourceType":"Binary","contentType":"application/json-patch+json","data":"%%%"}`, "")},
			{name: "data not a patch", entry: patchEntry("Patient/bp-1", binaryPatch(`{"op":"add"}`), "")},
			{name: "parameters not a patch", entry: patchEntry("Patient/bp-1",
				`{"resourceType":"Parameters","parameter":[{"name":"other","valueString":"x"}]}`, "")},
			{name: "other resource", entry: patchEntry("Patient/bp-1", `{"resourceType":"Patient"}`, "")},
			{name: "conditional patch", entry: patchEntry("Patient?gender=male", binaryPatch(`[]`), "")},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp, err := svc.ProcessBundle(ctx, bundleOf("batch", tc.entry))
				require.NoError(t, err)
				require.Len(t, resp.Entries, 1)
				assert.Equal(t, 400, resp.Entries[0].Status, "%v", resp.Entries[0].Err)

				_, err = svc.ProcessBundle(ctx, bundleOf("transaction", tc.entry))
				assert.Equal(t, 400, emr.StatusFor(err), "%v", err)
			})
		}
	})

	t.Run("same resource twice", func(t *testing.T) {
		body := bundleOf("transaction",
			patchEntry("Patient/bp-1", binaryPatch(`[{"op":"replace","path":"/gender","value":"other"}]`), ""),
			`{"resource":{"resourceType":"Patient","id":"bp-1"},"request":{"method":"PUT","url":"Patient/bp-1"}}`)
		_, err := svc.ProcessBundle(ctx, body)
		assert.Equal(t, 400, emr.StatusFor(err), "%v", err)
	})
}

func etagOf(version int64) string {
	return `W/"` + strconv.FormatInt(version, 10) + `"`
}

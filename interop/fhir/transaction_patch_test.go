package fhir_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransactionPatchEntries(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	patient := s.create("Patient", `{"resourceType":"Patient","gender":"male"}`)
	obs := s.create("Observation", `{"resourceType":"Observation","status":"preliminary","code":{"text":"hr"}}`)
	jsonPatch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/gender","value":"female"}]`))
	body := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + jsonPatch + `"},
	  "request":{"method":"PATCH","url":"Patient/` + patient + `","ifMatch":"W/\"1\""}},
	 {"resource":{"resourceType":"Parameters","parameter":[{"name":"operation","part":[
	   {"name":"type","valueCode":"replace"},{"name":"path","valueString":"Observation.status"},{"name":"value","valueCode":"final"}]}]},
	  "request":{"method":"PATCH","url":"Observation/` + obs + `"}}]}`
	resp := s.do(http.MethodPost, "/", body, "Prefer", "return=representation")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	list := entries(t, resp.json(t))
	require.Len(t, list, 2)
	assert.Equal(t, "200 OK", at(list[0], "response", "status"))
	assert.Equal(t, `W/"2"`, at(list[0], "response", "etag"))
	assert.Equal(t, "female", at(list[0], "resource", "gender"))
	assert.Equal(t, "final", at(list[1], "resource", "status"))

	stale := s.do(http.MethodPost, "/", body)
	assert.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)
	assert.Equal(t, "Bundle.entry[0]", at(stale.json(t), "issue", 0, "expression", 0))
}

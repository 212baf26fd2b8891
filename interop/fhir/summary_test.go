package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSearchSummaryText(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name    string
		typ     string
		body    string
		kept    []string
		dropped []string
	}{
		{name: "patient has no mandatory elements", typ: "Patient",
			body:    `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Ada</div>"},"gender":"female","birthDate":"1980-02-03"}`,
			kept:    []string{"resourceType", "id", "meta", "text"},
			dropped: []string{"gender", "birthDate"}},
		{name: "observation keeps status and code", typ: "Observation",
			body:    `{"resourceType":"Observation","status":"final","code":{"text":"weight"},"valueQuantity":{"value":70},"note":[{"text":"n"}]}`,
			kept:    []string{"status", "code"},
			dropped: []string{"valueQuantity", "note"}},
		{name: "encounter keeps status and class", typ: "Encounter",
			body:    `{"resourceType":"Encounter","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"priority":{"text":"p"}}`,
			kept:    []string{"status", "class"},
			dropped: []string{"priority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := s.create(tt.typ, tt.body)
			resp := s.do(http.MethodGet, "/"+tt.typ+"?_id="+id+"&_summary=text", "")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			list := entries(t, resp.json(t))
			require.Len(t, list, 1)
			res, _ := list[0]["resource"].(map[string]any)
			for _, name := range tt.kept {
				assert.Contains(t, res, name)
			}
			for _, name := range tt.dropped {
				assert.NotContains(t, res, name)
			}
			assert.Equal(t, "SUBSETTED", at(res, "meta", "tag", 0, "code"))
		})
	}
}

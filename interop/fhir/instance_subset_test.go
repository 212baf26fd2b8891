package fhir_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstanceSubsets(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const body = `{"resourceType":"Observation","status":"final","code":{"text":"weight"},` +
		`"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">70 kg</div>"},` +
		`"valueQuantity":{"value":70},"note":[{"text":"n"}]}`
	id := s.create("Observation", body)
	changed := strings.Replace(body, `"text":"n"`, `"text":"m"`, 1)
	update := s.do(http.MethodPut, "/Observation/"+id, withID(id, changed))
	require.Equal(t, http.StatusOK, update.status, "%s", update.body)
	paths := map[string]string{
		"read":    "/Observation/" + id,
		"vread":   "/Observation/" + id + "/_history/1",
		"history": "/Observation/" + id + "/_history",
	}
	tests := []struct {
		name    string
		query   string
		kept    []string
		dropped []string
	}{
		{name: "elements", query: "_elements=status,note",
			kept: []string{"resourceType", "id", "meta", "status", "note"}, dropped: []string{"code", "valueQuantity", "text"}},
		{name: "summary text", query: "_summary=text",
			kept: []string{"text", "status", "code"}, dropped: []string{"valueQuantity", "note"}},
		{name: "summary data", query: "_summary=data",
			kept: []string{"status", "code", "valueQuantity", "note"}, dropped: []string{"text"}},
	}
	for interaction, path := range paths {
		for _, tt := range tests {
			t.Run(interaction+" "+tt.name, func(t *testing.T) {
				resp := s.do(http.MethodGet, path+"?"+tt.query, "")
				require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
				resources := []map[string]any{resp.json(t)}
				if interaction == "history" {
					resources = nil
					for _, e := range entries(t, resp.json(t)) {
						res, _ := e["resource"].(map[string]any)
						resources = append(resources, res)
					}
					require.Len(t, resources, 2)
				}
				for _, res := range resources {
					for _, name := range tt.kept {
						assert.Contains(t, res, name)
					}
					for _, name := range tt.dropped {
						assert.NotContains(t, res, name)
					}
					assert.Equal(t, "SUBSETTED", at(res, "meta", "tag", 0, "code"))
				}
			})
		}
		t.Run(interaction+" summary false", func(t *testing.T) {
			resp := s.do(http.MethodGet, path+"?_summary=false", "")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			assert.NotContains(t, string(resp.body), "SUBSETTED")
			assert.Contains(t, string(resp.body), "valueQuantity")
		})
		for _, query := range []string{"_summary=true", "_summary=count", "_summary=everything", "_elements=code.text"} {
			t.Run(interaction+" rejects "+query, func(t *testing.T) {
				resp := s.do(http.MethodGet, path+"?"+query, "")
				require.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
				assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])
			})
		}
	}
	t.Run("deleted version in history", func(t *testing.T) {
		require.Equal(t, http.StatusOK, s.do(http.MethodDelete, "/Observation/"+id, "").status)
		resp := s.do(http.MethodGet, "/Observation/"+id+"/_history?_elements=status", "")
		require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
		list := entries(t, resp.json(t))
		require.Len(t, list, 3)
		assert.NotContains(t, list[0], "resource")
		assert.Equal(t, "SUBSETTED", at(list[1], "resource", "meta", "tag", 0, "code"))
	})
	t.Run("summary true in search", func(t *testing.T) {
		resp := s.do(http.MethodGet, "/Observation?_summary=true", "")
		require.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
		assert.Equal(t, "not-supported", issue(t, resp.json(t))["code"])
		assert.Contains(t, issue(t, resp.json(t))["diagnostics"], "isSummary")
	})
}

package fhir_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/interop/fhir"
)

func TestInstanceHistory(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	require.Equal(t, http.StatusOK, s.do(http.MethodPut, "/Patient/"+id, withID(id, `{"resourceType":"Patient","active":true}`)).status)
	require.Equal(t, http.StatusOK, s.do(http.MethodDelete, "/Patient/"+id, "").status)

	resp := s.do(http.MethodGet, "/Patient/"+id+"/_history", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	assert.Equal(t, "history", b["type"])
	list := entries(t, b)
	require.Len(t, list, 3)

	deletion := list[0]
	assert.Equal(t, s.base+"/Patient/"+id, deletion["fullUrl"])
	assert.Nil(t, deletion["resource"], "a deletion has no resource")
	assert.Equal(t, "DELETE", at(deletion, "request", "method"))
	assert.Equal(t, "Patient/"+id, at(deletion, "request", "url"))
	assert.Equal(t, "410 Gone", at(deletion, "response", "status"))
	assert.Equal(t, `W/"3"`, at(deletion, "response", "etag"))

	update := list[1]
	assert.Equal(t, "PUT", at(update, "request", "method"))
	assert.Equal(t, "Patient/"+id, at(update, "request", "url"))
	assert.Equal(t, "200 OK", at(update, "response", "status"))
	assert.Equal(t, true, at(update, "resource", "active"))
	assert.Equal(t, "2", at(update, "resource", "meta", "versionId"))

	create := list[2]
	assert.Equal(t, "POST", at(create, "request", "method"))
	assert.Equal(t, "Patient", at(create, "request", "url"))
	assert.Equal(t, "201 Created", at(create, "response", "status"))
	assert.Equal(t, "Patient/"+id+"/_history/1", at(create, "response", "location"))
	lastModified, _ := at(create, "response", "lastModified").(string)
	_, err := time.Parse(time.RFC3339, lastModified)
	assert.NoError(t, err)

	assert.Equal(t, s.base+"/Patient/"+id+"/_history", link(b, "self"))
}

func TestHistoryLevels(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	patient := s.create("Patient", patientBody)
	s.create("Organization", `{"resourceType":"Organization","name":"Clinic"}`)
	tests := []struct {
		name  string
		path  string
		count int
	}{
		{name: "type", path: "/Patient/_history", count: 1},
		{name: "system", path: "/_history", count: 2},
		{name: "instance", path: "/Patient/" + patient + "/_history", count: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tt.path, "")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			assert.Len(t, entries(t, resp.json(t)), tt.count)
		})
	}
}

func TestHistoryPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	// Each update changes the content, because an update that changes
	// nothing makes no version.
	for i := range 4 {
		body := fmt.Sprintf(`{"resourceType":"Patient","birthDate":"19%02d-01-01"}`, 50+i)
		resp := s.do(http.MethodPut, "/Patient/"+id, withID(id, body))
		require.Equal(t, http.StatusOK, resp.status)
	}
	var versions []any
	target := "/Patient/" + id + "/_history?_count=2"
	for pages := 0; target != ""; pages++ {
		require.Less(t, pages, 5, "paging does not end")
		resp := s.do(http.MethodGet, target, "")
		require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
		b := resp.json(t)
		for _, e := range entries(t, b) {
			versions = append(versions, at(e, "resource", "meta", "versionId"))
		}
		target = ""
		if next := link(b, "next"); next != "" {
			assert.Contains(t, next, "_count=2")
			u, err := url.Parse(next)
			require.NoError(t, err)
			target = "/Patient/" + id + "/_history?" + u.RawQuery
		}
	}
	assert.Equal(t, []any{"5", "4", "3", "2", "1"}, versions)
}

func TestHistorySince(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s := newServer(t)
	id := s.create("Patient", patientBody)
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))

	resp := s.do(http.MethodGet, "/Patient/"+id+"/_history?_since="+future, "")
	require.Equal(t, http.StatusOK, resp.status, "an existing resource with nothing new: %s", resp.body)
	assert.Empty(t, entries(t, resp.json(t)))

	past := url.QueryEscape(now.Format(time.RFC3339))
	resp = s.do(http.MethodGet, "/_history?_since="+past, "")
	require.Equal(t, http.StatusOK, resp.status)
	assert.Len(t, entries(t, resp.json(t)), 1)
}

func TestHistoryErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{name: "unknown resource", path: "/Patient/never-made/_history", status: http.StatusNotFound},
		{name: "bad count", path: "/_history?_count=0", status: http.StatusBadRequest},
		{name: "bad since", path: "/_history?_since=yesterday", status: http.StatusBadRequest},
		{name: "bad cursor", path: "/_history?_cursor=x", status: http.StatusBadRequest},
		{name: "at", path: "/Patient/" + id + "/_history?_at=2024", status: http.StatusBadRequest},
		{name: "unknown parameter", path: "/Patient/_history?family=x", status: http.StatusBadRequest},
		{name: "unknown type", path: "/Patientt/_history", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tt.path, "")
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			assert.Equal(t, "error", issue(t, resp.json(t))["severity"])
		})
	}
}

func TestCapabilityStatement(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *fhir.Config) {
		c.SoftwareName, c.SoftwareVersion = "Nexus Test", "1.2.3"
	})
	resp := s.do(http.MethodGet, "/metadata", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	cs := resp.json(t)
	assert.Equal(t, "CapabilityStatement", cs["resourceType"])
	assert.Equal(t, "4.0.1", cs["fhirVersion"])
	assert.Contains(t, cs["format"], "json")
	assert.Equal(t, "Nexus Test", at(cs, "software", "name"))
	assert.Equal(t, "1.2.3", at(cs, "software", "version"))
	assert.Equal(t, s.base, at(cs, "implementation", "url"))
	assert.Equal(t, "server", at(cs, "rest", 0, "mode"))

	var system []string
	for _, i := range at(cs, "rest", 0, "interaction").([]any) {
		system = append(system, at(i, "code").(string))
	}
	assert.ElementsMatch(t, []string{"transaction", "batch", "history-system"}, system)

	resources := at(cs, "rest", 0, "resource").([]any)
	assert.Len(t, resources, 146)
	var patient map[string]any
	for _, r := range resources {
		if at(r, "type") == "Patient" {
			patient = r.(map[string]any)
		}
	}
	require.NotNil(t, patient)
	var interactions []string
	for _, i := range patient["interaction"].([]any) {
		interactions = append(interactions, at(i, "code").(string))
	}
	assert.ElementsMatch(t, []string{"read", "vread", "update", "patch", "delete", "history-instance",
		"history-type", "create", "search-type"}, interactions)
	assert.Equal(t, true, patient["conditionalCreate"])
	assert.Equal(t, true, patient["conditionalUpdate"])
	assert.Equal(t, "single", patient["conditionalDelete"])
	assert.Equal(t, "full-support", patient["conditionalRead"])
	assert.Equal(t, "validate", at(patient, "operation", 0, "name"))
	assert.Equal(t, "http://hl7.org/fhir/OperationDefinition/Resource-validate", at(patient, "operation", 0, "definition"))
	assert.Contains(t, patient["searchInclude"], "Patient:general-practitioner")
	assert.Contains(t, patient["searchRevInclude"], "Observation:subject")
	assert.Contains(t, patient["searchRevInclude"], "Encounter:patient")
	params := map[string]string{}
	for _, p := range patient["searchParam"].([]any) {
		params[at(p, "name").(string)] = at(p, "type").(string)
	}
	assert.Equal(t, "string", params["family"])
	assert.Equal(t, "date", params["birthdate"])
	assert.Equal(t, "token", params["identifier"])
	assert.Equal(t, "token", params["_id"])
	assert.Equal(t, "date", params["_lastUpdated"])
	_, hasText := params["_text"]
	assert.False(t, hasText, "special parameters are not listed")

	bad := s.do(http.MethodGet, "/metadata?mode=terminology", "")
	assert.Equal(t, http.StatusBadRequest, bad.status)
	post := s.do(http.MethodPost, "/metadata", "{}")
	assert.Equal(t, http.StatusMethodNotAllowed, post.status)
}

// TestCapabilitySearchParamsWork runs one search with every parameter the
// CapabilityStatement lists, so it cannot list one that search rejects.
func TestCapabilitySearchParamsWork(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodGet, "/metadata", "")
	require.Equal(t, http.StatusOK, resp.status)
	values := map[string]string{
		"string": "a", "token": "a", "date": "2020", "reference": "Patient/1",
		"number": "1", "quantity": "1", "uri": "http://example.org/a",
	}
	checked, composites := 0, 0
	for _, r := range at(resp.json(t), "rest", 0, "resource").([]any) {
		typ := at(r, "type").(string)
		params, _ := at(r, "searchParam").([]any)
		for _, p := range params {
			name, kind := at(p, "name").(string), at(p, "type").(string)
			value, ok := values[kind]
			if kind == "composite" {
				value, ok = compositeValue(typ, name, values)
			}
			require.True(t, ok, "%s.%s has unexpected type %s", typ, name, kind)
			search := s.do(http.MethodGet, "/"+typ+"?"+name+"="+url.QueryEscape(value), "")
			if !assert.Equal(t, http.StatusOK, search.status, "%s?%s: %s", typ, name, search.body) {
				continue
			}
			checked++
			if kind == "composite" {
				composites++
			}
		}
	}
	assert.Greater(t, checked, 1000)
	assert.Greater(t, composites, 10, "composite parameters are listed")
}

func TestHistoryNextLinkKeepsSince(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for range 3 {
		s.create("Patient", patientBody)
	}
	resp := s.do(http.MethodGet, "/Patient/_history?_count=1&_since=2020-01-01T00:00:00Z", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	next := link(resp.json(t), "next")
	require.NotEmpty(t, next)
	assert.True(t, strings.HasPrefix(next, s.base+"/Patient/_history?"), next)
	assert.Contains(t, next, "_since=2020-01-01T00%3A00%3A00Z")
	assert.Contains(t, next, "_cursor=")
}

func TestHistoryUpdateCreate(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	created := s.do(http.MethodPut, "/Patient/put-made", `{"resourceType":"Patient","id":"put-made"}`)
	require.Equal(t, http.StatusCreated, created.status, "%s", created.body)
	updated := s.do(http.MethodPut, "/Patient/put-made", `{"resourceType":"Patient","id":"put-made","active":true}`)
	require.Equal(t, http.StatusOK, updated.status, "%s", updated.body)

	resp := s.do(http.MethodGet, "/Patient/put-made/_history", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	list := entries(t, resp.json(t))
	require.Len(t, list, 2)

	second := list[0]
	assert.Equal(t, "PUT", at(second, "request", "method"))
	assert.Equal(t, "Patient/put-made", at(second, "request", "url"))
	assert.Equal(t, "200 OK", at(second, "response", "status"))

	first := list[1]
	assert.Equal(t, "PUT", at(first, "request", "method"), "a version made by PUT is a PUT, version 1 too")
	assert.Equal(t, "Patient/put-made", at(first, "request", "url"))
	assert.Equal(t, "201 Created", at(first, "response", "status"))
	assert.Equal(t, "Patient/put-made/_history/1", at(first, "response", "location"))
	assert.Equal(t, "1", at(first, "resource", "meta", "versionId"))
}

// TestCapabilityIncludesWork runs one search with every _include and
// _revinclude value the CapabilityStatement lists, on a database where
// Patient/p1 is the subject of an Observation, so it cannot list one that
// search rejects.
func TestCapabilityIncludesWork(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	require.Equal(t, http.StatusCreated, s.do(http.MethodPut, "/Patient/p1", `{"resourceType":"Patient","id":"p1"}`).status)
	s.create("Observation", `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p1"}}`)

	resp := s.do(http.MethodGet, "/metadata", "")
	require.Equal(t, http.StatusOK, resp.status)
	checked := 0
	for _, r := range at(resp.json(t), "rest", 0, "resource").([]any) {
		typ := at(r, "type").(string)
		for _, param := range []string{"_include", "_revinclude"} {
			key := "searchInclude"
			if param == "_revinclude" {
				key = "searchRevInclude"
			}
			values, _ := at(r, key).([]any)
			for _, v := range values {
				query := param + "=" + url.QueryEscape(v.(string))
				search := s.do(http.MethodGet, "/"+typ+"?"+query, "")
				if assert.Equal(t, http.StatusOK, search.status, "%s?%s: %s", typ, query, search.body) {
					checked++
				}
			}
		}
	}
	assert.Greater(t, checked, 10000)

	included := s.do(http.MethodGet, "/Patient?_id=p1&_revinclude=Observation:subject", "")
	require.Equal(t, http.StatusOK, included.status, "%s", included.body)
	list := entries(t, included.json(t))
	require.Len(t, list, 2)
	assert.Equal(t, "include", at(list[1], "search", "mode"))
}

// compositeValue joins a value of each component type of a composite
// parameter with "$".
func compositeValue(typ, name string, values map[string]string) (string, bool) {
	types, ok := searchparam.R4().ComponentTypes(typ, name)
	if !ok {
		return "", false
	}
	parts := make([]string, len(types))
	for i, componentType := range types {
		if parts[i], ok = values[string(componentType)]; !ok {
			return "", false
		}
	}
	return strings.Join(parts, "$"), true
}

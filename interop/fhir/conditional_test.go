package fhir_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	orgIdentifier = `"identifier":[{"system":"http://example.org/org","value":"ORG-7"}]`
	orgBody       = `{"resourceType":"Organization",` + orgIdentifier + `,"name":"Clinic"}`
	orgCriteria   = "identifier=http://example.org/org|ORG-7"
)

func TestConditionalCreateStatuses(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	first := s.do(http.MethodPost, "/Organization", orgBody, "If-None-Exist", orgCriteria)
	require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
	id, _ := first.json(t)["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, `W/"1"`, first.header.Get("ETag"))
	assert.Equal(t, s.base+"/Organization/"+id+"/_history/1", first.header.Get("Location"))
	assert.Equal(t, "Clinic", first.json(t)["name"])

	second := s.do(http.MethodPost, "/Organization", `{"resourceType":"Organization","name":"Other"}`,
		"If-None-Exist", orgCriteria)
	require.Equal(t, http.StatusOK, second.status, "%s", second.body)
	assert.Equal(t, id, second.json(t)["id"])
	assert.Equal(t, "Clinic", second.json(t)["name"], "a match returns the stored resource, not the body")
	assert.Equal(t, `W/"1"`, second.header.Get("ETag"))
	assert.Empty(t, second.header.Get("Location"))

	prefixed := s.do(http.MethodPost, "/Organization", orgBody, "If-None-Exist", "Organization?"+orgCriteria)
	require.Equal(t, http.StatusOK, prefixed.status, "%s", prefixed.body)
	assert.Equal(t, id, prefixed.json(t)["id"])

	s.create("Organization", orgBody)
	several := s.do(http.MethodPost, "/Organization", orgBody, "If-None-Exist", orgCriteria)
	require.Equal(t, http.StatusPreconditionFailed, several.status, "%s", several.body)
	assert.Equal(t, "processing", issue(t, several.json(t))["code"])
}

func TestConditionalCreateInvalidCriteria(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name     string
		criteria string
		code     string
	}{
		{name: "unknown parameter", criteria: "hair-colour=red", code: "not-supported"},
		{name: "only count", criteria: "_count=1", code: "invalid"},
		{name: "bad encoding", criteria: "identifier=%zz", code: "invalid"},
		{name: "unindexed parameter", criteria: "_text=clinic", code: "not-supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, "/Organization", orgBody, "If-None-Exist", tt.criteria)
			require.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
			assert.Equal(t, tt.code, issue(t, resp.json(t))["code"])
		})
	}
	count := s.do(http.MethodGet, "/Organization?_summary=count", "")
	assert.Equal(t, float64(0), count.json(t)["total"], "a rejected conditional create stores nothing")
}

// TestConditionalCreateConcurrent sends the same conditional create from
// 16 goroutines at once; exactly one of them may create.
func TestConditionalCreateConcurrent(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const clients = 16
	statuses := make([]int, clients)
	etags := make([]string, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, s.base+"/Organization", strings.NewReader(orgBody))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/fhir+json")
			req.Header.Set("If-None-Exist", orgCriteria)
			req.Header.Set("Prefer", "return=minimal")
			resp, err := s.srv.Client().Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			etags[i] = resp.Header.Get("ETag")
		})
	}
	wg.Wait()

	created, matched := 0, 0
	for i, status := range statuses {
		switch status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
			matched++
		default:
			t.Errorf("request %d: status %d, want 201 or 200", i, status)
		}
		assert.Equal(t, `W/"1"`, etags[i], "request %d", i)
	}
	assert.Equal(t, 1, created)
	assert.Equal(t, clients-1, matched)

	search := s.do(http.MethodGet, "/Organization?"+orgCriteria, "")
	require.Equal(t, http.StatusOK, search.status, "%s", search.body)
	assert.Len(t, entryIDs(t, search.json(t)), 1)
}

func TestConditionalUpdate(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	path := "/Organization?" + orgCriteria

	created := s.do(http.MethodPut, path, orgBody)
	require.Equal(t, http.StatusCreated, created.status, "%s", created.body)
	id, _ := created.json(t)["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, `W/"1"`, created.header.Get("ETag"))
	assert.Equal(t, s.base+"/Organization/"+id+"/_history/1", created.header.Get("Location"))

	renamed := `{"resourceType":"Organization",` + orgIdentifier + `,"name":"Renamed"}`
	updated := s.do(http.MethodPut, path, renamed)
	require.Equal(t, http.StatusOK, updated.status, "%s", updated.body)
	assert.Equal(t, id, updated.json(t)["id"])
	assert.Equal(t, "Renamed", updated.json(t)["name"])
	assert.Equal(t, `W/"2"`, updated.header.Get("ETag"))
	assert.Empty(t, updated.header.Get("Location"))

	// The same content again with the matched id makes no new version.
	sameID := s.do(http.MethodPut, path, withID(id, renamed))
	require.Equal(t, http.StatusOK, sameID.status, "%s", sameID.body)
	assert.Equal(t, `W/"2"`, sameID.header.Get("ETag"))

	otherID := s.do(http.MethodPut, path, withID("other", renamed))
	require.Equal(t, http.StatusBadRequest, otherID.status, "%s", otherID.body)
	assert.Equal(t, "invalid", issue(t, otherID.json(t))["code"])
	assert.Equal(t, []any{"Organization.id"}, issue(t, otherID.json(t))["expression"])

	ifMatch := s.do(http.MethodPut, path, renamed, "If-Match", `W/"3"`)
	require.Equal(t, http.StatusBadRequest, ifMatch.status, "%s", ifMatch.body)
	assert.Equal(t, "not-supported", issue(t, ifMatch.json(t))["code"])

	s.create("Organization", orgBody)
	several := s.do(http.MethodPut, path, renamed)
	require.Equal(t, http.StatusPreconditionFailed, several.status, "%s", several.body)

	read := s.do(http.MethodGet, "/Organization/"+id, "")
	assert.Equal(t, `W/"2"`, read.header.Get("ETag"), "failed conditional updates change nothing")
}

func TestConditionalUpdateCreatesWithBodyID(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodPut, "/Organization?"+orgCriteria, withID("chosen", orgBody))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	assert.Equal(t, "chosen", resp.json(t)["id"])
	assert.Equal(t, s.base+"/Organization/chosen/_history/1", resp.header.Get("Location"))
}

func TestConditionalDelete(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Organization", orgBody)
	path := "/Organization?" + orgCriteria

	deleted := s.do(http.MethodDelete, path, "")
	require.Equal(t, http.StatusOK, deleted.status, "%s", deleted.body)
	assert.Equal(t, `W/"2"`, deleted.header.Get("ETag"))
	first := issue(t, deleted.json(t))
	assert.Equal(t, "information", first["severity"])
	assert.Equal(t, "deleted Organization/"+id+"; the deletion is version 2", first["diagnostics"])
	afterDelete := s.do(http.MethodGet, "/Organization/"+id, "")
	assert.Equal(t, http.StatusGone, afterDelete.status)

	none := s.do(http.MethodDelete, path, "")
	require.Equal(t, http.StatusOK, none.status, "%s", none.body)
	assert.Empty(t, none.header.Get("ETag"))
	assert.Equal(t, "no Organization matches the criteria; nothing was deleted", issue(t, none.json(t))["diagnostics"])

	minimal := s.do(http.MethodDelete, path, "", "Prefer", "return=minimal")
	assert.Equal(t, http.StatusNoContent, minimal.status)
	assert.Empty(t, minimal.body)

	a := s.create("Organization", orgBody)
	b := s.create("Organization", orgBody)
	several := s.do(http.MethodDelete, path, "")
	require.Equal(t, http.StatusPreconditionFailed, several.status, "%s", several.body)
	for _, survivor := range []string{a, b} {
		read := s.do(http.MethodGet, "/Organization/"+survivor, "")
		assert.Equal(t, http.StatusOK, read.status, "Organization/%s must survive", survivor)
	}

	ifMatch := s.do(http.MethodDelete, path, "", "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusBadRequest, ifMatch.status, "%s", ifMatch.body)
}

func TestConditionalRead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	updated := s.do(http.MethodPut, "/Patient/"+id, withID(id, `{"resourceType":"Patient","active":false}`))
	require.Equal(t, http.StatusOK, updated.status, "%s", updated.body)
	lastModified := updated.header.Get("Last-Modified")
	require.NotEmpty(t, lastModified)

	tests := []struct {
		name   string
		header []string
		status int
	}{
		{name: "current etag", header: []string{"If-None-Match", `W/"2"`}, status: http.StatusNotModified},
		{name: "strong form", header: []string{"If-None-Match", `"2"`}, status: http.StatusNotModified},
		{name: "list with current", header: []string{"If-None-Match", `W/"1", W/"2"`}, status: http.StatusNotModified},
		{name: "star", header: []string{"If-None-Match", "*"}, status: http.StatusNotModified},
		{name: "old etag", header: []string{"If-None-Match", `W/"1"`}, status: http.StatusOK},
		{name: "not an etag", header: []string{"If-None-Match", "junk"}, status: http.StatusOK},
		{name: "same date", header: []string{"If-Modified-Since", lastModified}, status: http.StatusNotModified},
		{name: "later date", header: []string{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}, status: http.StatusNotModified},
		{name: "earlier date", header: []string{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}, status: http.StatusOK},
		{name: "invalid date", header: []string{"If-Modified-Since", "yesterday"}, status: http.StatusOK},
		{name: "etag wins over date", header: []string{"If-None-Match", `W/"1"`, "If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}, status: http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, "/Patient/"+id, "", tt.header...)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			assert.Equal(t, `W/"2"`, resp.header.Get("ETag"))
			assert.Equal(t, lastModified, resp.header.Get("Last-Modified"))
			if tt.status == http.StatusNotModified {
				assert.Empty(t, resp.body)
				return
			}
			assert.Equal(t, id, resp.json(t)["id"])
		})
	}

	deleted := s.do(http.MethodDelete, "/Patient/"+id, "")
	require.Equal(t, http.StatusOK, deleted.status)
	afterDelete := s.do(http.MethodGet, "/Patient/"+id, "", "If-None-Match", "*")
	assert.Equal(t, http.StatusGone, afterDelete.status, "a deleted resource is never 304")
}

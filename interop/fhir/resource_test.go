package fhir_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/fhir"
)

func TestCreateAndRead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	created := s.do(http.MethodPost, "/Patient", patientBody)
	require.Equal(t, http.StatusCreated, created.status, "%s", created.body)
	id, _ := created.json(t)["id"].(string)
	require.NotEmpty(t, id)

	assert.Equal(t, s.base+"/Patient/"+id+"/_history/1", created.header.Get("Location"))
	assert.Equal(t, `W/"1"`, created.header.Get("ETag"))
	assert.Equal(t, "application/fhir+json; charset=utf-8", created.header.Get("Content-Type"))
	_, err := http.ParseTime(created.header.Get("Last-Modified"))
	assert.NoError(t, err)

	read := s.do(http.MethodGet, "/Patient/"+id, "")
	require.Equal(t, http.StatusOK, read.status, "%s", read.body)
	assert.Equal(t, `W/"1"`, read.header.Get("ETag"))
	assert.Equal(t, created.header.Get("Last-Modified"), read.header.Get("Last-Modified"))
	assert.Equal(t, created.body, read.body, "a read returns the stored bytes")
	assert.Equal(t, "Testperson", at(read.json(t), "name", 0, "family"))
	assert.Equal(t, "1", at(read.json(t), "meta", "versionId"))
	assert.NotEmpty(t, read.header.Get("X-Request-Id"))
}

func TestReadStoredBytesUnchanged(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	// HTML characters and non-ASCII text must not be escaped on the way out,
	// in a read or in a search bundle.
	id := s.create("Patient", `{"resourceType":"Patient","name":[{"text":"A < b > & C — Zoë"}]}`)
	read := s.do(http.MethodGet, "/Patient/"+id, "")
	require.Equal(t, http.StatusOK, read.status)
	assert.Contains(t, string(read.body), `"A < b > & C — Zoë"`)

	search := s.do(http.MethodGet, "/Patient?_id="+id, "")
	require.Equal(t, http.StatusOK, search.status)
	assert.Contains(t, string(search.body), string(read.body))
}

func TestVersionRead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	updated := s.do(http.MethodPut, "/Patient/"+id,
		`{"resourceType":"Patient","id":"`+id+`","name":[{"family":"Secondname"}]}`)
	require.Equal(t, http.StatusOK, updated.status, "%s", updated.body)

	tests := []struct {
		name    string
		version string
		status  int
		family  string
	}{
		{name: "first", version: "1", status: http.StatusOK, family: "Testperson"},
		{name: "second", version: "2", status: http.StatusOK, family: "Secondname"},
		{name: "missing", version: "3", status: http.StatusNotFound},
		{name: "not a number", version: "x", status: http.StatusNotFound},
		{name: "zero", version: "0", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, "/Patient/"+id+"/_history/"+tt.version, "")
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			if tt.status != http.StatusOK {
				assert.Equal(t, "not-found", issue(t, resp.json(t))["code"])
				return
			}
			assert.Equal(t, `W/"`+tt.version+`"`, resp.header.Get("ETag"))
			assert.Equal(t, tt.family, at(resp.json(t), "name", 0, "family"))
		})
	}
}

func TestUpdateCreatesWithID(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	resp := s.do(http.MethodPut, "/Patient/chosen-id", `{"resourceType":"Patient","id":"chosen-id"}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	assert.Equal(t, s.base+"/Patient/chosen-id/_history/1", resp.header.Get("Location"))
	assert.Equal(t, `W/"1"`, resp.header.Get("ETag"))

	again := s.do(http.MethodPut, "/Patient/chosen-id", `{"resourceType":"Patient","id":"chosen-id","active":true}`)
	require.Equal(t, http.StatusOK, again.status, "%s", again.body)
	assert.Equal(t, `W/"2"`, again.header.Get("ETag"))
	assert.Empty(t, again.header.Get("Location"))
	assert.Equal(t, true, again.json(t)["active"])
}

func TestUpdateBodyID(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	tests := []struct {
		name string
		path string
		body string
		code string
	}{
		{name: "missing on existing", path: "/Patient/" + id, body: `{"resourceType":"Patient","active":true}`, code: "required"},
		{name: "missing on new", path: "/Patient/new-one", body: `{"resourceType":"Patient"}`, code: "required"},
		{name: "different", path: "/Patient/" + id, body: `{"resourceType":"Patient","id":"other"}`, code: "invalid"},
		{name: "not a string", path: "/Patient/" + id, body: `{"resourceType":"Patient","id":7}`, code: "invalid"},
		{name: "null", path: "/Patient/" + id, body: `{"resourceType":"Patient","id":null}`, code: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPut, tt.path, tt.body)
			require.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
			first := issue(t, resp.json(t))
			assert.Equal(t, tt.code, first["code"])
			assert.Equal(t, []any{"Patient.id"}, first["expression"])
		})
	}

	read := s.do(http.MethodGet, "/Patient/"+id, "")
	assert.Equal(t, `W/"1"`, read.header.Get("ETag"), "a rejected update stores nothing")
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/Patient/new-one", "").status)
}

func TestHead(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	deleted := s.create("Patient", patientBody)
	require.Equal(t, http.StatusOK, s.do(http.MethodDelete, "/Patient/"+deleted, "").status)
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{name: "read", path: "/Patient/" + id, status: http.StatusOK},
		{name: "vread", path: "/Patient/" + id + "/_history/1", status: http.StatusOK},
		{name: "search", path: "/Patient?family=testperson", status: http.StatusOK},
		{name: "metadata", path: "/metadata", status: http.StatusOK},
		{name: "history", path: "/Patient/" + id + "/_history", status: http.StatusOK},
		{name: "missing", path: "/Patient/never-made", status: http.StatusNotFound},
		{name: "deleted", path: "/Patient/" + deleted, status: http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get := s.do(http.MethodGet, tt.path, "")
			head := s.do(http.MethodHead, tt.path, "")
			require.Equal(t, tt.status, get.status, "%s", get.body)
			assert.Equal(t, get.status, head.status)
			assert.Empty(t, head.body)
			for _, name := range []string{"Content-Type", "Content-Length", "ETag", "Last-Modified"} {
				assert.Equal(t, get.header.Get(name), head.header.Get(name), name)
			}
			assert.Equal(t, strconv.Itoa(len(get.body)), head.header.Get("Content-Length"))
		})
	}

	notAllowed := s.do(http.MethodHead, "/Patient/_search", "")
	assert.Equal(t, http.StatusMethodNotAllowed, notAllowed.status, "HEAD is allowed only where GET is")
	assert.Equal(t, "POST", notAllowed.header.Get("Allow"))
}

func TestUpdateIfMatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	tests := []struct {
		name    string
		ifMatch string
		status  int
		etag    string
	}{
		{name: "current version", ifMatch: `W/"1"`, status: http.StatusOK, etag: `W/"2"`},
		{name: "stale version", ifMatch: `W/"1"`, status: http.StatusPreconditionFailed},
		{name: "strong form", ifMatch: `"2"`, status: http.StatusOK, etag: `W/"3"`},
		{name: "future version", ifMatch: `W/"9"`, status: http.StatusPreconditionFailed},
		{name: "not an etag", ifMatch: `W/"abc"`, status: http.StatusBadRequest},
	}
	for i, tt := range tests {
		// Each request changes the content, because an update that changes
		// nothing makes no version.
		body := fmt.Sprintf(`{"resourceType":"Patient","id":"%s","birthDate":"19%02d-01-01"}`, id, 50+i)
		resp := s.do(http.MethodPut, "/Patient/"+id, body, "If-Match", tt.ifMatch)
		require.Equal(t, tt.status, resp.status, "%s: %s", tt.name, resp.body)
		if tt.status == http.StatusOK {
			assert.Equal(t, tt.etag, resp.header.Get("ETag"), tt.name)
			continue
		}
		assert.Equal(t, "error", issue(t, resp.json(t))["severity"], tt.name)
	}

	missing := s.do(http.MethodPut, "/Patient/never-made", `{"resourceType":"Patient","id":"never-made"}`, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusPreconditionFailed, missing.status, "If-Match on a resource that does not exist")
}

func TestDelete(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)

	stale := s.do(http.MethodDelete, "/Patient/"+id, "", "If-Match", `W/"7"`)
	require.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)
	assert.Equal(t, "conflict", issue(t, stale.json(t))["code"])

	deleted := s.do(http.MethodDelete, "/Patient/"+id, "", "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, deleted.status, "%s", deleted.body)
	assert.Equal(t, `W/"2"`, deleted.header.Get("ETag"))
	outcome := issue(t, deleted.json(t))
	assert.Equal(t, "information", outcome["severity"])
	assert.Equal(t, "informational", outcome["code"])

	gone := s.do(http.MethodGet, "/Patient/"+id, "")
	require.Equal(t, http.StatusGone, gone.status, "%s", gone.body)
	assert.Equal(t, "deleted", issue(t, gone.json(t))["code"])
	assert.Equal(t, `W/"2"`, gone.header.Get("ETag"))

	goneVersion := s.do(http.MethodGet, "/Patient/"+id+"/_history/2", "")
	assert.Equal(t, http.StatusGone, goneVersion.status)
	firstVersion := s.do(http.MethodGet, "/Patient/"+id+"/_history/1", "")
	assert.Equal(t, http.StatusOK, firstVersion.status)

	minimal := s.do(http.MethodDelete, "/Patient/"+id, "", "Prefer", "return=minimal")
	assert.Equal(t, http.StatusNoContent, minimal.status)
	assert.Empty(t, minimal.body)

	missing := s.do(http.MethodDelete, "/Patient/never-made", "")
	assert.Equal(t, http.StatusOK, missing.status, "FHIR answers a delete of nothing as a success")
	missingIfMatch := s.do(http.MethodDelete, "/Patient/never-made", "", "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusPreconditionFailed, missingIfMatch.status)

	recreated := s.do(http.MethodPut, "/Patient/"+id, withID(id, `{"resourceType":"Patient"}`))
	require.Equal(t, http.StatusOK, recreated.status, "%s", recreated.body)
	assert.Equal(t, `W/"3"`, recreated.header.Get("ETag"))
}

func TestCreatePrefer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name   string
		prefer string
		check  func(t *testing.T, resp response)
	}{
		{name: "minimal", prefer: "return=minimal", check: func(t *testing.T, resp response) {
			assert.Empty(t, resp.body)
		}},
		{name: "operation outcome", prefer: "return=OperationOutcome", check: func(t *testing.T, resp response) {
			assert.Equal(t, "informational", issue(t, resp.json(t))["code"])
		}},
		{name: "representation", prefer: "return=representation", check: func(t *testing.T, resp response) {
			assert.Equal(t, "Patient", resp.json(t)["resourceType"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, "/Patient", patientBody, "Prefer", tt.prefer)
			require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
			assert.NotEmpty(t, resp.header.Get("Location"))
			assert.Equal(t, `W/"1"`, resp.header.Get("ETag"))
			tt.check(t, resp)
		})
	}
}

func TestConditionalCreateHeader(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	body := `{"resourceType":"Organization","identifier":[{"system":"http://example.org/org","value":"ORG-1"}],"name":"Clinic"}`
	condition := "identifier=http://example.org/org|ORG-1"

	first := s.do(http.MethodPost, "/Organization", body, "If-None-Exist", condition)
	require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
	id, _ := first.json(t)["id"].(string)
	assert.Equal(t, s.base+"/Organization/"+id+"/_history/1", first.header.Get("Location"))

	second := s.do(http.MethodPost, "/Organization", body, "If-None-Exist", condition)
	require.Equal(t, http.StatusOK, second.status, "%s", second.body)
	assert.Equal(t, id, second.json(t)["id"])
	assert.Equal(t, `W/"1"`, second.header.Get("ETag"))

	count := s.do(http.MethodGet, "/Organization?_summary=count", "")
	assert.Equal(t, float64(1), count.json(t)["total"])

	s.create("Organization", body)
	ambiguous := s.do(http.MethodPost, "/Organization", body, "If-None-Exist", condition)
	assert.Equal(t, http.StatusPreconditionFailed, ambiguous.status, "two matches: %s", ambiguous.body)

	wrongType := s.do(http.MethodPost, "/Patient", body, "If-None-Exist", condition)
	assert.Equal(t, http.StatusUnprocessableEntity, wrongType.status, "%s", wrongType.body)
	badJSON := s.do(http.MethodPost, "/Organization", `{"resourceType":`, "If-None-Exist", condition)
	assert.Equal(t, http.StatusBadRequest, badJSON.status, "%s", badJSON.body)
}

func TestContentNegotiation(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	tests := []struct {
		name   string
		path   string
		header []string
		status int
	}{
		{name: "fhir json accept", path: "/Patient/" + id, header: []string{"Accept", "application/fhir+json"}, status: http.StatusOK},
		{name: "json accept", path: "/Patient/" + id, header: []string{"Accept", "application/json"}, status: http.StatusOK},
		{name: "any accept", path: "/Patient/" + id, header: []string{"Accept", "*/*"}, status: http.StatusOK},
		{name: "xml then json", path: "/Patient/" + id, header: []string{"Accept", "application/fhir+xml, application/fhir+json;q=0.5"}, status: http.StatusOK},
		{name: "xml accept", path: "/Patient/" + id, header: []string{"Accept", "application/fhir+xml"}, status: http.StatusNotAcceptable},
		{name: "json refused", path: "/Patient/" + id, header: []string{"Accept", "application/fhir+json;q=0"}, status: http.StatusNotAcceptable},
		{name: "format json", path: "/Patient/" + id + "?_format=json", status: http.StatusOK},
		{name: "format fhir json", path: "/Patient/" + id + "?_format=application/fhir%2Bjson", status: http.StatusOK},
		{name: "format over accept", path: "/Patient/" + id + "?_format=json", header: []string{"Accept", "application/fhir+xml"}, status: http.StatusOK},
		{name: "format xml", path: "/Patient/" + id + "?_format=xml", status: http.StatusNotAcceptable},
		{name: "format xml on search", path: "/Patient?_format=application/fhir%2Bxml", status: http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tt.path, "", tt.header...)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			assert.Equal(t, "application/fhir+json; charset=utf-8", resp.header.Get("Content-Type"))
			if tt.status != http.StatusOK {
				assert.Equal(t, "not-supported", issue(t, resp.json(t))["code"])
			}
		})
	}
}

func TestRequestContentType(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tests := []struct {
		name        string
		contentType string
		status      int
	}{
		{name: "fhir json", contentType: "application/fhir+json", status: http.StatusCreated},
		{name: "fhir json charset", contentType: "application/fhir+json; charset=utf-8", status: http.StatusCreated},
		{name: "json", contentType: "application/json", status: http.StatusCreated},
		{name: "xml", contentType: "application/fhir+xml", status: http.StatusUnsupportedMediaType},
		{name: "text xml", contentType: "text/xml", status: http.StatusUnsupportedMediaType},
		{name: "form", contentType: "application/x-www-form-urlencoded", status: http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, "/Patient", patientBody, "Content-Type", tt.contentType)
			require.Equal(t, tt.status, resp.status, "%s", resp.body)
			if tt.status == http.StatusUnsupportedMediaType {
				assert.Equal(t, "not-supported", issue(t, resp.json(t))["code"])
			}
		})
	}
}

func TestPretty(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":140.0}}`)
	resp := s.do(http.MethodGet, "/Observation/"+id+"?_pretty=true", "")
	require.Equal(t, http.StatusOK, resp.status)
	assert.Contains(t, string(resp.body), "\n  \"resourceType\": \"Observation\"")
	assert.Contains(t, string(resp.body), `"value": 140.0`)
}

func TestActorRecorded(t *testing.T) {
	t.Parallel()
	s := newServer(t, func(c *fhir.Config) {
		c.Actor = func(r *http.Request) string { return "user/" + r.Header.Get("X-Test-User") }
	})
	resp := s.do(http.MethodPost, "/Patient", patientBody, "X-Test-User", "alice")
	require.Equal(t, http.StatusCreated, resp.status)
	id, _ := resp.json(t)["id"].(string)
	res, err := s.svc.Read(t.Context(), "Patient", id)
	require.NoError(t, err)
	assert.Equal(t, "user/alice", res.Author)

	anonymous := newServer(t)
	id = anonymous.create("Patient", patientBody)
	res, err = anonymous.svc.Read(t.Context(), "Patient", id)
	require.NoError(t, err)
	assert.Equal(t, "anonymous", res.Author)
}

func TestLastModifiedMatchesMeta(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	resp := s.do(http.MethodGet, "/Patient/"+id, "")
	require.Equal(t, http.StatusOK, resp.status)
	lastUpdated, err := time.Parse(time.RFC3339Nano, at(resp.json(t), "meta", "lastUpdated").(string))
	require.NoError(t, err)
	lastModified, err := http.ParseTime(resp.header.Get("Last-Modified"))
	require.NoError(t, err)
	assert.Equal(t, lastUpdated.Truncate(time.Second), lastModified.UTC())
}

func TestConcurrentIfMatch(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	const writers = 8
	statuses := make(chan int, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			resp := s.do(http.MethodPut, "/Patient/"+id, withID(id, `{"resourceType":"Patient","active":true}`), "If-Match", `W/"1"`)
			statuses <- resp.status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for status := range statuses {
		counts[status]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusPreconditionFailed: writers - 1}, counts)
}

func TestRequestLogLine(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := s.create("Patient", patientBody)
	resp := s.do(http.MethodGet, "/Patient/"+id+"?_pretty=true", "", "X-Request-Id", "log-line-test")
	require.Equal(t, http.StatusOK, resp.status)

	var line map[string]any
	for _, raw := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(raw, `"request_id":"log-line-test"`) {
			require.NoError(t, json.Unmarshal([]byte(raw), &line))
		}
	}
	require.NotNil(t, line, "no log line for the request")
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "fhir request", line["msg"])
	assert.Equal(t, "GET", line["method"])
	assert.Equal(t, "/{type}/{id}", line["route"])
	assert.Equal(t, "Patient", line["type"])
	assert.Equal(t, float64(http.StatusOK), line["status"])
	assert.Equal(t, float64(len(resp.body)), line["bytes"])
	assert.Contains(t, line, "duration")
	assert.NotContains(t, s.logs.String(), id, "resource ids stay out of the log")
	assert.NotContains(t, s.logs.String(), "_pretty", "query strings stay out of the log")
}

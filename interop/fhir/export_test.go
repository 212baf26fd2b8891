package fhir_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/fhir"
)

// newExportServer starts a test server whose export folder is a fresh
// temporary folder, and closes the handler when the test ends.
func newExportServer(t *testing.T, configure ...func(*fhir.Config)) (*testServer, string) {
	t.Helper()
	dir := t.TempDir()
	svc := newService(t)
	cfg := fhir.Config{Service: svc, ExportDir: dir}
	for _, c := range configure {
		c(&cfg)
	}
	handler := fhir.NewHandler(cfg)
	closer, ok := handler.(io.Closer)
	require.True(t, ok, "the handler implements io.Closer")
	h := http.StripPrefix("/fhir", handler)
	mux := http.NewServeMux()
	mux.Handle("/fhir/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, closer.Close())
	})
	return &testServer{t: t, srv: srv, base: srv.URL + "/fhir", svc: svc, logs: &syncBuffer{}}, dir
}

// kickOff starts an export and returns its status URL.
func (s *testServer) kickOff(path string) string {
	s.t.Helper()
	resp := s.do(http.MethodGet, path, "", "Prefer", "respond-async", "Accept", "application/fhir+json")
	require.Equal(s.t, http.StatusAccepted, resp.status, "kick-off %s: %s", path, resp.body)
	status := resp.header.Get("Content-Location")
	require.True(s.t, strings.HasPrefix(status, s.base+"/$export-status/"), "Content-Location %q", status)
	return status
}

// exportManifest is the status body of a completed job.
type exportManifest struct {
	TransactionTime     string `json:"transactionTime"`
	Request             string `json:"request"`
	RequiresAccessToken bool   `json:"requiresAccessToken"`
	Output              []struct {
		Type  string `json:"type"`
		URL   string `json:"url"`
		Count int    `json:"count"`
	} `json:"output"`
	Error []any `json:"error"`
}

// waitExport polls a status URL until the job finishes and returns the
// final response.
func (s *testServer) waitExport(status string) response {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := s.do(http.MethodGet, status, "")
		if resp.status != http.StatusAccepted {
			return resp
		}
		require.NotEmpty(s.t, resp.header.Get("X-Progress"))
		require.NotEmpty(s.t, resp.header.Get("Retry-After"))
		require.True(s.t, time.Now().Before(deadline), "export did not finish in 10s")
		time.Sleep(10 * time.Millisecond)
	}
}

// exportResources runs an export to completion, downloads every file and
// returns the ids per type, checking that each file has the manifest's
// count of lines.
func (s *testServer) exportResources(path string) (exportManifest, map[string][]string) {
	s.t.Helper()
	resp := s.waitExport(s.kickOff(path))
	require.Equal(s.t, http.StatusOK, resp.status, "%s", resp.body)
	var m exportManifest
	require.NoError(s.t, json.Unmarshal(resp.body, &m), "%s", resp.body)
	ids := map[string][]string{}
	for _, out := range m.Output {
		file := s.do(http.MethodGet, out.URL, "")
		require.Equal(s.t, http.StatusOK, file.status, "%s: %s", out.URL, file.body)
		assert.Equal(s.t, "application/fhir+ndjson", file.header.Get("Content-Type"))
		scanner := bufio.NewScanner(bytes.NewReader(file.body))
		for scanner.Scan() {
			var r struct{ ResourceType, ID string }
			require.NoError(s.t, json.Unmarshal(scanner.Bytes(), &r))
			assert.Equal(s.t, out.Type, r.ResourceType)
			ids[out.Type] = append(ids[out.Type], r.ID)
		}
		assert.Len(s.t, ids[out.Type], out.Count, "lines of %s", out.URL)
	}
	return m, ids
}

// seedExport creates two patients with an observation each and one
// observation in no compartment.
func seedExport(s *testServer) (patients []string, observations []string) {
	for range 2 {
		pid := s.create("Patient", `{"resourceType":"Patient"}`)
		patients = append(patients, pid)
		observations = append(observations, s.create("Observation",
			`{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"Patient/`+pid+`"}}`))
	}
	observations = append(observations, s.create("Observation",
		`{"resourceType":"Observation","status":"final","code":{"text":"hr"}}`))
	return patients, observations
}

func TestExportKickOffErrors(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	cases := []struct {
		name   string
		path   string
		header []string
		status int
	}{
		{name: "no prefer", path: "/$export", status: http.StatusBadRequest},
		{name: "bad type", path: "/$export?_type=Nothing", header: []string{"Prefer", "respond-async"}, status: http.StatusBadRequest},
		{name: "bad since", path: "/$export?_since=yesterday", header: []string{"Prefer", "respond-async"}, status: http.StatusBadRequest},
		{name: "bad output format", path: "/$export?_outputFormat=text/csv", header: []string{"Prefer", "respond-async"}, status: http.StatusBadRequest},
		{name: "unknown parameter", path: "/$export?_typeFilter=x", header: []string{"Prefer", "respond-async"}, status: http.StatusBadRequest},
		{name: "unknown group", path: "/Group/nobody/$export", header: []string{"Prefer", "respond-async"}, status: http.StatusNotFound},
		{name: "other type", path: "/Observation/$export", header: []string{"Prefer", "respond-async"}, status: http.StatusNotFound},
		{name: "xml accept", path: "/$export", header: []string{"Prefer", "respond-async", "Accept", "application/fhir+xml"}, status: http.StatusNotAcceptable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, tc.path, "", tc.header...)
			assert.Equal(t, tc.status, resp.status, "%s", resp.body)
			assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])
		})
	}
}

func TestExportSystem(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	patients, observations := seedExport(s)
	before := time.Now().UTC().Add(-time.Second)

	m, ids := s.exportResources("/$export?_outputFormat=application/fhir%2Bndjson")
	assert.ElementsMatch(t, patients, ids["Patient"])
	assert.ElementsMatch(t, observations, ids["Observation"])
	assert.Len(t, m.Output, 2)
	assert.Equal(t, s.base+"/$export?_outputFormat=application/fhir%2Bndjson", m.Request)
	assert.False(t, m.RequiresAccessToken)
	assert.NotNil(t, m.Error)
	assert.Empty(t, m.Error)
	transaction, err := time.Parse(time.RFC3339Nano, m.TransactionTime)
	require.NoError(t, err)
	assert.True(t, transaction.After(before), "transactionTime %s", m.TransactionTime)
}

func TestExportTypeFilter(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	_, observations := seedExport(s)
	m, ids := s.exportResources("/$export?_type=Observation,Condition")
	require.Len(t, m.Output, 1)
	assert.Equal(t, "Observation", m.Output[0].Type)
	assert.ElementsMatch(t, observations, ids["Observation"])
}

func TestExportPatientLevel(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	patients, observations := seedExport(s)
	_, ids := s.exportResources("/Patient/$export")
	assert.ElementsMatch(t, patients, ids["Patient"])
	assert.ElementsMatch(t, observations[:2], ids["Observation"], "the observation in no compartment is left out")
}

func TestExportGroup(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	patients, observations := seedExport(s)
	deleted := s.create("Patient", `{"resourceType":"Patient"}`)
	require.Equal(t, http.StatusOK, s.do(http.MethodDelete, "/Patient/"+deleted, "").status)
	group := s.create("Group", `{"resourceType":"Group","type":"person","actual":true,"member":[`+
		`{"entity":{"reference":"Patient/`+patients[0]+`"}},`+
		`{"entity":{"reference":"Patient/`+patients[1]+`"},"inactive":true},`+
		`{"entity":{"reference":"Patient/`+deleted+`"}}]}`)

	_, ids := s.exportResources("/Group/" + group + "/$export")
	assert.Equal(t, []string{patients[0]}, ids["Patient"])
	assert.Equal(t, []string{observations[0]}, ids["Observation"])

	empty := s.create("Group", `{"resourceType":"Group","type":"person","actual":true}`)
	m, _ := s.exportResources("/Group/" + empty + "/$export")
	assert.Empty(t, m.Output)
}

func TestExportSince(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	seedExport(s)
	time.Sleep(5 * time.Millisecond)
	since := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)
	later := s.create("Patient", `{"resourceType":"Patient"}`)

	_, ids := s.exportResources("/$export?_since=" + since.Format(time.RFC3339Nano))
	assert.Equal(t, map[string][]string{"Patient": {later}}, ids)
}

func TestExportDelete(t *testing.T) {
	t.Parallel()
	s, dir := newExportServer(t)
	seedExport(s)
	status := s.kickOff("/$export")
	require.Equal(t, http.StatusOK, s.waitExport(status).status)
	id := status[strings.LastIndex(status, "/")+1:]
	require.DirExists(t, filepath.Join(dir, id))

	assert.Equal(t, http.StatusAccepted, s.do(http.MethodDelete, status, "").status)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, status, "").status)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/$export-file/"+id+"/Patient.ndjson", "").status)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodDelete, status, "").status)
	assert.NoDirExists(t, filepath.Join(dir, id))
}

func TestExportUnknownJob(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t)
	for _, path := range []string{
		"/$export-status/0123456789abcdef0123456789abcdef",
		"/$export-status/nothing",
		"/$export-file/0123456789abcdef0123456789abcdef/Patient.ndjson",
	} {
		resp := s.do(http.MethodGet, path, "")
		assert.Equal(t, http.StatusNotFound, resp.status, "%s: %s", path, resp.body)
	}
}

func TestExportFilePathTraversal(t *testing.T) {
	t.Parallel()
	s, dir := newExportServer(t)
	seedExport(s)
	status := s.kickOff("/$export")
	require.Equal(t, http.StatusOK, s.waitExport(status).status)
	id := status[strings.LastIndex(status, "/")+1:]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Patient.ndjson"), []byte("secret\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, id, "Secret.ndjson"), []byte("secret\n"), 0o600))

	for _, path := range []string{
		"/$export-file/" + id + "/..%2FPatient.ndjson",
		"/$export-file/" + id + "/..%2F..%2FPatient.ndjson",
		"/$export-file/..%2F" + id + "/Patient.ndjson",
		"/$export-file/../Patient.ndjson",
		"/$export-file/" + id + "/../Patient.ndjson",
		"/$export-file/" + id + "/Secret.ndjson",
		"/$export-file/" + id + "/patient.ndjson",
		"/$export-file/" + id + "/Patient.ndjson%00",
		"/$export-file/" + id + "/Patient",
		"/$export-file/" + id + "/Condition.ndjson",
		"/$export-file/" + strings.ToUpper(id) + "/Patient.ndjson",
	} {
		resp := s.do(http.MethodGet, path, "")
		assert.Equal(t, http.StatusNotFound, resp.status, "%s", path)
		assert.NotContains(t, string(resp.body), "secret", "%s", path)
	}
	assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/$export-file/"+id+"/Patient.ndjson", "").status)
}

// blockingExport is a Service whose Export waits until its context ends.
type blockingExport struct {
	fhir.Service
}

func (blockingExport) Export(ctx context.Context, _ emr.ExportParams, _ emr.ExportWriter) (map[string]int, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestExportTooManyJobs(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t, func(c *fhir.Config) {
		c.Service = blockingExport{Service: c.Service}
		c.MaxExportJobs = 2
	})
	first := s.kickOff("/$export")
	s.kickOff("/$export")

	resp := s.do(http.MethodGet, "/$export", "", "Prefer", "respond-async")
	assert.Equal(t, http.StatusTooManyRequests, resp.status, "%s", resp.body)
	assert.NotEmpty(t, resp.header.Get("Retry-After"))

	running := s.do(http.MethodGet, first, "")
	assert.Equal(t, http.StatusAccepted, running.status)
	assert.Equal(t, "0 resources written", running.header.Get("X-Progress"))

	require.Equal(t, http.StatusAccepted, s.do(http.MethodDelete, first, "").status)
	s.kickOff("/$export")
}

// failingExport is a Service whose Export fails with an internal error.
type failingExport struct {
	fhir.Service
}

func (failingExport) Export(context.Context, emr.ExportParams, emr.ExportWriter) (map[string]int, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestExportFailedJob(t *testing.T) {
	t.Parallel()
	s, _ := newExportServer(t, func(c *fhir.Config) {
		c.Service = failingExport{Service: c.Service}
	})
	resp := s.waitExport(s.kickOff("/$export"))
	assert.Equal(t, http.StatusInternalServerError, resp.status)
	assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])
	assert.NotContains(t, string(resp.body), io.ErrUnexpectedEOF.Error())
}

func TestExportRetention(t *testing.T) {
	t.Parallel()
	s, dir := newExportServer(t, func(c *fhir.Config) { c.ExportRetention = 50 * time.Millisecond })
	seedExport(s)
	status := s.kickOff("/$export")
	require.Equal(t, http.StatusOK, s.waitExport(status).status)
	id := status[strings.LastIndex(status, "/")+1:]
	assert.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, id))
		return os.IsNotExist(err)
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, status, "").status)
}

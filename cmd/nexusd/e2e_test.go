package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/cmd/nexusd/demodata"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// demoFiles copies the Synthea bundles into a folder and returns it.
func demoFiles(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	files, err := fs.Glob(demodata.Bundles, "*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 3)
	for _, f := range files {
		data, err := fs.ReadFile(demodata.Bundles, f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o600))
	}
	return dir
}

// startServer serves svc on a loopback port until the test ends and
// returns the FHIR base URL.
func startServer(t *testing.T, o serveOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	o.addr, o.ready, o.shutdown = "127.0.0.1:0", ready, 5*time.Second
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	go func() { done <- serve(ctx, o) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "graceful shutdown")
	})
	return "http://" + addr + "/fhir"
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m), string(body))
	return resp.StatusCode, m
}

// expectedEntries reads the bundles' entries with urn:uuid references
// resolved to Type/id, as the import stores them.
func expectedEntries(t *testing.T, dir string) []map[string]any {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	var out []map[string]any
	for _, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var bundle struct {
			Entry []struct {
				FullURL  string          `json:"fullUrl"`
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		require.NoError(t, json.Unmarshal(data, &bundle))
		mapping := map[string]string{}
		for _, e := range bundle.Entry {
			var head struct{ ResourceType, ID string }
			require.NoError(t, json.Unmarshal(e.Resource, &head))
			mapping[e.FullURL] = head.ResourceType + "/" + head.ID
		}
		for _, e := range bundle.Entry {
			text := string(e.Resource)
			for from, to := range mapping {
				text = strings.ReplaceAll(text, `"`+from+`"`, `"`+to+`"`)
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(text), &m))
			out = append(out, m)
		}
	}
	return out
}

func withoutServerMeta(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	if meta, ok := m["meta"].(map[string]any); ok {
		rest := map[string]any{}
		for k, v := range meta {
			if k != "versionId" && k != "lastUpdated" {
				rest[k] = v
			}
		}
		if len(rest) == 0 {
			delete(out, "meta")
		} else {
			out["meta"] = rest
		}
	}
	return out
}

func TestImportAndServeSynthea(t *testing.T) {
	dir := demoFiles(t)
	expected := expectedEntries(t, dir)
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
			svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
			require.NoError(t, err)
			files, err := importFiles([]string{dir})
			require.NoError(t, err)
			ctx := emr.ContextWithActor(context.Background(), "system/test")

			var out bytes.Buffer
			rep := runImport(ctx, svc, files, 2, &out, &out)
			require.Zero(t, rep.failed, out.String())

			base := startServer(t, serveOptions{db: db, svc: svc})
			counts := map[string]map[string]bool{}
			for _, want := range expected {
				typ, id := want["resourceType"].(string), want["id"].(string)
				if counts[typ] == nil {
					counts[typ] = map[string]bool{}
				}
				counts[typ][id] = true
				status, got := getJSON(t, base+"/"+typ+"/"+id)
				require.Equal(t, http.StatusOK, status, "%s/%s", typ, id)
				if assert.ObjectsAreEqual(withoutServerMeta(want), withoutServerMeta(got)) {
					continue
				}
				// A resource carried by several bundles in different
				// forms (Synthea repeats Organizations and
				// Practitioners) matches one of its versions.
				_, hist := getJSON(t, base+"/"+typ+"/"+id+"/_history")
				found := false
				for _, e := range hist["entry"].([]any) {
					res := e.(map[string]any)["resource"].(map[string]any)
					found = found || assert.ObjectsAreEqual(withoutServerMeta(want), withoutServerMeta(res))
				}
				assert.True(t, found, "%s/%s reads back as imported", typ, id)
			}
			for typ, ids := range counts {
				_, bundle := getJSON(t, base+"/"+typ+"?_summary=count")
				assert.EqualValues(t, len(ids), bundle["total"], "count of %s", typ)
			}

			again := runImport(ctx, svc, files, 2, io.Discard, io.Discard)
			require.Zero(t, again.failed)
			assert.Empty(t, again.total.Created, "second import creates nothing")
			assert.Empty(t, again.total.Updated, "second import makes no versions")
		})
	}
}

func TestImportCommandReportsBadEntries(t *testing.T) {
	dir := demoFiles(t)
	bad := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:00000000-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","id":"00000000-0000-4000-8000-000000000001","name":[{"family":"Zzbadfamily"}]},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Observation","id":"obs-bad","status":"final","code":{"text":"x"},"valueQuantity":{"value":"high"}},"request":{"method":"POST","url":"Observation"}}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o600))
	dbPath := filepath.Join(t.TempDir(), "cli.db")

	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run([]string{"nexusd", "import", "--db", "sqlite:" + dbPath, dir})
	require.Error(t, err, "a failed file makes the exit status non-zero")
	assert.Contains(t, stderr.String(), "bad.json: entry 1: ")
	assert.Contains(t, stderr.String(), "Observation.valueQuantity.value")
	assert.NotContains(t, stderr.String(), "Zzbadfamily")
	assert.Contains(t, stdout.String(), "Patient", "the other files still import")
	assert.Regexp(t, `Patient\s+4\s+0\s+0`, stdout.String())

	_, svc, err := openService(context.Background(), "sqlite:"+dbPath, emr.Config{})
	require.NoError(t, err)
	_, err = svc.Read(context.Background(), "Patient", "00000000-0000-4000-8000-000000000001")
	assert.ErrorIs(t, err, emr.ErrNotFound, "nothing of the bad bundle is stored")
}

func TestServeRefusesNonLoopback(t *testing.T) {
	cases := []struct {
		name   string
		addr   string
		expose bool
		ok     bool
	}{
		{name: "loopback v4", addr: "127.0.0.1:8080", ok: true},
		{name: "loopback v6", addr: "[::1]:8080", ok: true},
		{name: "localhost", addr: "localhost:8080", ok: true},
		{name: "any address", addr: ":8080"},
		{name: "all interfaces", addr: "0.0.0.0:8080"},
		{name: "exposed on purpose", addr: "0.0.0.0:8080", expose: true, ok: true},
		{name: "not host port", addr: "8080"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkListenAddr(tc.addr, tc.expose)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestMigrateCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "m.db")
	var stdout bytes.Buffer
	app := newApp()
	app.Writer = &stdout
	require.NoError(t, app.Run([]string{"nexusd", "migrate", "--db", "sqlite:" + dbPath}))
	// Every component reports the newest migration it ships.
	var want strings.Builder
	for _, set := range schema() {
		migs, err := set.Load(storage.SQLite)
		require.NoError(t, err)
		require.NotEmpty(t, migs, set.Component)
		fmt.Fprintf(&want, "%s schema at version %d\n", set.Component, migs[len(migs)-1].Version)
	}
	assert.Equal(t, want.String(), stdout.String())
	assert.Contains(t, stdout.String(), "emr schema at version ")
}

func TestHealthEndpoints(t *testing.T) {
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	base := strings.TrimSuffix(startServer(t, serveOptions{db: db, svc: svc}), "/fhir")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	status, cap := getJSON(t, base+"/fhir/metadata")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "CapabilityStatement", cap["resourceType"])
}

func TestImportNDJSONInChunks(t *testing.T) {
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{MaxBundleEntries: 2})
	require.NoError(t, err)
	data := []byte(`{"resourceType":"Practitioner","id":"n1"}
{"resourceType":"Practitioner","id":"n2"}

{"resourceType":"Practitioner","id":"n3"}
{"resourceType":"Practitioner","id":"n4","gender":"sometimes"}
`)
	res, err := importNDJSON(context.Background(), svc, data)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 5 (lines 4 to 5 were not imported)")
	assert.Contains(t, err.Error(), "Practitioner.gender")
	assert.Equal(t, 2, res.Created["Practitioner"], "the first chunk is kept")
	_, err = svc.Read(context.Background(), "Practitioner", "n3")
	assert.ErrorIs(t, err, emr.ErrNotFound, "the failing chunk is rolled back")
}

func TestOpenRejectsMissingFolder(t *testing.T) {
	_, _, err := openService(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "missing", "x.db"), emr.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not exist")
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExportCommand(t *testing.T) {
	dir := demoFiles(t)
	dbPath := "sqlite:" + filepath.Join(t.TempDir(), "export.db")
	app := newApp()
	app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
	require.NoError(t, app.Run([]string{"nexusd", "import", "--db", dbPath, dir}))

	out := filepath.Join(t.TempDir(), "export")
	var stdout bytes.Buffer
	app = newApp()
	app.Writer = &stdout
	require.NoError(t, app.Run([]string{"nexusd", "export", "--db", dbPath, "--out", out, "--type", "Patient,Encounter"}))
	patients, err := os.ReadFile(filepath.Join(out, "Patient.ndjson"))
	require.NoError(t, err)
	assert.Len(t, strings.Split(strings.TrimSpace(string(patients)), "\n"), 4)
	assert.FileExists(t, filepath.Join(out, "Encounter.ndjson"))
	assert.NoFileExists(t, filepath.Join(out, "Observation.ndjson"))
	assert.Contains(t, stdout.String(), "Patient.ndjson\t4")

	app = newApp()
	app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
	err = app.Run([]string{"nexusd", "export", "--db", dbPath, "--out", out})
	assert.ErrorContains(t, err, "not empty", "an export never mixes with an older one")
}

package emrtest

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func testExport(t *testing.T, newStore NewStore) {
	ctx := ctxFor("system/export")
	svc := newService(t, newStore)
	_, err := svc.ImportBundle(ctx, []byte(importBundle))
	require.NoError(t, err)
	put(t, svc, "Organization", "org-e", `{"resourceType":"Organization","name":"Export Clinic"}`)
	put(t, svc, "Patient", "gone", `{"resourceType":"Patient"}`)
	_, err = svc.Delete(ctx, "Patient", "gone", 0)
	require.NoError(t, err)

	run := func(p emr.ExportParams) (map[string]int, map[string]*bytes.Buffer) {
		files := map[string]*bytes.Buffer{}
		counts, err := svc.Export(ctx, p, func(typ string) (io.Writer, error) {
			files[typ] = &bytes.Buffer{}
			return files[typ], nil
		})
		require.NoError(t, err)
		return counts, files
	}
	counts, files := run(emr.ExportParams{})
	assert.Equal(t, map[string]int{"Patient": 1, "Encounter": 1, "Observation": 1, "Organization": 1}, counts, "deleted resources are left out")
	lines := strings.Split(strings.TrimSpace(files["Observation"].String()), "\n")
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], `{"resourceType":"Observation"`))

	counts, _ = run(emr.ExportParams{Types: []string{"Organization"}})
	assert.Equal(t, map[string]int{"Organization": 1}, counts)

	counts, _ = run(emr.ExportParams{PatientLevel: true})
	assert.Equal(t, map[string]int{"Patient": 1, "Encounter": 1, "Observation": 1}, counts, "patient level leaves out what no compartment holds")

	counts, _ = run(emr.ExportParams{Since: time.Now().Add(time.Hour)})
	assert.Empty(t, counts)

	_, err = svc.Export(ctx, emr.ExportParams{Types: []string{"Nonsense"}}, nil)
	assert.Equal(t, 400, emr.StatusFor(err))
}

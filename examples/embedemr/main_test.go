package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "clinic.db")
	require.NoError(t, run(context.Background(), dsn, &out))
	assert.Equal(t, `registered patient with MRN CLN00000001
recorded an ambulatory encounter
recorded a heart rate of 72/min
heart rate observations since 2026-03-02: 1
patients named Exam* born in 1990: 1
`, out.String())
}

func TestBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "embedemr")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "heart rate observations since 2026-03-02: 1")
}

package fhir_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// clientTestDir holds the Node client test and its package.json.
const clientTestDir = "clienttest"

// TestFHIRKitClient runs clienttest/client.mjs, which drives the handler
// with the fhir-kit-client npm package. Without node or the installed
// packages (npm ci --prefix interop/fhir/clienttest) it is skipped, except
// when CI is set, where it fails instead.
func TestFHIRKitClient(t *testing.T) {
	t.Parallel()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed, so the fhir-kit-client test cannot run: %v", err)
	}
	modules := filepath.Join(clientTestDir, "node_modules", "fhir-kit-client")
	if _, err := os.Stat(modules); err != nil {
		missing("%s is missing: run npm ci --prefix interop/fhir/clienttest to install the client test's packages", modules)
	}

	s := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs", s.base)
	cmd.Dir = clientTestDir
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node client.mjs timed out after 2 minutes; output:\n%s", out)
	}
	if err != nil {
		t.Fatalf("node client.mjs %s failed: %v; output:\n%s", s.base, err, out)
	}
	t.Logf("node client.mjs output:\n%s", out)
}

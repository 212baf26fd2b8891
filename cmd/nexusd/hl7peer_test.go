package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// peerTestDir contains the Node MLLP peer script and its package.json.
const peerTestDir = "../../interop/hl7v2/peertest"

// TestSimpleHL7Peer sends sample messages to serve's MLLP listener with
// the simple-hl7 npm package (peertest/peer.js), which checks each ACK,
// and then reads the mapped resources over FHIR. Without node or the
// installed packages (npm ci --prefix interop/hl7v2/peertest) it is
// skipped, except when CI is set, where it fails instead.
func TestSimpleHL7Peer(t *testing.T) {
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed, so the simple-hl7 peer test cannot run: %v", err)
	}
	modules := filepath.Join(peerTestDir, "node_modules", "simple-hl7")
	if _, err := os.Stat(modules); err != nil {
		missing("%s is missing: run npm ci --prefix interop/hl7v2/peertest to install the peer test's packages", modules)
	}

	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	base, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)

	testdata := filepath.Join("..", "..", "interop", "hl7v2", "testdata")
	files := []string{
		// A byte order mark, and an ADT^A01 of HL7 2.5.1 with LF line ends.
		filepath.Join(testdata, "microsoft-fhir-converter", "ADT01-28.hl7"),
		// A 24-segment ADT^A08 of HL7 2.8.
		filepath.Join(testdata, "microsoft-fhir-converter", "ADT-A08-01.hl7"),
		// An ORU^R01 with 10 OBX results under two OBR.
		filepath.Join(testdata, "microsoft-fhir-converter", "LAB-ORU-1.hl7"),
	}
	for i, f := range files {
		abs, err := filepath.Abs(f)
		require.NoError(t, err)
		files[i] = abs
	}

	out, err := runPeer(t, node, host, port, files...)
	require.NoError(t, err, "node peer.js %s %s failed; output:\n%s", host, port, out)
	t.Logf("node peer.js output:\n%s", out)
	assert.Contains(t, out, "ADT01-28.hl7: control id MSG00001: AA\n")
	assert.Contains(t, out, "ADT-A08-01.hl7: control id MSG00001: AA\n")
	assert.Contains(t, out, "LAB-ORU-1.hl7: control id 182: AA\n")
	assert.Contains(t, out, "3 messages sent, 3 accepted, 0 failed\n")

	// The ADT^A08 shares the social security number of the ADT^A01, so
	// it updates that Patient and adds its own record number.
	admitted := "urn:nexus-health-360:hl7v2:aa:ADT1|PATID1234"
	updated := "urn:nexus-health-360:hl7v2:aa:test1|PATID1234"
	query := "identifier=" + url.QueryEscape(admitted) + "&identifier=" + url.QueryEscape(updated)
	assert.Equal(t, 1, countPatients(t, base, query), "one Patient has the record numbers of the A01 and the A08")

	patients, err := svc.Search(context.Background(), "Patient",
		url.Values{"identifier": {"urn:nexus-health-360:hl7v2:aa:1|10006579"}})
	require.NoError(t, err)
	require.Len(t, patients.Resources, 1, "the ORU^R01 registers its patient")
	status, bundle := getJSON(t, base+"/Observation?subject=Patient/"+patients.Resources[0].ID)
	require.Equal(t, http.StatusOK, status)
	entries, _ := bundle["entry"].([]any)
	assert.Len(t, entries, 10, "one Observation per OBX of the ORU^R01")

	// MSH-7 and EVN-2 have no UTC offset, and serve sets no default time
	// zone, so the listener rejects the message with AE.
	zoneless := filepath.Join(testdata, "rethinkhealth-hl7v2", "mllp-client-samples", "adt-a01.hl7")
	abs, err := filepath.Abs(zoneless)
	require.NoError(t, err)
	out, err = runPeer(t, node, host, port, abs)
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr, "a rejected message makes peer.js exit non-zero; output:\n%s", out)
	assert.Equal(t, 1, exitErr.ExitCode())
	assert.Contains(t, out, "adt-a01.hl7: control id MSG00001: MSA-1 is AE, expected AA or CA; ERR||")
	assert.Contains(t, out, "1 messages sent, 0 accepted, 1 failed\n")
}

// runPeer runs peer.js on files and returns its combined output.
func runPeer(t *testing.T, node, host, port string, files ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"peer.js", host, port}, files...)...)
	cmd.Dir = peerTestDir
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node peer.js timed out after 1 minute; output:\n%s", out)
	}
	return string(out), err
}

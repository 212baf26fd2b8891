package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// TestHL7SendCountsErrorOnlyFailures sends messages whose MSH-15 and
// MSH-16 request an ACK only on error. A rejected one, in the middle or
// last, must count as failed and make the command fail.
func TestHL7SendCountsErrorOnlyFailures(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})

	unsupported := func(controlID string) string {
		return `MSH|^~\&|SCHEDAPP|CLINIC|EHRAPP|HOSP|20240315101010-0500||SIU^S12^SIU_S12|` + controlID + `|P|2.5|||ER|ER` + "\r"
	}
	file := writeMessageFile(t, "errors.hl7",
		enhancedAdmit("ER1", "MRN-ER-1", "ER", "ER"),
		unsupported("ER2"),
		admitMessage("ER3", "MRN-ER-3"),
		unsupported("ER4"),
	)

	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", addr, file})
	require.Error(t, err, "a rejected message makes the command fail")
	assert.Contains(t, stdout.String(), "errors.hl7 #2: control id ER2: CR")
	assert.Contains(t, stdout.String(), "errors.hl7 #4: control id ER4: CR")
	assert.Contains(t, stdout.String(), "4 messages sent, 2 accepted, 2 failed\n")
}

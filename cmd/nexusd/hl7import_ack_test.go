package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func TestHL7ImportWithoutACKRequest(t *testing.T) {
	svc := newTestService(t)
	noACK := strings.Replace(admitMessage("NOACK1", "MRN-NOACK-1"), "|P|2.5", "|P|2.5|||NE|NE", 1)
	received := "MSH|^~\\&|LAB|HOSP|NEXUS|HOSP|20240301101500-0500||ACK^A01^ACK|ACK1|P|2.5\rMSA|AA|C1\r"
	file := writeMessageFile(t, "mixed.hl7", noACK, received)
	h := newInboundHandler(svc, slog.New(slog.DiscardHandler), true, nil)
	h.Applier = patientApplier{svc: svc}
	ctx := emr.ContextWithActor(context.Background(), hl7Actor)

	var out, errOut bytes.Buffer
	require.NoError(t, importMessages(ctx, h, []string{file}, &out, &errOut),
		"a message that requests no ACK and a received ACK are no failures")
	assert.Contains(t, out.String(), "mixed.hl7 #1: control id NOACK1: no ACK requested created=1 updated=0 unchanged=0\n")
	assert.Contains(t, out.String(), "mixed.hl7 #2: control id ACK1: an acknowledgement, not applied\n")
}

// TestHL7ImportAppliesMessageWhole sends an A40 whose bundle of patient
// changes writes, but whose merge then fails, because the patient to
// merge was merged into another one before. The import must leave
// nothing of that message behind.
func TestHL7ImportAppliesMessageWhole(t *testing.T) {
	register := func(controlID, mrn string) string {
		return strings.Join([]string{
			`MSH|^~\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A04^ADT_A01|` + controlID + `|P|2.5`,
			`PID|1||` + mrn + `^^^HOSP^MR||ZZWHOLE^AVA||19800101|F`,
		}, "\r") + "\r"
	}
	merge := func(controlID, survivor, family, merged string) string {
		return strings.Join([]string{
			`MSH|^~\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A40^ADT_A39|` + controlID + `|P|2.5`,
			`PID|1||` + survivor + `^^^HOSP^MR||` + family + `^AVA||19800101|F`,
			`MRG|` + merged + `^^^HOSP^MR`,
		}, "\r") + "\r"
	}
	dbPath := filepath.Join(t.TempDir(), "whole.db")
	run := func(messages ...string) error {
		file := writeMessageFile(t, "messages.hl7", messages...)
		app := newApp()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		return app.Run([]string{"nexusd", "--log-level", "error", "hl7", "import", "--db", "sqlite:" + dbPath, file})
	}
	require.NoError(t, run(register("W1", "MRN-W1"), register("W2", "MRN-W2"), register("W3", "MRN-W3"),
		merge("W4", "MRN-W2", "ZZWHOLE", "MRN-W1")))

	err := run(merge("W5", "MRN-W3", "ZZRENAMED", "MRN-W1"))
	require.Error(t, err, "a patient merged before cannot be merged again")

	db, svc, err := openService(context.Background(), "sqlite:"+dbPath, emr.Config{})
	require.NoError(t, err)
	defer db.Close()
	page, err := svc.Search(context.Background(), "Patient", url.Values{"family": {"ZZRENAMED"}})
	require.NoError(t, err)
	assert.Empty(t, page.Resources, "the failed A40 changed no patient")
}

func TestParseProcessingIDs(t *testing.T) {
	tests := []struct {
		value string
		want  []string
		fails bool
	}{
		{value: "P", want: []string{"P"}},
		{value: "P, T", want: []string{"P", "T"}},
		{value: "any", want: nil},
		{value: "X", fails: true},
		{value: "", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := parseProcessingIDs(tt.value)
			if tt.fails {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestHL7ImportTrainingMessage(t *testing.T) {
	training := strings.Replace(admitMessage("TRN1", "MRN-TRN-1"), "|P|2.5", "|T|2.5", 1)
	file := writeMessageFile(t, "training.hl7", training)
	dbPath := filepath.Join(t.TempDir(), "training.db")
	run := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		app := newApp()
		app.Writer, app.ErrWriter = &stdout, io.Discard
		err := app.Run(append([]string{"nexusd", "--log-level", "error", "hl7", "import", "--db", "sqlite:" + dbPath}, args...))
		return stdout.String(), err
	}

	out, err := run(file)
	require.Error(t, err, "a production record rejects training messages by default")
	assert.Contains(t, out, "control id TRN1: AR ERR MSH^1^11 code 202")

	out, err = run("--hl7-processing-id", "P,T", file)
	require.NoError(t, err)
	assert.Contains(t, out, "control id TRN1: AA")
}

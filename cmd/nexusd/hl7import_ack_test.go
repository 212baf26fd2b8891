package main

import (
	"bytes"
	"context"
	"log/slog"
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

package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// TestServeMLLPTwoPatientsGetAE sends a PID-3 that names two stored
// patients. The message gets an AE located at PID-3 with code 205, and the
// connection carries the next message.
func TestServeMLLPTwoPatientsGetAE(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	client := dialMLLP(t, addr)

	send := func(message string) (string, string) {
		t.Helper()
		ack, err := client.Send(context.Background(), []byte(message))
		require.NoError(t, err)
		code, _, err := mllp.AckCode(ack)
		require.NoError(t, err)
		return code, string(ack)
	}
	code, _ := send(admitMessage("TWO1", "MRN-TWO-1"))
	require.Equal(t, "AA", code)
	code, _ = send(admitMessage("TWO2", "MRN-TWO-2"))
	require.Equal(t, "AA", code)

	code, ack := send(admitMessage("TWO3", "MRN-TWO-1^^^HOSP^MR~MRN-TWO-2"))
	assert.Equal(t, "AE", code)
	assert.Contains(t, ack, "\rERR||PID^1^3|205^Duplicate key identifier^HL70357|E")
	assert.NotContains(t, ack, "MRN-TWO")

	code, _ = send(admitMessage("TWO4", "MRN-TWO-3"))
	assert.Equal(t, "AA", code, "the connection stays open after the AE")
}

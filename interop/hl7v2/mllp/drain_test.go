package mllp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// TestServerHandlerErrorKeepsEarlierACKs pipelines three messages, of
// which the second fails without an ACK. The client must read the ACK of
// the first and then end of file, not a connection reset.
func TestServerHandlerErrorKeepsEarlierACKs(t *testing.T) {
	handler := mllp.HandlerFunc(func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
		if controlIDOf(message) == "FAIL2" {
			return nil, errors.New("commit failed: database is locked")
		}
		return testACK("AA", controlIDOf(message)), nil
	})
	addr := startServer(t, &mllp.Server{Handler: handler})
	conn := dialRaw(t, addr)

	var input []byte
	input = append(input, frame(string(testMessage("OK1")))...)
	input = append(input, frame(string(testMessage("FAIL2")))...)
	// A large third message stays unread in the server's receive buffer
	// when it closes.
	input = append(input, frame(string(testMessage("MORE3"))+string(bytes.Repeat([]byte("NTE|1||x\r"), 20000)))...)
	_, err := conn.Write(input)
	require.NoError(t, err)

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	got, err := io.ReadAll(conn)
	require.NoError(t, err, "the connection ends with end of file, not a reset")
	assert.Contains(t, string(got), "MSA|AA|OK1\r", "the ACK of the first message arrives")
	assert.NotContains(t, string(got), "FAIL2")
}

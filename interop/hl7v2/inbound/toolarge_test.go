package inbound_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// oversizeLimit is the size limit of the tests of oversize messages. The
// MSH segment of admission fits in it, and oversize does not.
const oversizeLimit = 200

// oversize returns an admission that is longer than oversizeLimit.
func oversize(controlID, acceptAck, appAck string) []byte {
	message := admission("ADT", "HOSP", controlID, acceptAck, appAck)
	return append(message, []byte("NTE|1||"+strings.Repeat("x", oversizeLimit)+"\r")...)
}

// tooLargeFrame returns what an MLLP server with MaxFrame oversizeLimit
// passes to HandleTooLarge for message.
func tooLargeFrame(message []byte) mllp.TooLargeFrame {
	head := message[:min(len(message), oversizeLimit)]
	return mllp.TooLargeFrame{Head: head, Size: len(message), Limit: oversizeLimit}
}

// afterMSH returns the segments of an ACK after its MSH, which has a
// control id of its own.
func afterMSH(ack []byte) string {
	_, rest, _ := bytes.Cut(ack, []byte("\r"))
	return string(rest)
}

// An MLLP frame over the limit gets the same MSA and ERR as the same
// message over Parse.Limits.MaxMessageBytes given to Process, which is
// what hl7 import sends through.
func TestTooLargeMatchesProcess(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	h.Parse.Limits.MaxMessageBytes = oversizeLimit
	message := oversize("C30", "", "")

	processed, err := h.Process(context.Background(), message)
	require.NoError(t, err)
	replies, err := h.HandleTooLarge(context.Background(), mllpConn, tooLargeFrame(message))
	require.NoError(t, err)
	require.Len(t, replies, 1)

	assert.Equal(t, afterMSH(processed.ACK), afterMSH(replies[0]))
	ack := parseACK(t, replies[0])
	assert.Equal(t, "AR", ack.Get("MSA-1"))
	assert.Equal(t, "C30", ack.Get("MSA-2"))
	assert.Equal(t, "MSH^1", ack.Get("ERR-2"))
	assert.Equal(t, "207", ack.Get("ERR-3.1"))
	assert.Equal(t, fmt.Sprintf("the message is %d bytes, more than the maximum message size of 200 bytes", len(message)),
		ack.Get("ERR-7"))
	assert.Zero(t, applier.count("C30"), "an oversize message is not applied")
}

func TestTooLargeReplies(t *testing.T) {
	t.Parallel()
	receivedACK := "MSH|^~\\&|LAB|HOSP|NEXUS|HOSP|20240301101500-0500||ACK^A01^ACK|K1|P|2.5\rMSA|AA|C1\r" +
		"NTE|1||" + strings.Repeat("x", oversizeLimit) + "\r"
	cases := []struct {
		name        string
		message     []byte
		wantErr     error
		wantCodes   []string
		wantERR     string
		wantIgnored bool
	}{
		{name: "original mode", message: oversize("C31", "", ""), wantCodes: []string{"AR"}, wantERR: "MSH^1"},
		{name: "enhanced mode", message: oversize("C32", "AL", "AL"), wantCodes: []string{"CR"}, wantERR: "MSH^1"},
		{name: "empty control id", message: oversize("", "", ""), wantCodes: []string{"AR"}, wantERR: "MSH^1^10"},
		{name: "received ACK", message: []byte(receivedACK), wantIgnored: true},
		{name: "MSH longer than the head", message: []byte("MSH|^~\\&|" + strings.Repeat("A", oversizeLimit) + "\r"),
			wantErr: inbound.ErrNoControlID},
		{name: "no MSH", message: []byte("PID|1||" + fakeRecordNumber + "||" + fakePatientName + "\r" +
			strings.Repeat("x", oversizeLimit)), wantErr: inbound.ErrNoControlID},
		{name: "bare MSH", message: []byte("MSH|\r" + strings.Repeat("x", oversizeLimit)), wantErr: inbound.ErrNoControlID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			applier := &fakeApplier{}
			h := newHandler(applier)
			h.Log = slog.New(slog.NewTextHandler(&logs, nil))

			replies, err := h.HandleTooLarge(context.Background(), mllpConn, tooLargeFrame(tc.message))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				assert.Empty(t, replies)
				assert.Contains(t, logs.String(), "message not acknowledged")
				return
			}
			require.NoError(t, err)
			if tc.wantIgnored {
				assert.Empty(t, replies, "an ACK gets no ACK")
				assert.Contains(t, logs.String(), "acknowledgement received and not acknowledged")
				return
			}
			codes := make([]string, len(replies))
			for i, reply := range replies {
				ack := parseACK(t, reply)
				codes[i] = ack.Get("MSA-1")
				assert.Equal(t, tc.wantERR, ack.Get("ERR-2"))
				assert.NotContains(t, string(reply), fakePatientName)
				assert.NotContains(t, string(reply), fakeRecordNumber)
			}
			assert.Equal(t, tc.wantCodes, codes)
			assert.Empty(t, applier.applied, "an oversize message is not applied")
			assert.Contains(t, logs.String(), "message rejected")
			assert.NotContains(t, logs.String(), fakePatientName)
			assert.NotContains(t, logs.String(), fakeRecordNumber)
		})
	}
}

// An oversize frame gets its AR over MLLP, and the connection goes on
// with the next message.
func TestTooLargeOverMLLP(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &mllp.Server{Handler: h, MaxFrame: oversizeLimit}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	client, err := mllp.Dial(context.Background(), ln.Addr().String(), mllp.ClientOptions{AckTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })

	ack, err := client.Send(context.Background(), oversize("C40", "", ""))
	require.NoError(t, err)
	code, controlID, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AR", code)
	assert.Equal(t, "C40", controlID)

	ack, err = client.Send(context.Background(), admission("ADT", "HOSP", "C41", "", ""))
	require.NoError(t, err, "the connection stays open")
	code, controlID, err = mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AA", code)
	assert.Equal(t, "C41", controlID)
	assert.Zero(t, applier.count("C40"))
	assert.Equal(t, 1, applier.count("C41"))
}

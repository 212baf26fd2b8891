package inbound_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

func TestEnhancedModeConditions(t *testing.T) {
	t.Parallel()
	locatedError := &hl7v2.ParseError{
		Kind: hl7v2.KindRequiredField, SegmentID: "PID", Segment: 2, Occurrence: 1, Field: 3,
		Offset: -1, Message: "PID-3 is required",
	}
	cases := []struct {
		name           string
		accept, app    string
		applyErr       error
		wantCommit     string
		wantAppCode    string
		wantReplyCount int
	}{
		{name: "AL AL accepted", accept: "AL", app: "AL", wantCommit: "CA", wantAppCode: "AA", wantReplyCount: 2},
		// A CE or CR ends the exchange: no application ACK follows it.
		{name: "AL AL error", accept: "AL", app: "AL", applyErr: locatedError, wantCommit: "CE", wantReplyCount: 1},
		{name: "AL AL rejected", accept: "AL", app: "AL", applyErr: inbound.ErrUnsupportedMessage, wantCommit: "CR", wantReplyCount: 1},
		{name: "NE AL error", accept: "NE", app: "AL", applyErr: locatedError, wantAppCode: "AE", wantReplyCount: 1},
		{name: "NE NE accepted", accept: "NE", app: "NE"},
		{name: "NE NE error", accept: "NE", app: "NE", applyErr: locatedError},
		{name: "ER AL accepted", accept: "ER", app: "AL", wantAppCode: "AA", wantReplyCount: 1},
		{name: "ER NE error", accept: "ER", app: "NE", applyErr: locatedError, wantCommit: "CE", wantReplyCount: 1},
		{name: "SU ER accepted", accept: "SU", app: "ER", wantCommit: "CA", wantReplyCount: 1},
		{name: "SU ER error", accept: "SU", app: "ER", applyErr: locatedError, wantAppCode: "AE", wantReplyCount: 1},
		{name: "empty MSH-15 AL", accept: "", app: "AL", wantAppCode: "AA", wantReplyCount: 1},
		{name: "unknown condition", accept: "XX", app: "NE", wantCommit: "CA", wantReplyCount: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHandler(&fakeApplier{err: tc.applyErr})
			res, err := h.Process(context.Background(), admission("ADT", "HOSP", "C7", tc.accept, tc.app))
			require.NoError(t, err)
			assert.Equal(t, tc.wantCommit, res.Code)
			assert.Equal(t, tc.wantAppCode, res.ApplicationCode)
			replies := res.Replies()
			require.Len(t, replies, tc.wantReplyCount)
			for _, reply := range replies {
				ack := parseACK(t, reply)
				assert.Equal(t, "C7", ack.Get("MSA-2"), "MSA-2 echoes MSH-10")
				assert.Equal(t, "NEXUS", ack.Get("MSH-3"), "sender and receiver are swapped")
				assert.Equal(t, "ADT", ack.Get("MSH-5"))
				if tc.applyErr == locatedError {
					assert.Contains(t, string(reply), "\rERR||PID^1^3|101^Required field missing^HL70357|E|||PID-3 is required\r")
				}
			}
			if tc.wantCommit != "" {
				assert.Equal(t, tc.wantCommit, parseACK(t, replies[0]).Get("MSA-1"))
			}
			if tc.wantAppCode != "" {
				assert.Equal(t, tc.wantAppCode, parseACK(t, replies[len(replies)-1]).Get("MSA-1"))
			}
		})
	}
}

func TestOriginalModeSingleACK(t *testing.T) {
	t.Parallel()
	h := newHandler(&fakeApplier{})
	res, err := h.Process(context.Background(), admission("ADT", "HOSP", "C8", "", ""))
	require.NoError(t, err)
	assert.Equal(t, "AA", res.Code)
	assert.Empty(t, res.ApplicationCode)
	assert.Len(t, res.Replies(), 1)
}

func TestInvalidEncodingGetsAR(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, encoding, wantCode string
		accept                   string
	}{
		{name: "repeated delimiter", encoding: `^^\&`, wantCode: "AR"},
		{name: "letter", encoding: `^~X&`, wantCode: "AR"},
		{name: "enhanced", encoding: `^~\&\`, wantCode: "CR", accept: "AL"},
		{name: "empty", encoding: ``, wantCode: "AR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			applier := &fakeApplier{}
			h := newHandler(applier)
			h.Parse = hl7v2.ParseOptions{}
			message := bytes.Replace(admission("ADT", "HOSP", "C9", tc.accept, ""), []byte(`MSH|^~\&|`),
				[]byte("MSH|"+tc.encoding+"|"), 1)
			res, err := h.Process(context.Background(), message)
			require.NoError(t, err)
			assert.Equal(t, tc.wantCode, res.Code)
			assert.Zero(t, applier.count("C9"))
			require.NotEmpty(t, res.Errors)
			for _, e := range res.Errors {
				assert.Equal(t, hl7v2.KindEncodingCharacters, e.Kind)
			}
			assert.True(t, bytes.HasPrefix(res.ACK, []byte(`MSH|^~\&|NEXUS|HOSP|ADT|HOSP|`)), string(res.ACK))
			ack := parseACK(t, res.ACK)
			assert.Equal(t, tc.wantCode, ack.Get("MSA-1"))
			assert.Equal(t, "C9", ack.Get("MSA-2"))
			assert.Equal(t, "MSH^1^2", ack.Get("ERR-2"))
			assert.Equal(t, "E", ack.Get("ERR-4"))
		})
	}
}

func TestEnhancedRepliesOverMLLP(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	addr := serveHandler(t, newHandler(applier))
	client, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{AckTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })

	replies, err := client.SendReplies(context.Background(), admission("ADT", "HOSP", "E1", "AL", "AL"), 2)
	require.NoError(t, err)
	codes := make([]string, len(replies))
	for i, reply := range replies {
		code, controlID, err := mllp.AckCode(reply)
		require.NoError(t, err)
		assert.Equal(t, "E1", controlID)
		codes[i] = code
	}
	assert.Equal(t, []string{"CA", "AA"}, codes, "commit ACK first, then application ACK")

	// A message that requests no ACK gets none, and the connection
	// stays usable for the next message.
	_, err = client.SendReplies(context.Background(), admission("ADT", "HOSP", "E2", "NE", "NE"), 0)
	require.NoError(t, err)
	ack, err := client.Send(context.Background(), admission("ADT", "HOSP", "E3", "", ""))
	require.NoError(t, err)
	code, controlID, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AA", code)
	assert.Equal(t, "E3", controlID)
	assert.Equal(t, 1, applier.count("E2"), "the message without ACK was applied")
}

// serveHandler serves h on a loopback port until the test ends and
// returns the address.
func serveHandler(t *testing.T, h *inbound.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &mllp.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestReplyCountMatchesConditions(t *testing.T) {
	t.Parallel()
	for _, accept := range []string{"AL", "NE", "ER", "SU"} {
		for _, app := range []string{"AL", "NE", "ER", "SU"} {
			name := fmt.Sprintf("%s %s", accept, app)
			h := newHandler(&fakeApplier{})
			res, err := h.Process(context.Background(), admission("ADT", "HOSP", strings.ReplaceAll(name, " ", ""), accept, app))
			require.NoError(t, err, name)
			want := 0
			if accept == "AL" || accept == "SU" {
				want++
			}
			if app == "AL" || app == "SU" {
				want++
			}
			assert.Len(t, res.Replies(), want, name)
		}
	}
}

package inbound_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

var mllpConn = mllp.ConnInfo{ID: 1}

// fakePatientName and fakeRecordNumber appear in test messages so that
// tests can check that neither reaches an ACK or a log line.
const (
	fakePatientName  = "ZZTESTFAMILY"
	fakeRecordNumber = "MRN7391846"
)

// schedulingHeader is the MSH of an SIU^S12 with MSH-15 AL and MSH-16 NE.
const schedulingHeader = `MSH|^~\&|SCHEDAPP|CLINIC|EHRAPP|HOSP|20240315101010-0500||SIU^S12^SIU_S12|CTRL0013|P|2.5|||AL|NE`

// admission returns an ADT^A01 from sender app/facility with the given
// control id, MSH-15 and MSH-16.
func admission(app, facility, controlID, acceptAck, appAck string) []byte {
	return []byte(strings.Join([]string{
		fmt.Sprintf(`MSH|^~\&|%s|%s|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|%s|P|2.5|||%s|%s`,
			app, facility, controlID, acceptAck, appAck),
		`PID|1||` + fakeRecordNumber + `^^^HOSP^MR||` + fakePatientName + `^AVA||19800101|F`,
	}, "\r") + "\r")
}

// fakeApplier counts calls per control id and returns err when set.
type fakeApplier struct {
	mu      sync.Mutex
	applied map[string]int
	err     error
}

func (f *fakeApplier) Apply(_ context.Context, msg *hl7v2.Message) (inbound.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return inbound.Outcome{}, f.err
	}
	if f.applied == nil {
		f.applied = map[string]int{}
	}
	f.applied[msg.Get("MSH-10")]++
	return inbound.Outcome{Created: 1}, nil
}

func (f *fakeApplier) count(controlID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[controlID]
}

var fixedTime = time.Date(2024, 3, 15, 15, 10, 11, 0, time.UTC)

func newHandler(a inbound.Applier) *inbound.Handler {
	return &inbound.Handler{
		Applier: a, Parse: hl7v2.ParseOptions{Lenient: true}, Seen: &inbound.MemorySeen{},
		Clock: func() time.Time { return fixedTime },
	}
}

func parseACK(t *testing.T, ack []byte) *hl7v2.Message {
	t.Helper()
	msg, err := hl7v2.Parse(ack, hl7v2.ParseOptions{})
	require.NoError(t, err)
	return msg
}

func TestACKSchedulingMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		header   string
		wantCode string
	}{
		{name: "enhanced mode", header: schedulingHeader, wantCode: "CA"},
		{name: "original mode", header: strings.TrimSuffix(schedulingHeader, "|||AL|NE"), wantCode: "AA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHandler(&fakeApplier{})
			res, err := h.Process(context.Background(), []byte(tc.header+"\r"))
			require.NoError(t, err)
			ack := parseACK(t, res.ACK)
			assert.Equal(t, "EHRAPP", ack.Get("MSH-3"))
			assert.Equal(t, "HOSP", ack.Get("MSH-4"))
			assert.Equal(t, "SCHEDAPP", ack.Get("MSH-5"))
			assert.Equal(t, "CLINIC", ack.Get("MSH-6"))
			assert.Equal(t, "ACK^S12^ACK", ack.Get("MSH-9"))
			assert.Equal(t, tc.wantCode, ack.Get("MSA-1"))
			assert.Equal(t, "CTRL0013", ack.Get("MSA-2"))
			assert.Equal(t, tc.wantCode, res.Code)
			assert.NotEqual(t, "CTRL0013", ack.Get("MSH-10"), "the ACK has a control id of its own")
			assert.Equal(t, "20240315151011+0000", ack.Get("MSH-7"), "the ACK time comes from the clock")
		})
	}
}

func TestACKCodes(t *testing.T) {
	t.Parallel()
	locatedError := &hl7v2.ParseError{
		Kind: hl7v2.KindRequiredField, SegmentID: "PID", Segment: 2, Occurrence: 1, Field: 3,
		Offset: -1, Message: "PID-3 is required",
	}
	cases := []struct {
		name       string
		enhanced   bool
		applyErr   error
		wantCode   string
		wantERR    string
		wantApply  int
		wantErrors int
	}{
		{name: "applied original", wantCode: "AA", wantApply: 1},
		{name: "applied enhanced", enhanced: true, wantCode: "CA", wantApply: 1},
		{name: "located error original", applyErr: locatedError, wantCode: "AE",
			wantERR: "ERR||PID^1^3|101^Required field missing^HL70357|E|||PID-3 is required", wantErrors: 1},
		{name: "located error enhanced", enhanced: true, applyErr: fmt.Errorf("map PID: %w", locatedError),
			wantCode: "CE", wantERR: "ERR||PID^1^3|101^Required field missing^HL70357|E|||PID-3 is required", wantErrors: 1},
		{name: "unsupported type original", applyErr: inbound.ErrUnsupportedMessage, wantCode: "AR",
			wantERR: "ERR||MSH^1^9^1^1|200^Unsupported message type^HL70357|E|||the receiver has no mapping for this message type", wantErrors: 1},
		{name: "unsupported type enhanced", enhanced: true, applyErr: inbound.ErrUnsupportedMessage, wantCode: "CR",
			wantERR: "ERR||MSH^1^9^1^1|200^Unsupported message type^HL70357|E|||the receiver has no mapping for this message type", wantErrors: 1},
		{name: "unsupported event", applyErr: fmt.Errorf("adt: %w", inbound.ErrUnsupportedEvent), wantCode: "AR",
			wantERR: "ERR||MSH^1^9^1^2|201^Unsupported event code^HL70357|E|||the receiver has no mapping for this trigger event", wantErrors: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			applier := &fakeApplier{err: tc.applyErr}
			h := newHandler(applier)
			accept, app := "", ""
			if tc.enhanced {
				accept, app = "AL", "NE"
			}
			res, err := h.Process(context.Background(), admission("ADT", "HOSP", "C1", accept, app))
			require.NoError(t, err)
			ack := parseACK(t, res.ACK)
			assert.Equal(t, tc.wantCode, ack.Get("MSA-1"))
			assert.Equal(t, "C1", ack.Get("MSA-2"))
			assert.Equal(t, tc.wantApply, applier.count("C1"))
			assert.Len(t, res.Errors, tc.wantErrors)
			if tc.wantERR != "" {
				assert.Contains(t, string(res.ACK), "\r"+tc.wantERR+"\r")
			} else {
				assert.NotContains(t, string(res.ACK), "ERR|")
			}
		})
	}
}

func TestParseFaults(t *testing.T) {
	t.Parallel()
	lf := bytes.ReplaceAll(admission("ADT", "HOSP", "C2", "", ""), []byte("\r"), []byte("\n"))
	badVersion := bytes.Replace(admission("ADT", "HOSP", "C3", "", ""), []byte("|P|2.5|"), []byte("|P|3.0|"), 1)
	badVersionEnhanced := bytes.Replace(admission("ADT", "HOSP", "C4", "AL", "NE"), []byte("|P|2.5|"), []byte("|P|3.0|"), 1)
	badEscape := bytes.Replace(admission("ADT", "HOSP", "C5", "", ""), []byte("^AVA|"), []byte(`^AVA\Q|`), 1)
	twoMessages := append(admission("ADT", "HOSP", "C6", "", ""), admission("ADT", "HOSP", "C7", "", "")...)
	cases := []struct {
		name     string
		lenient  bool
		message  []byte
		wantCode string
		wantERR  string
	}{
		{name: "LF terminators strict", message: lf, wantCode: "AE",
			wantERR: "|102^Data type error^HL70357|E"},
		{name: "LF terminators lenient", lenient: true, message: lf, wantCode: "AA"},
		{name: "unknown version", lenient: true, message: badVersion, wantCode: "AR",
			wantERR: "ERR||MSH^1^12|203^Unsupported version id^HL70357|E"},
		{name: "unknown version enhanced", lenient: true, message: badVersionEnhanced, wantCode: "CR",
			wantERR: "ERR||MSH^1^12|203^Unsupported version id^HL70357|E"},
		{name: "bad escape strict", message: badEscape, wantCode: "AE", wantERR: "ERR||PID^1^5"},
		{name: "two messages", lenient: true, message: twoMessages, wantCode: "AR",
			wantERR: "|100^Segment sequence error^HL70357|E"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			applier := &fakeApplier{}
			h := newHandler(applier)
			h.Parse.Lenient = tc.lenient
			res, err := h.Process(context.Background(), tc.message)
			require.NoError(t, err)
			// The ACK copies MSH-12, so an ACK to version 3.0 does not
			// parse either, and mllp.AckCode reads it.
			code, controlID, err := mllp.AckCode(res.ACK)
			require.NoError(t, err)
			assert.Equal(t, tc.wantCode, code)
			assert.NotEmpty(t, controlID)
			if tc.wantERR != "" {
				assert.Contains(t, string(res.ACK), tc.wantERR)
				assert.Zero(t, applier.count(controlID), "a faulty message is not applied")
			}
			assert.NotContains(t, string(res.ACK), fakePatientName)
			assert.NotContains(t, string(res.ACK), fakeRecordNumber)
		})
	}
}

func TestUnreadableControlIDGetsNoACK(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		message []byte
	}{
		{name: "no MSH", message: []byte("PID|1||" + fakeRecordNumber + "\r")},
		{name: "empty input", message: nil},
		{name: "bare MSH", message: []byte("MSH|")},
		{name: "bare MSH with CR", message: []byte("MSH|\r")},
		{name: "empty MSH-2 and MSH-10", message: []byte(
			"MSH||ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01||P|2.5\rPID|1||" + fakeRecordNumber + "\r")},
		{name: "invalid MSH-2 and empty MSH-10", message: []byte(
			"MSH|^^|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01||P|2.5\r")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			applier := &fakeApplier{}
			h := newHandler(applier)
			ack, err := h.HandleMessage(context.Background(), mllpConn, tc.message)
			require.ErrorIs(t, err, inbound.ErrNoControlID)
			assert.Nil(t, ack)
			assert.Empty(t, applier.applied)
		})
	}
}

// The MLLP server closes the connection without an ACK when the handler
// returns ErrNoControlID, so a bare MSH gets no frame back.
func TestBareMSHClosesConnection(t *testing.T) {
	t.Parallel()
	addr := serveHandler(t, newHandler(&fakeApplier{}))
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	// The deadline only bounds a broken test, and the server closes the
	// connection long before it.
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))

	_, err = conn.Write([]byte("\x0bMSH|\x1c\r"))
	require.NoError(t, err)
	received, err := io.ReadAll(conn)
	require.NoError(t, err, "the server closes the connection")
	assert.Empty(t, received, "no ACK is written")
}

func TestOversizeMessageRejectedFromHeader(t *testing.T) {
	t.Parallel()
	h := newHandler(&fakeApplier{})
	h.Parse.Limits.MaxMessageBytes = 200
	message := append(admission("ADT", "HOSP", "C8", "", ""), []byte("NTE|1||"+strings.Repeat("x", 300)+"\r")...)
	res, err := h.Process(context.Background(), message)
	require.NoError(t, err)
	ack := parseACK(t, res.ACK)
	assert.Equal(t, "AR", ack.Get("MSA-1"), "a message past the limit is rejected as a whole")
	assert.Equal(t, "C8", ack.Get("MSA-2"))
	assert.Contains(t, string(res.ACK), "|207^Application internal error^HL70357|E")
}

func TestInternalErrorGetsNoACK(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{err: errors.New("database is down")}
	h := newHandler(applier)
	message := admission("ADT", "HOSP", "C9", "", "")
	ack, err := h.HandleMessage(context.Background(), mllpConn, message)
	require.Error(t, err)
	assert.Nil(t, ack)
	assert.Contains(t, err.Error(), "database is down")

	applier.mu.Lock()
	applier.err = nil
	applier.mu.Unlock()
	ack, err = h.HandleMessage(context.Background(), mllpConn, message)
	require.NoError(t, err)
	assert.Equal(t, "AA", parseACK(t, ack).Get("MSA-1"))
	assert.Equal(t, 1, applier.count("C9"), "the failed attempt was not recorded as applied")
}

func TestDuplicateAppliedOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		acceptAk string
		wantCode string
	}{
		{name: "original mode", wantCode: "AA"},
		{name: "enhanced mode", acceptAk: "AL", wantCode: "CA"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			applier := &fakeApplier{}
			h := newHandler(applier)
			message := admission("ADT", "HOSP", "C10", tc.acceptAk, "")
			first, err := h.Process(context.Background(), message)
			require.NoError(t, err)
			second, err := h.Process(context.Background(), message)
			require.NoError(t, err)

			assert.Equal(t, 1, applier.count("C10"))
			assert.False(t, first.Duplicate)
			assert.True(t, second.Duplicate)
			assert.Equal(t, tc.wantCode, parseACK(t, second.ACK).Get("MSA-1"))
			assert.Equal(t, inbound.Outcome{Created: 1}, first.Outcome)
		})
	}
}

func TestSameControlIDOtherSender(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	for _, sender := range [][2]string{{"ADT", "HOSP"}, {"ADT", "CLINIC"}, {"LAB", "HOSP"}} {
		res, err := h.Process(context.Background(), admission(sender[0], sender[1], "C11", "", ""))
		require.NoError(t, err)
		assert.False(t, res.Duplicate, "%s/%s", sender[0], sender[1])
	}
	assert.Equal(t, 3, applier.count("C11"), "the control id is unique per sender only")
}

func TestNilSeenAppliesEveryTime(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	h.Seen = nil
	message := admission("ADT", "HOSP", "C12", "", "")
	for range 2 {
		_, err := h.Process(context.Background(), message)
		require.NoError(t, err)
	}
	assert.Equal(t, 2, applier.count("C12"))
}

// failingSeen fails Record, as a database that went down after Apply.
type failingSeen struct{ inbound.MemorySeen }

func (*failingSeen) Record(context.Context, string) error { return errors.New("database is down") }

func TestRecordFailureGetsNoACK(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	h.Seen = &failingSeen{}
	ack, err := h.HandleMessage(context.Background(), mllpConn, admission("ADT", "HOSP", "C13", "", ""))
	require.Error(t, err)
	assert.Nil(t, ack)
	assert.Contains(t, err.Error(), "recording its control id failed")
}

func TestHandlerRequiresApplier(t *testing.T) {
	t.Parallel()
	h := &inbound.Handler{}
	_, err := h.Process(context.Background(), admission("ADT", "HOSP", "C14", "", ""))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Handler.Applier is nil")
}

func TestLogsCarryNoPatientData(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	locatedError := &hl7v2.ParseError{
		Kind: hl7v2.KindDataType, SegmentID: "PID", Segment: 2, Occurrence: 1, Field: 5,
		Offset: -1, Message: "PID-5 is not a person name",
	}
	for _, applyErr := range []error{nil, locatedError, inbound.ErrUnsupportedMessage, errors.New("database is down")} {
		h := newHandler(&fakeApplier{err: applyErr})
		h.Log = slog.New(slog.NewTextHandler(&logs, nil))
		_, _ = h.Process(context.Background(), admission("ADT", "HOSP", "C15", "", ""))
	}
	strict := newHandler(&fakeApplier{})
	strict.Parse.Lenient = false
	strict.Log = slog.New(slog.NewTextHandler(&logs, nil))
	_, _ = strict.Process(context.Background(), bytes.ReplaceAll(admission("ADT", "HOSP", "C16", "", ""), []byte("\r"), []byte("\n")))

	out := logs.String()
	assert.Contains(t, out, "control_id=C15")
	assert.Contains(t, out, "message_type=ADT^A01^ADT_A01")
	assert.Contains(t, out, "sender=ADT/HOSP")
	assert.Contains(t, out, "ack=AA")
	assert.Contains(t, out, "ack=AE")
	assert.Contains(t, out, "ack=AR")
	assert.Contains(t, out, "outcome=\"created=1 updated=0 unchanged=0\"")
	assert.Contains(t, out, "PID(1)-5 data type")
	assert.Contains(t, out, "message not acknowledged")
	assert.Contains(t, out, "duration=")
	assert.NotContains(t, out, fakePatientName)
	assert.NotContains(t, out, fakeRecordNumber)
}

func TestReusedControlIDWithOtherContentApplied(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	first := admission("ADT", "HOSP", "C20", "", "")
	// The same control id on different content, as some senders reuse it.
	other := bytes.Replace(first, []byte("ADT^A01"), []byte("ADT^A08"), 1)
	require.NotEqual(t, first, other)
	_, err := h.Process(context.Background(), first)
	require.NoError(t, err)
	res, err := h.Process(context.Background(), other)
	require.NoError(t, err)
	assert.False(t, res.Duplicate, "different content is not a duplicate")
	assert.Equal(t, 2, applier.count("C20"), "nothing is dropped")
	again, err := h.Process(context.Background(), first)
	require.NoError(t, err)
	assert.True(t, again.Duplicate, "an identical resend is still skipped")
}

func TestEmptyControlIDGetsAR(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	ack, err := h.HandleMessage(context.Background(), mllpConn, admission("ADT", "HOSP", "", "", ""))
	require.NoError(t, err, "a readable header without MSH-10 is answered, so the sender stops resending")
	parsed := parseACK(t, ack)
	assert.Equal(t, "AR", parsed.Get("MSA-1"))
	assert.Equal(t, "", parsed.Get("MSA-2"))
	assert.Equal(t, "MSH", parsed.Get("ERR-2.1"))
	assert.Equal(t, "10", parsed.Get("ERR-2.3"))
	assert.Empty(t, applier.applied)
}

package hl7v2

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEmptyEncodingCharacters(t *testing.T) {
	t.Parallel()
	data := []byte("MSH||ADT|HOSP|EHR|HOSP|20240301101500||ADT^A01|C1|P|2.5\rPID|1\r")
	for _, lenient := range []bool{false, true} {
		msg, err := Parse(data, ParseOptions{Lenient: lenient})
		require.Error(t, err)
		e := Errors(err)[0]
		assert.Equal(t, KindEncodingCharacters, e.Kind)
		assert.Equal(t, "MSH(1)-2", e.Location())
		require.NotNil(t, msg)
		assert.False(t, msg.Header().ValidEncoding())
	}
}

// TestACKLocatesInvalidSegmentIDs checks ERR-2 for segments whose id is
// not three uppercase letters or digits.
func TestACKLocatesInvalidSegmentIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		segment  string
		location string
	}{
		{"lowercase standard id", "pid|1", "pid^1"},
		{"mixed case standard id", "Pv1|1", "Pv1^1"},
		{"lowercase unknown id", "abc|1", "^2"},
		{"four characters", "PIDX|1", "^2"},
		{"two characters", "PV|1", "^2"},
		{"leading space", " PID|1", "^2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg, err := Parse(crMessage(admitSegments[0], tt.segment), ParseOptions{Lenient: true})
			require.Error(t, err)
			ack, err := BuildACK(msg.Header(), AckError, Errors(err), time.Unix(0, 0), "A1")
			require.NoError(t, err)
			parsed, err := Parse(ack, ParseOptions{})
			require.NoError(t, err)
			assert.Equal(t, tt.location, parsed.Get("ERR-2"))
			assert.Equal(t, "100", parsed.Get("ERR-3.1"))
		})
	}
}

func TestACKLocatesWholeMessageAtMSH(t *testing.T) {
	t.Parallel()
	hdr, err := ParseHeader([]byte("MSH|^~\\&|ADT|HOSP|EHR|HOSP|20240301101500||ADT^A01|C1|P|2.5\r"))
	require.NoError(t, err)
	tooLarge := &ParseError{Kind: KindLimit, Limit: "MaxMessageBytes", Offset: 0, Message: "too large"}
	ack, err := BuildACK(hdr, AckReject, []*ParseError{tooLarge}, time.Unix(0, 0), "A1")
	require.NoError(t, err)
	parsed, err := Parse(ack, ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MSH^1", parsed.Get("ERR-2"))
	assert.Equal(t, "207", parsed.Get("ERR-3.1"))
}

// ackErrorLocations parses data, builds an AE with its errors and warnings
// and returns ERR-2, ERR-3.1 and ERR-4 of each ERR segment, joined by
// spaces.
func ackErrorLocations(t *testing.T, data []byte, opts ParseOptions) []string {
	t.Helper()
	msg, err := Parse(data, opts)
	require.NotNil(t, msg, "%v", err)
	problems := append(Errors(err), msg.Warnings()...)
	ack, err := BuildACK(msg.Header(), AckError, problems, time.Unix(0, 0), "A1")
	require.NoError(t, err)
	parsed, err := Parse(ack, ParseOptions{})
	require.NoError(t, err)
	var out []string
	for _, seg := range parsed.Segments() {
		if seg.ID() != "ERR" {
			continue
		}
		path := fmt.Sprintf("ERR(%d)", len(out)+1)
		out = append(out, parsed.Get(path+"-2")+" "+parsed.Get(path+"-3.1")+" "+parsed.Get(path+"-4"))
	}
	return out
}

func TestACKLocatesSegmentFaults(t *testing.T) {
	t.Parallel()
	const (
		msh     = `MSH|^~\&|ADT|HOSP|EHR|HOSP|20240301101500||ADT^A01|C1|P|2.5`
		mshUTF8 = msh + `||||||UNICODE UTF-8`
		evn     = `EVN|A01|20240301101500`
		pid     = `PID|1||100001^^^HOSP^MR||TESTER^AVA||19800101|F`
		pv1     = `PV1|1|I|W1^101^A`
	)
	tests := []struct {
		name    string
		data    []byte
		lenient bool
		want    []string
	}{
		{"blank lines after last segment", crMessage(msh, evn, pid, pv1, "", ""), false,
			[]string{"^5 102 E", "^6 102 E"}},
		{"blank line between segments", crMessage(msh, evn, "", "ZZTESTNAME|x", pv1), false,
			[]string{"^3 102 E", "^4 100 E"}},
		{"blank line in lenient mode", crMessage(msh, evn, "", pid), true,
			[]string{"^3 102 W"}},
		{"blank line before MSH", crMessage("", msh, evn), false,
			[]string{"MSH^1 102 E"}},
		{"FS before segment id", crMessage(msh, evn, pid, "\x1cPV1|1|I"), false,
			[]string{"^4 100 E"}},
		{"segment id too long", crMessage(msh, evn, "ZZTESTNAME|x", pv1), false,
			[]string{"^3 100 E"}},
		{"segment before MSH", crMessage(evn, msh, pid), false,
			[]string{"MSH^1 100 E"}},
		{"Latin-1 byte in UTF-8 PID", crMessage(mshUTF8, evn, "PID|1||100001^^^HOSP^MR||TESTER^REN\xe9||19800101|F", pv1), false,
			[]string{"PID^1^5^1^2^1 102 E"}},
		{"Latin-1 byte in lenient mode", crMessage(mshUTF8, evn, "PID|1||100001^^^HOSP^MR||TESTER^REN\xe9", pv1), true,
			[]string{"PID^1^5^1^2^1 102 W"}},
		{"invalid byte in second NTE", crMessage(mshUTF8, "NTE|1||plain", "NTE|2||caf\xe9"), false,
			[]string{"NTE^2^3^1^1^1 102 E"}},
		{"invalid byte in repetition", crMessage(mshUTF8, "PID|1||1^^^HOSP^MR~2^^^H\xe9&X^MR"), false,
			[]string{"PID^1^3^2^4^1 102 E"}},
		{"invalid byte in MSH", crMessage(strings.Replace(mshUTF8, "|EHR|", "|EHR\xe9|", 1)), false,
			[]string{"MSH^1^5^1^1^1 102 E"}},
		{"LF after PID", []byte(msh + "\r" + evn + "\r" + pid + "\n" + pv1 + "\r"), false,
			[]string{"PID^1 102 E"}},
		{"LF after lowercase id", []byte(msh + "\r" + evn + "\rpid|1\n" + pv1 + "\r"), false,
			[]string{"pid^1 102 E", "pid^1 100 E"}},
		{"no CR after last segment", []byte(msh + "\r" + evn + "\r" + pv1), false,
			[]string{"PV1^1 102 E"}},
		{"batch segment", crMessage(msh, evn, `BHS|^~\&`), false,
			[]string{"BHS^1 100 E"}},
		{"second message", crMessage(msh, evn, msh, evn), false,
			[]string{"MSH^2 100 E"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ackErrorLocations(t, tt.data, ParseOptions{Lenient: tt.lenient})
			assert.Equal(t, tt.want, got)
		})
	}
}

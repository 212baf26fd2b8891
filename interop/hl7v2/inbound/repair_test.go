package inbound_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

func TestLenientRepairsLogged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		message  string
		location string
	}{
		{"truncation character before 2.7", strings.Join([]string{
			`MSH|^~\&#|LIS|LABFAC|HIS|HOSP|20240305101500-0500||ORU^R01^ORU_R01|REP1|P|2.5`,
			`PID|1||500005^^^HOSP^MR||ZZREPAIR^DARIO||19900707|M`}, "\r") + "\r", "MSH(1)-2"},
		{"short MSH-7 offset", strings.Join([]string{
			`MSH|^~\&|MONGW|ICU|||20240311140114+08||ORU^R01^ORU_R01|REP2|P|2.6`,
			`PID|||110011^^^HOSP^PI||ZZREPAIR^IKE`}, "\r") + "\r", "MSH(1)-7"},
		{"LF terminators", strings.Join([]string{
			`MSH|^~\&|REG|HOSP|EHR|HOSP|20240303090000-0500||ADT^A04|REP3|P|2.5`,
			`PID|1||400004^^^HOSP^MR||ZZREPAIR^CLEO`}, "\n") + "\n", "segment terminator"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			h := newHandler(&fakeApplier{})
			h.Log = slog.New(slog.NewTextHandler(&logs, nil))
			res, err := h.Process(context.Background(), []byte(tc.message))
			require.NoError(t, err)
			assert.Equal(t, "AA", res.Code)
			require.NotEmpty(t, res.Warnings)
			out := logs.String()
			assert.Contains(t, out, "level=WARN")
			assert.Contains(t, out, "lenient repairs")
			assert.Contains(t, out, tc.location)
			assert.NotContains(t, out, "ZZREPAIR", "no patient data in the log")
		})
	}
}

func TestReceivedACKNotAcknowledged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	applier := &fakeApplier{}
	h := newHandler(applier)
	h.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ack := "MSH|^~\\&|LAB|HOSP|NEXUS|HOSP|20240301101500-0500||ACK^A01^ACK|K1|P|2.5\rMSA|AA|C1\r"
	res, err := h.Process(context.Background(), []byte(ack))
	require.NoError(t, err)
	assert.True(t, res.IgnoredACK)
	assert.Empty(t, res.Replies(), "an ACK gets no ACK")
	assert.Zero(t, applier.count("K1"), "an ACK is not applied")
	assert.Contains(t, logs.String(), "acknowledgement received and not acknowledged")
}

func TestAcknowledgmentConditionOutsideTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		accept, app, path string
	}{
		{"unknown MSH-15", "XX", "NE", "MSH^1^15"},
		{"lowercase MSH-16", "NE", "al", "MSH^1^16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			message := admission("ADT", "HOSP", "T155", tc.accept, tc.app)

			strict := newHandler(&fakeApplier{})
			strict.Parse.Lenient = false
			res, err := strict.Process(context.Background(), message)
			require.NoError(t, err)
			replies := res.Replies()
			require.Len(t, replies, 1, "the value outside the table is read as AL")
			ack := parseACK(t, replies[0])
			assert.Contains(t, []string{"AE", "CE"}, ack.Get("MSA-1"))
			assert.Equal(t, tc.path, ack.Get("ERR-2"))
			assert.Equal(t, "103", ack.Get("ERR-3.1"))

			lenient := newHandler(&fakeApplier{})
			res, err = lenient.Process(context.Background(), message)
			require.NoError(t, err)
			assert.Empty(t, res.Errors)
			assert.NotEmpty(t, res.Warnings, "lenient mode records the repair")
		})
	}
}

func TestProcessingIDNotAccepted(t *testing.T) {
	t.Parallel()
	applier := &fakeApplier{}
	h := newHandler(applier)
	h.ProcessingIDs = []string{"P"}
	training := strings.Replace(string(admission("ADT", "HOSP", "TRAIN1", "", "")), "|P|2.5", "|T|2.5", 1)

	res, err := h.Process(context.Background(), []byte(training))
	require.NoError(t, err)
	ack := parseACK(t, res.ACK)
	assert.Equal(t, "AR", ack.Get("MSA-1"))
	assert.Equal(t, "MSH^1^11", ack.Get("ERR-2"))
	assert.Equal(t, "202", ack.Get("ERR-3.1"))
	assert.Zero(t, applier.count("TRAIN1"), "a training message is not applied")

	res, err = h.Process(context.Background(), admission("ADT", "HOSP", "PROD1", "", ""))
	require.NoError(t, err)
	assert.Equal(t, "AA", res.Code)
}

func TestProcessingIDMissingOrLowercase(t *testing.T) {
	t.Parallel()
	h := newHandler(&fakeApplier{})
	h.ProcessingIDs = []string{"P", "T"}
	message := string(admission("ADT", "HOSP", "PID11", "", ""))

	res, err := h.Process(context.Background(), []byte(strings.Replace(message, "|P|2.5", "||2.5", 1)))
	require.NoError(t, err)
	// The ACK repeats the empty MSH-11, which only lenient parsing reads.
	ack, err := hl7v2.Parse(res.ACK, hl7v2.ParseOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, "AR", ack.Get("MSA-1"))
	assert.Equal(t, "MSH^1^11", ack.Get("ERR-2"))
	assert.Equal(t, "101", ack.Get("ERR-3.1"), "a missing MSH-11 is a required field")

	res, err = h.Process(context.Background(), []byte(strings.Replace(message, "|P|2.5", "|t|2.5", 1)))
	require.NoError(t, err)
	assert.Equal(t, "AA", res.Code, "a lowercase t is training")
}

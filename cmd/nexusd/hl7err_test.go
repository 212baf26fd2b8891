package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// errPatientName and errRecordNumber are the fake patient data of the ERR
// tests, which no ACK may contain.
const (
	errPatientName  = "ZZERRFAMILY"
	errRecordNumber = "MRN-ERR-7"
)

// ambiguousPractitioner and ambiguousDevice are identifiers that two
// stored resources each hold, so that a message naming one fails with
// HL7 error 205 at the field that names it.
const (
	ambiguousPractitioner = "DOC-TWICE"
	ambiguousDevice       = "DEV-TWICE"
)

// seedAmbiguous stores two Practitioners and two Devices with the same
// identifiers, in the system that v2fhir gives ids of sender HOSP.
func seedAmbiguous(t *testing.T, svc *emr.Service) {
	t.Helper()
	ctx := emr.ContextWithActor(context.Background(), "test")
	for range 2 {
		for typ, value := range map[string]string{"Practitioner": ambiguousPractitioner, "Device": ambiguousDevice} {
			body := `{"resourceType":"` + typ + `","identifier":[{"system":"urn:nexus-health-360:hl7v2:aa:HOSP","value":"` + value + `"}]}`
			_, err := svc.Create(ctx, typ, []byte(body))
			require.NoError(t, err)
		}
	}
}

func TestHL7ErrLocations(t *testing.T) {
	const adt = `MSH|^~\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|ERR1|P|2.5`
	const oru = `MSH|^~\&|LIS|HOSP|NEXUS|HOSP|20240301101500-0500||ORU^R01^ORU_R01|ERR2|P|2.5`
	const pid = `PID|1||` + errRecordNumber + `^^^HOSP^MR||` + errPatientName + `^AVA||19800101|F`
	const obr = `OBR|1||FIL-ERR^LIS|2345-7^Glucose^LN|||20240301100000-0500`
	const obx = `OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F|||20240301100000-0500`
	cases := []errLocationCase{
		{"empty MSH-2", []string{`MSH||ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01|ERR3|P|2.5`, pid},
			"AR", "MSH^1^2", "102"},
		{"lowercase segment id", []string{adt, strings.Replace(pid, "PID", "pid", 1)},
			"AE", "pid^1", "100"},
		{"four-character segment id", []string{adt, pid, `PV1X|1|I`},
			"AE", "^3", "100"},
		{"two-character segment id", []string{adt, pid, `PV|1|I`},
			"AE", "^3", "100"},
		{"missing PID-3", []string{adt, `PID|1||||` + errPatientName + `^AVA`},
			"AE", "PID^1^3", "101"},
		{"second PID in an admit", []string{adt, pid, `PID|2||MRN-ERR-8^^^HOSP^MR`},
			"AE", "PID^2", "100"},
		{"PV1-7 names two practitioners", []string{adt, pid, `PV1|1|I|W1^101||||` + ambiguousPractitioner + `^DOC^ANNA`},
			"AE", "PV1^1^7^1", "205"},
		{"PV1-17 second repetition", []string{adt, pid,
			`PV1|1|I|W1^101||||||||||||||DOC-ONE^DOC^BEN~` + ambiguousPractitioner + `^DOC^ANNA`},
			"AE", "PV1^1^17^2", "205"},
		{"OBX-16 names two practitioners", []string{oru, pid, obr, obx,
			`OBX|2|NM|2951-2^Sodium^LN||140|mmol/L^^UCUM|||||F|||20240301100000-0500||` + ambiguousPractitioner},
			"AE", "OBX^2^16^1", "205"},
		{"OBX-18 names two devices", []string{oru, pid, obr,
			`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F|||20240301100000-0500||||` + ambiguousDevice},
			"AE", "OBX^1^18^1", "205"},
		{"PID-8 outside table 0001", []string{adt, strings.Replace(pid, "|19800101|F", "|19800101|Q", 1)},
			"AE", "PID^1^8", "103"},
		{"OBX-2 outside table 0125", []string{oru, pid, obr, strings.Replace(obx, "|NM|", "|QQ|", 1)},
			"AE", "OBX^1^2", "103"},
		{"OBX-11 outside table 0085", []string{oru, pid, obr, strings.Replace(obx, "|||||F|", "|||||Q|", 1)},
			"AE", "OBX^1^11", "103"},
		{"OBX-5 not a number", []string{oru, pid, obr, strings.Replace(obx, "|5.4|", "|five|", 1)},
			"AE", "OBX^1^5", "102"},
		{"unsupported message type", []string{strings.Replace(adt, "ADT^A01^ADT_A01", "MDM^T02", 1), pid},
			"AR", "MSH^1^9^1^1", "200"},
		{"unsupported version", []string{strings.Replace(adt, "|P|2.5", "|P|3.0", 1), pid},
			"AR", "MSH^1^12", "203"},
		// The clinical record rejects these when the transaction writes
		// them, after the mapping found nothing wrong.
		{"PID-5 over the list limit", []string{adt, `PID|1||MRN-ERR-9^^^HOSP^MR||` +
			strings.Repeat("ZZ^A~", 12_000) + `||19800101|F`},
			"AE", "PID^1^3", "207"},
		{"PID-3 held by another patient", []string{adt, `PID|1||` + heldRecordNumber + `^^^HOSP^MR~` +
			errRecordNumber + `^^^OTHER^MR||` + errPatientName + `^AVA||19800101|F`},
			"AE", "PID^1^3", "205"},
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := migratedService(t, db)
		seedAmbiguous(t, svc)
		seedHeldIdentifier(t, svc)
		// The MLLP listener applies messages in group commits, and hl7
		// import one at a time: both must acknowledge alike.
		for _, handler := range []struct {
			name string
			h    *inbound.Handler
		}{
			{"one at a time", newInboundHandler(svc, slog.New(slog.DiscardHandler), true, nil)},
			{"group commit", groupHandler(svc)},
		} {
			t.Run(handler.name, func(t *testing.T) { checkErrLocations(t, handler.h, cases) })
		}
	})
}

// errLocationCase is a message and the ACK expected for it.
type errLocationCase struct {
	name     string
	segments []string
	code     string // MSA-1
	location string // ERR-2
	errCode  string // ERR-3.1
}

// heldRecordNumber is the record number of a stored patient.
const heldRecordNumber = "MRN-HELD-1"

// seedHeldIdentifier stores a patient with heldRecordNumber of HOSP and
// another with errRecordNumber of OTHER, so that a message that gives the
// first patient both identifiers fails when its transaction writes.
func seedHeldIdentifier(t *testing.T, svc *emr.Service) {
	t.Helper()
	ctx := emr.ContextWithActor(context.Background(), "test")
	for authority, value := range map[string]string{"HOSP": heldRecordNumber, "OTHER": errRecordNumber} {
		body := `{"resourceType":"Patient","identifier":[{"system":"urn:nexus-health-360:hl7v2:aa:` + authority + `","value":"` + value + `"}]}`
		_, err := svc.Create(ctx, "Patient", []byte(body))
		require.NoError(t, err)
	}
}

// groupHandler returns the handler of the MLLP listener: the mapping
// applied in group commits.
func groupHandler(svc *emr.Service) *inbound.Handler {
	return &inbound.Handler{
		Group: &inbound.GroupCommit{Applier: newBatchApplier(svc, nil)},
		Log:   slog.New(slog.DiscardHandler),
		Parse: hl7v2.ParseOptions{Lenient: true},
	}
}

func checkErrLocations(t *testing.T, h *inbound.Handler, cases []errLocationCase) {
	ctx := emr.ContextWithActor(context.Background(), hl7Actor)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.Process(ctx, []byte(strings.Join(tc.segments, "\r")+"\r"))
			require.NoError(t, err)
			require.NotNil(t, res.ACK)
			// The ACK of an unsupported version repeats MSH-12, which
			// the parser rejects, but the message is still read.
			ack, _ := hl7v2.Parse(res.ACK, hl7v2.ParseOptions{Lenient: true})
			require.NotNil(t, ack)
			assert.Equal(t, tc.code, ack.Get("MSA-1"))
			require.Len(t, ack.SegmentsByID("ERR"), 1, "one ERR segment")
			assert.Equal(t, tc.location, ack.Get("ERR-2"))
			assert.Equal(t, tc.errCode, ack.Get("ERR-3.1"))
			assert.Equal(t, "HL70357", ack.Get("ERR-3.3"))
			assert.Equal(t, "E", ack.Get("ERR-4"))
			assert.NotContains(t, string(res.ACK), errPatientName)
			assert.NotContains(t, string(res.ACK), errRecordNumber)
		})
	}
}

// TestHL7ErrLocationsStrict sends the deviations that lenient mode
// accepts to a handler with --hl7-lenient=false.
func TestHL7ErrLocationsStrict(t *testing.T) {
	cases := []struct {
		name     string
		message  string
		code     string
		location string
		errCode  string
	}{
		{"short MSH-7 offset", strings.Join([]string{
			`MSH|^~\&|MONGW|ICU|||20240311140114+08||ORU^R01^ORU_R01|STR1|P|2.6`,
			`PID|||110011^^^HOSP^PI||TESTER^IKE`}, "\r") + "\r", "AE", "MSH^1^7", "102"},
		{"LF terminators", strings.Join([]string{
			`MSH|^~\&|REG|HOSP|EHR|HOSP|20240303090000-0500||ADT^A04|STR2|P|2.4`,
			`PID|1||400004^^^HOSP^MR||TESTER^CLEO`, `PV1|1|O`}, "\n") + "\n", "AE", "MSH^1", "102"},
	}
	svc := newTestService(t)
	h := newInboundHandler(svc, slog.New(slog.DiscardHandler), false, nil)
	ctx := emr.ContextWithActor(context.Background(), hl7Actor)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.Process(ctx, []byte(tc.message))
			require.NoError(t, err)
			ack, err := hl7v2.Parse(res.ACK, hl7v2.ParseOptions{})
			require.NoError(t, err)
			assert.Equal(t, tc.code, ack.Get("MSA-1"))
			require.NotEmpty(t, ack.SegmentsByID("ERR"))
			assert.Equal(t, tc.location, ack.Get("ERR-2"))
			assert.Equal(t, tc.errCode, ack.Get("ERR-3.1"))
		})
	}
}

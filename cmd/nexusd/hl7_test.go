package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// testIdentifierSystem is the identifier system that patientApplier
// gives PID-3.
const testIdentifierSystem = "urn:nexus-test:mrn"

// admitMessage returns an ADT^A01 for record number mrn, with CR line
// ends.
func admitMessage(controlID, mrn string) string {
	return strings.Join([]string{
		`MSH|^~\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|` + controlID + `|P|2.5`,
		`PID|1||` + mrn + `^^^HOSP^MR||ZZHL7FAMILY^AVA||19800101|F`,
	}, "\r") + "\r"
}

// patientApplier replaces the v2 to FHIR mapping in these tests. It
// stores a Patient with PID-3.1 as identifier and PID-5.1 as family name.
type patientApplier struct {
	svc *emr.Service
	// applying, when set, receives each message before it is stored, and
	// the store waits for proceed.
	applying chan<- string
	proceed  <-chan struct{}
}

func (a patientApplier) Apply(ctx context.Context, msg *hl7v2.Message) (inbound.Outcome, error) {
	if a.applying != nil {
		a.applying <- msg.Get("MSH-10")
		<-a.proceed
	}
	body, err := json.Marshal(map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{map[string]any{"system": testIdentifierSystem, "value": msg.Get("PID-3.1")}},
		"name":         []any{map[string]any{"family": msg.Get("PID-5.1")}},
	})
	if err != nil {
		return inbound.Outcome{}, err
	}
	if _, err := a.svc.Create(ctx, "Patient", body); err != nil {
		return inbound.Outcome{}, err
	}
	return inbound.Outcome{Created: 1}, nil
}

func newTestService(t *testing.T) *emr.Service {
	t.Helper()
	return migratedService(t, storagetest.SQLite(t))
}

// migratedService applies the clinical record migrations to db and
// returns a service with the default configuration on it.
func migratedService(t testing.TB, db *storage.DB) *emr.Service {
	t.Helper()
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	return svc
}

// startHL7Server serves on loopback ports with the MLLP listener on and
// returns the FHIR base URL and the MLLP address.
func startHL7Server(t *testing.T, o serveOptions) (string, string) {
	t.Helper()
	mllpReady := make(chan string, 1)
	o.mllp.addr, o.mllp.ready, o.mllp.lenient = "127.0.0.1:0", mllpReady, true
	base := startServer(t, o)
	return base, <-mllpReady
}

func dialMLLP(t *testing.T, addr string) *mllp.Client {
	t.Helper()
	client, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{AckTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	return client
}

// countPatients returns the number of entries of a Patient search.
func countPatients(t *testing.T, base, query string) int {
	t.Helper()
	status, bundle := getJSON(t, base+"/Patient?"+query)
	require.Equal(t, http.StatusOK, status)
	entries, _ := bundle["entry"].([]any)
	return len(entries)
}

func TestServeMLLPAppliesMessage(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	base, addr := startHL7Server(t, serveOptions{db: db, svc: svc, mllp: mllpOptions{applier: patientApplier{svc: svc}}})
	client := dialMLLP(t, addr)

	message := []byte(admitMessage("SERVE1", "MRN-SERVE-1"))
	for range 2 {
		ack, err := client.Send(context.Background(), message)
		require.NoError(t, err)
		code, controlID, err := mllp.AckCode(ack)
		require.NoError(t, err)
		assert.Equal(t, "AA", code)
		assert.Equal(t, "SERVE1", controlID)
	}

	query := "identifier=" + url.QueryEscape(testIdentifierSystem+"|MRN-SERVE-1")
	assert.Equal(t, 1, countPatients(t, base, query), "the resent message is applied once")
	_, err := svc.Read(context.Background(), "MessageHeader",
		inbound.ContentKey(&hl7v2.Header{SendingApplication: "ADT", SendingFacility: "HOSP", ControlID: "SERVE1"}, message))
	assert.NoError(t, err, "the applied message is recorded in the clinical record")
}

func TestServeMLLPWithMapping(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	base, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	client := dialMLLP(t, addr)

	admit := admitMessage("SERVE2", "MRN-SERVE-2") + "PV1|1|I|WARD^101^1\r"
	ack, err := client.Send(context.Background(), []byte(admit))
	require.NoError(t, err)
	code, _, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AA", code)
	query := "identifier=" + url.QueryEscape(v2fhir.DefaultIdentifierSystem("HOSP")+"|MRN-SERVE-2")
	assert.Equal(t, 1, countPatients(t, base, query), "the mapped Patient is served over FHIR")

	scheduling := `MSH|^~\&|SCHEDAPP|CLINIC|EHRAPP|HOSP|20240315101010-0500||SIU^S12^SIU_S12|SERVE3|P|2.5|||AL|NE` + "\r"
	ack, err = client.Send(context.Background(), []byte(scheduling))
	require.NoError(t, err)
	code, _, err = mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "CR", code, "a message type without mapping is rejected")
	assert.Contains(t, string(ack), "\rERR||MSH^1^9^1^1|200^Unsupported message type^HL70357|E|||the receiver has no mapping for this message type\r")
}

func TestServeMLLPShutdownFinishesMessage(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	applying := make(chan string, 1)
	proceed := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mllpReady := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, serveOptions{
			addr: "127.0.0.1:0", shutdown: 10 * time.Second, db: db, svc: svc, log: slog.New(slog.DiscardHandler),
			mllp: mllpOptions{addr: "127.0.0.1:0", ready: mllpReady, lenient: true,
				applier: patientApplier{svc: svc, applying: applying, proceed: proceed}},
		})
	}()
	client := dialMLLP(t, <-mllpReady)

	acks := make(chan []byte, 1)
	go func() {
		ack, err := client.Send(context.Background(), []byte(admitMessage("STOP1", "MRN-STOP-1")))
		assert.NoError(t, err)
		acks <- ack
	}()
	require.Equal(t, "STOP1", <-applying)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("serve returned before the message in flight was acknowledged: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(proceed)

	code, _, err := mllp.AckCode(<-acks)
	require.NoError(t, err)
	assert.Equal(t, "AA", code, "the message in flight is acknowledged")
	assert.NoError(t, <-done, "graceful shutdown")
	res, err := svc.Search(context.Background(), "Patient",
		url.Values{"identifier": {testIdentifierSystem + "|MRN-STOP-1"}})
	require.NoError(t, err)
	assert.Len(t, res.Resources, 1)
}

func TestMLLPFlagsRejectNonLoopback(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "flags.db")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{name: "non-loopback", args: []string{"--mllp-addr", "0.0.0.0:2575"}, want: "--mllp-addr"},
		{name: "key without certificate", args: []string{"--mllp-addr", "127.0.0.1:0", "--mllp-tls-key", "k.pem"},
			want: "--mllp-tls-cert and --mllp-tls-key go together"},
		{name: "no connection per IP", args: []string{"--mllp-addr", "127.0.0.1:0", "--mllp-max-connections-per-ip", "0"},
			want: "invalid --mllp-max-connections-per-ip 0: use a count from 1 to 256"},
		{name: "more per IP than in all", args: []string{"--mllp-addr", "127.0.0.1:0", "--mllp-max-connections-per-ip", "300"},
			want: "invalid --mllp-max-connections-per-ip 300"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp()
			app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
			args := append([]string{"nexusd", "serve", "--db", "sqlite:" + dbPath, "--addr", "127.0.0.1:0"}, tc.args...)
			err := app.Run(args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func writeMessageFile(t *testing.T, name string, messages ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	// Files are often saved with LF line ends, which nexusd turns into CR.
	text := strings.ReplaceAll(strings.Join(messages, ""), "\r", "\n")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func TestHL7ImportTwoMessages(t *testing.T) {
	svc := newTestService(t)
	file := writeMessageFile(t, "two.hl7", admitMessage("IMP1", "MRN-IMP-1"), admitMessage("IMP2", "MRN-IMP-2"))
	h := newInboundHandler(svc, slog.New(slog.DiscardHandler), false, nil)
	h.Applier = patientApplier{svc: svc}
	ctx := emr.ContextWithActor(context.Background(), hl7Actor)

	var out, errOut bytes.Buffer
	require.NoError(t, importMessages(ctx, h, []string{file}, &out, &errOut), errOut.String())
	assert.Contains(t, out.String(), "two.hl7 #1: control id IMP1: AA created=1 updated=0 unchanged=0\n")
	assert.Contains(t, out.String(), "two.hl7 #2: control id IMP2: AA created=1 updated=0 unchanged=0\n")
	assert.Contains(t, out.String(), "2 messages: 2 accepted (0 already applied), 0 failed\n")

	out.Reset()
	require.NoError(t, importMessages(ctx, h, []string{file}, &out, &errOut))
	assert.Contains(t, out.String(), "two.hl7 #1: control id IMP1: AA already applied\n")
	assert.Contains(t, out.String(), "2 messages: 2 accepted (2 already applied), 0 failed\n")
	res, err := svc.Search(ctx, "Patient", url.Values{"identifier": {testIdentifierSystem + "|MRN-IMP-2"}})
	require.NoError(t, err)
	assert.Len(t, res.Resources, 1, "importing again applies nothing")
}

func TestHL7ImportCommandReportsFailures(t *testing.T) {
	file := writeMessageFile(t, "two.hl7", admitMessage("CLI1", "MRN-CLI-1"),
		strings.Replace(admitMessage("CLI2", "MRN-CLI-2"), "|P|2.5", "|P|3.0", 1))
	dbPath := filepath.Join(t.TempDir(), "hl7.db")
	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run([]string{"nexusd", "--log-level", "error", "hl7", "import", "--db", "sqlite:" + dbPath, file})
	require.Error(t, err, "a message that is not accepted makes the exit status non-zero")
	assert.Contains(t, err.Error(), "1 message failed")
	// An admit without PV1 registers the patient and skips the encounter
	// with a warning, so only the unsupported version fails.
	assert.Contains(t, stdout.String(), "two.hl7 #1: control id CLI1: AA created=1 updated=0 unchanged=0\n")
	assert.Contains(t, stdout.String(),
		"two.hl7 #2: control id CLI2: AR ERR MSH^1^12 code 203 (Unsupported version id)\n")
	assert.Contains(t, stdout.String(), "2 messages: 1 accepted (0 already applied), 1 failed\n")
	assert.NotContains(t, stdout.String()+stderr.String(), "ZZHL7FAMILY")
}

func TestHL7SendToListener(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	base, addr := startHL7Server(t, serveOptions{db: db, svc: svc, mllp: mllpOptions{applier: patientApplier{svc: svc}}})
	good := writeMessageFile(t, "good.hl7", admitMessage("SEND1", "MRN-SEND-1"), admitMessage("SEND2", "MRN-SEND-2"))
	bad := writeMessageFile(t, "bad.hl7", strings.Replace(admitMessage("SEND3", "MRN-SEND-3"), "|P|2.5", "|P|3.0", 1))

	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	require.NoError(t, app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", addr, good}), stderr.String())
	assert.Contains(t, stdout.String(), "good.hl7 #1: control id SEND1: AA\n")
	assert.Contains(t, stdout.String(), "good.hl7 #2: control id SEND2: AA\n")
	assert.Contains(t, stdout.String(), "good.hl7: 2 messages: 2 sent, 2 accepted, 0 failed\n")
	assert.Contains(t, stdout.String(), "2 messages: 2 sent, 2 accepted, 0 failed\n")
	for _, mrn := range []string{"MRN-SEND-1", "MRN-SEND-2"} {
		query := "identifier=" + url.QueryEscape(testIdentifierSystem+"|"+mrn)
		assert.Equal(t, 1, countPatients(t, base, query), mrn)
	}

	stdout.Reset()
	err := app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", addr, good, bad})
	require.Error(t, err)
	assert.Contains(t, stdout.String(), "bad.hl7 #1: control id SEND3: AR ERR MSH^1^12 code 203 (Unsupported version id)\n")
	assert.Contains(t, stdout.String(), "3 messages: 3 sent, 2 accepted, 1 failed\n")
}

func TestHL7SendNoListener(t *testing.T) {
	file := writeMessageFile(t, "one.hl7", admitMessage("NONE1", "MRN-NONE-1"))
	var stdout bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &bytes.Buffer{}
	// Port 1 on loopback has no listener, so the dial fails at once.
	err := app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", "127.0.0.1:1", file})
	require.Error(t, err)
	assert.Equal(t, "hl7 send: cannot connect to 127.0.0.1:1: connection refused; check that the MLLP receiver "+
		"is running, that --to names its host and port, and that no firewall blocks the port", err.Error())
}

func TestSplitMessages(t *testing.T) {
	t.Parallel()
	one := "MSH|^~\\&|A|B|C|D|20240301||ADT^A01|1|P|2.5\rPID|1\r"
	two := "MSH|^~\\&|A|B|C|D|20240301||ADT^A01|2|P|2.5\rPID|1||MSH_MRN\r"
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{name: "CR", input: one + two, want: []string{one, two}},
		{name: "LF", input: strings.ReplaceAll(one+two, "\r", "\n"), want: []string{one, two}},
		{name: "CRLF and blank lines", input: strings.ReplaceAll(one+"\r"+two, "\r", "\r\n"), want: []string{one, two}},
		{name: "batch envelope", input: "FHS|^~\\&\rBHS|^~\\&\r" + one + two + "BTS|2\rFTS|1\r", want: []string{one, two}},
		{name: "byte order mark", input: "\xef\xbb\xbf" + one, want: []string{one}},
		{name: "blank line inside", input: strings.Replace(one, "\rPID", "\r\rPID", 1) + "\r\r" + two,
			want: []string{strings.Replace(one, "\rPID", "\r\rPID", 1), two}},
		{name: "spaces inside", input: strings.Replace(one, "\rPID", "\r  \rPID", 1) + "  \r",
			want: []string{strings.Replace(one, "\rPID", "\r  \rPID", 1)}},
		{name: "blank line inside CRLF", input: strings.ReplaceAll(strings.Replace(one, "\rPID", "\r\rPID", 1), "\r", "\r\n"),
			want: []string{strings.Replace(one, "\rPID", "\r\rPID", 1)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, m := range splitMessages([]byte(tc.input)) {
				got = append(got, string(m.data))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSplitMessagesLines(t *testing.T) {
	t.Parallel()
	input := "FHS|^~\\&\r\nMSH|^~\\&|A|B|C|D|20240301||ADT^A01|1|P|2.5\r\n\r\nPID|1\r\n" +
		"MSH|^~\\&|A|B|C|D|20240301||ADT^A01|2|P|2.5\nEVN|A01\nPID|1||\x1c\n"
	messages := splitMessages([]byte(input))
	require.Len(t, messages, 2)
	assert.Equal(t, []int{2, 3, 4}, messages[0].lines, "the blank line is kept, and the batch header still counts")
	assert.Equal(t, []int{5, 6, 7}, messages[1].lines)
	assert.Equal(t, 7, messages[1].lineOf(bytes.IndexByte(messages[1].data, 0x1c)))
	assert.Equal(t, 5, messages[1].lineOf(0))
}

func TestSplitMessagesOutside(t *testing.T) {
	t.Parallel()
	one := "MSH|^~\\&|A|B|C|D|20240301||ADT^A01|1|P|2.5\rPID|1\r"
	beforeMSH := "the text before the first MSH segment is outside any message"
	after := func(envelope string, line int) string {
		return fmt.Sprintf("the text after the %s segment of line %d is outside any message, "+
			"because no MSH segment starts it", envelope, line)
	}
	lowercase := "line 5 begins with \"msh\", but a message starts only at a line that begins with MSH in capitals " +
		"and the field separator"
	cases := []struct {
		name  string
		input string
		want  []fileMessage
	}{
		{name: "before the first MSH", input: "ZZTEXT\r\r" + one, want: []fileMessage{
			{data: []byte("ZZTEXT\r"), lines: []int{1}, outside: beforeMSH},
			{data: []byte(one), lines: []int{3, 4}},
		}},
		{name: "no MSH", input: "PID|1\r", want: []fileMessage{
			{data: []byte("PID|1\r"), lines: []int{1}, outside: beforeMSH},
		}},
		{name: "after BTS", input: one + "BTS|1\rEVN|A01\r\rPID|1\r", want: []fileMessage{
			{data: []byte(one), lines: []int{1, 2}},
			{data: []byte("EVN|A01\rPID|1\r"), lines: []int{4, 6}, outside: after("BTS", 3)},
		}},
		{name: "lowercase MSH", input: one + "BTS|1\rEVN|A01\rmsh|^~\\&|A\rPID|1\r" + one, want: []fileMessage{
			{data: []byte(one), lines: []int{1, 2}},
			{data: []byte("EVN|A01\r"), lines: []int{4}, outside: after("BTS", 3)},
			{data: []byte("msh|^~\\&|A\rPID|1\r"), lines: []int{5, 6}, outside: lowercase},
			{data: []byte(one), lines: []int{7, 8}},
		}},
		{name: "lowercase MSH after a message", input: one + "\rPID|2\r\rmsh|^~\\&|A\rPID|1\r" + one, want: []fileMessage{
			{data: []byte(one + "\rPID|2\r"), lines: []int{1, 2, 3, 4}},
			{data: []byte("msh|^~\\&|A\rPID|1\r"), lines: []int{6, 7}, outside: strings.Replace(lowercase, "line 5", "line 6", 1)},
			{data: []byte(one), lines: []int{8, 9}},
		}},
		{name: "after FTS", input: one + "FTS|1\r\x1a", want: []fileMessage{
			{data: []byte(one), lines: []int{1, 2}},
			{data: []byte("\x1a\r"), lines: []int{4}, outside: after("FTS", 3)},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, splitMessages([]byte(tc.input)))
		})
	}
}

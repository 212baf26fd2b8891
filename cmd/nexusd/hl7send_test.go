package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// TestHL7SendCountsErrorOnlyFailures sends messages whose MSH-15 and
// MSH-16 request an ACK only on error. A rejected one, in the middle or
// last, must count as failed and make the command fail.
func TestHL7SendCountsErrorOnlyFailures(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})

	unsupported := func(controlID string) string {
		return `MSH|^~\&|SCHEDAPP|CLINIC|EHRAPP|HOSP|20240315101010-0500||SIU^S12^SIU_S12|` + controlID + `|P|2.5|||ER|ER` + "\r"
	}
	file := writeMessageFile(t, "errors.hl7",
		enhancedAdmit("ER1", "MRN-ER-1", "ER", "ER"),
		unsupported("ER2"),
		admitMessage("ER3", "MRN-ER-3"),
		unsupported("ER4"),
	)

	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", addr, file})
	require.Error(t, err, "a rejected message makes the command fail")
	assert.Contains(t, stdout.String(), "errors.hl7 #2: control id ER2: CR")
	assert.Contains(t, stdout.String(), "errors.hl7 #4: control id ER4: CR")
	assert.Contains(t, stdout.String(), "4 messages: 4 sent, 2 accepted, 2 failed\n")
}

// A block character in the content would end or restart the MLLP frame,
// so the message is reported with its line and counted as failed.
func TestHL7SendUnframableMessage(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	cases := []struct {
		name  string
		block string
		want  string
	}{
		{"end block", "\x1c", "line 4 contains the byte 0x1C (MLLP end block), which MLLP cannot frame"},
		{"start block", "\x0b", "line 4 contains the byte 0x0B (MLLP start block), which MLLP cannot frame"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("FRAME%d-", i)
			blocked := strings.Replace(admitMessage(prefix+"2", "MRN-"+prefix+"2"), "ZZHL7FAMILY", "ZZHL7"+tc.block+"FAMILY", 1)
			file := writeMessageFile(t, "block.hl7",
				admitMessage(prefix+"1", "MRN-"+prefix+"1"), blocked, admitMessage(prefix+"3", "MRN-"+prefix+"3"))

			out, err := runNexusd(t, "--log-level", "error", "hl7", "send", "--to", addr, file)
			require.Error(t, err, "a message not sent makes the command fail")
			assert.Equal(t, "hl7 send: 1 message failed", err.Error())
			assert.Contains(t, out, "block.hl7 #2: control id "+prefix+"2: not sent: "+tc.want)
			assert.Contains(t, out, "block.hl7 #3: control id "+prefix+"3: AA\n")
			assert.Contains(t, out, "block.hl7: 3 messages: 2 sent, 2 accepted, 1 failed\n")
			assert.NotContains(t, out, "ZZHL7", "the line is named, not its content")
		})
	}
}

// startMismatchReceiver serves MLLP on loopback and acknowledges each
// message with AA and the MSA-2 that msa2 returns for its control id.
func startMismatchReceiver(t *testing.T, msa2 func(controlID string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &mllp.Server{Handler: mllp.HandlerFunc(func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
		hdr, err := hl7v2.ParseHeader(message)
		if err != nil {
			return nil, err
		}
		ack := `MSH|^~\&|NEXUS|HOSP|ADT|HOSP|20240301101500-0500||ACK^A01^ACK|A` + hdr.ControlID + `|P|2.5` + "\r" +
			"MSA|AA|" + msa2(hdr.ControlID) + "\r"
		return []byte(ack), nil
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		assert.ErrorIs(t, <-served, mllp.ErrServerClosed)
	})
	return ln.Addr().String()
}

func TestHL7SendAckMismatch(t *testing.T) {
	cases := []struct {
		name string
		msa2 string
		want string
	}{
		{"other control id", "SOMEONE-ELSE",
			"mismatch.hl7 #2: control id MIS2: ACK for control id SOMEONE-ELSE does not match MSH-10 MIS2 of the message sent (MSA-1 AA)"},
		{"empty MSA-2", "", "mismatch.hl7 #2: control id MIS2: the ACK (MSA-1 AA) has no MSA-2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := startMismatchReceiver(t, func(controlID string) string {
				if controlID == "MIS2" {
					return tc.msa2
				}
				return controlID
			})
			file := writeMessageFile(t, "mismatch.hl7",
				admitMessage("MIS1", "MRN-MIS-1"), admitMessage("MIS2", "MRN-MIS-2"), admitMessage("MIS3", "MRN-MIS-3"))

			out, err := runNexusd(t, "--log-level", "error", "hl7", "send", "--to", addr, "--ack-timeout", "10s", file)
			require.Error(t, err)
			assert.Equal(t, "hl7 send: 1 message failed", err.Error())
			assert.Contains(t, out, tc.want)
			assert.NotContains(t, out, "timeout", "the ACK arrived, so no timeout is reported")
			assert.Contains(t, out, "mismatch.hl7 #3: control id MIS3: AA\n")
			assert.Contains(t, out, "mismatch.hl7: 3 messages: 3 sent, 2 accepted, 1 failed\n")
		})
	}
}

// The ACK of an earlier message, which arrives late, is skipped, and the
// next ACK is taken for the message sent.
func TestHL7SendSkipsLateACK(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ack := func(controlID string) []byte {
		return mllp.AppendFrame(nil, []byte(`MSH|^~\&|NEXUS|HOSP|ADT|HOSP|20240301101500-0500||ACK^A01^ACK|A`+
			controlID+`|P|2.5`+"\rMSA|AA|"+controlID+"\r"))
	}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
		for _, reply := range [][]byte{ack("LATE1"), append(ack("LATE1"), ack("LATE2")...)} {
			if _, err := dec.ReadFrame(); err != nil {
				return
			}
			if _, err := conn.Write(reply); err != nil {
				return
			}
		}
		io.Copy(io.Discard, conn)
	}()
	file := writeMessageFile(t, "late.hl7", admitMessage("LATE1", "MRN-LATE-1"), admitMessage("LATE2", "MRN-LATE-2"))

	out, err := runNexusd(t, "--log-level", "error", "hl7", "send", "--to", ln.Addr().String(), file)
	require.NoError(t, err, out)
	assert.Contains(t, out, "late.hl7 #2: control id LATE2: AA (skipped late ACK MSA-1 AA for control id LATE1)\n")
}

// A negative ACK that arrives after the next file's message was sent
// counts against the file of the message that its MSA-2 names. In the
// second case more such ACKs than the fixed skip margin arrive before an
// ACK, and in the third they arrive after the last message.
func TestHL7SendLateACKFile(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	// MSH-15 NE and MSH-16 ER request an ACK only on error, and the
	// invalid PID-8 gets AE.
	invalidSex := func(controlID string) string {
		return strings.Replace(enhancedAdmit(controlID, "MRN-"+controlID, "NE", "ER"), "|19800101|F", "|19800101|Q", 1)
	}
	cases := []struct {
		name       string
		controlIDs []string
		admitLast  bool
	}{
		{"one late AE", []string{"LATEF1"}, true},
		{"three late AEs", []string{"LATEF2", "LATEF3", "LATEF4"}, true},
		{"two AEs after the last", []string{"LATEF5", "LATEF6"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			for _, controlID := range tc.controlIDs {
				files = append(files, writeMessageFile(t, controlID+".hl7", invalidSex(controlID)))
			}
			admitID := tc.controlIDs[0] + "-ADMIT"
			if tc.admitLast {
				files = append(files, writeMessageFile(t, "admit.hl7", admitMessage(admitID, "MRN-"+admitID)))
			}

			out, err := runNexusd(t, append([]string{"--log-level", "error", "hl7", "send", "--to", addr}, files...)...)
			require.Error(t, err)
			assert.Equal(t, fmt.Sprintf("hl7 send: %s failed", pluralize(len(tc.controlIDs), "message")), err.Error())
			for _, controlID := range tc.controlIDs {
				assert.Contains(t, out, controlID+".hl7 #1: control id "+controlID+": AE ERR PID^1^8 code 103")
				assert.Contains(t, out, controlID+".hl7: 1 message: 1 sent, 0 accepted, 1 failed\n")
			}
			total := len(tc.controlIDs)
			if tc.admitLast {
				total++
				assert.Contains(t, out, "admit.hl7 #1: control id "+admitID+": AA (skipped late ACK")
				assert.Contains(t, out, "admit.hl7: 1 message: 1 sent, 1 accepted, 0 failed\n")
			}
			want := fmt.Sprintf("\n%d messages: %d sent, %d accepted, %d failed\n",
				total, total, total-len(tc.controlIDs), len(tc.controlIDs))
			assert.Contains(t, out, want)
		})
	}
}

// A timeout after the late ACK of an earlier message is retried on a new
// connection, as any timeout is.
func TestHL7SendRetriesAfterLateACK(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ackFrame := func(controlID string) []byte {
		return mllp.AppendFrame(nil, []byte(`MSH|^~\&|NEXUS|HOSP|ADT|HOSP|20240301101500-0500||ACK^A01^ACK|A`+
			controlID+`|P|2.5`+"\rMSA|AA|"+controlID+"\r"))
	}
	var connections atomic.Int32
	// The first connection acknowledges RETRY1, and then replies to RETRY2
	// with a second ACK of RETRY1 only. Later connections acknowledge
	// each message.
	serve := func(conn net.Conn, first bool) {
		defer conn.Close()
		dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
		for {
			frame, err := dec.ReadFrame()
			if err != nil {
				return
			}
			hdr, err := hl7v2.ParseHeader(frame)
			if err != nil {
				return
			}
			acked := hdr.ControlID
			if first && acked == "RETRY2" {
				acked = "RETRY1"
			}
			if _, err := conn.Write(ackFrame(acked)); err != nil {
				return
			}
		}
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(conn, connections.Add(1) == 1)
		}
	}()
	file := writeMessageFile(t, "retry.hl7", admitMessage("RETRY1", "MRN-RETRY-1"), admitMessage("RETRY2", "MRN-RETRY-2"))
	target := sendTarget{addr: ln.Addr().String(),
		opts:   mllp.ClientOptions{AckTimeout: 300 * time.Millisecond},
		policy: mllp.RetryPolicy{Attempts: 2, Backoff: time.Millisecond}}

	var out, errOut bytes.Buffer
	require.NoError(t, sendFiles(context.Background(), target, []string{file}, &out, &errOut), out.String())
	assert.Contains(t, out.String(), "retry.hl7 #2: control id RETRY2: AA (skipped late ACK MSA-1 AA for control id RETRY1)\n")
	assert.Contains(t, out.String(), "retry.hl7: 2 messages: 2 sent, 2 accepted, 0 failed\n")
	assert.EqualValues(t, 2, connections.Load(), "RETRY2 was sent again on a new connection")
}

// A message sent without an expected ACK is sent again when the connection
// for it cannot be opened.
func TestHL7SendRetriesSilentMessage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	go func() {
		// Hold the connection open without a reply.
		if conn, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, conn)
			conn.Close()
		}
	}()
	client, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	// A failed Receive closes the connection, and the closed listener
	// refuses the next one.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = client.Receive(ctx)
	cancel()
	require.Error(t, err)
	require.NoError(t, ln.Close())

	silent := strings.Replace(admitMessage("SILENT1", "MRN-SILENT-1"), "|P|2.5", "|P|2.5|||NE|ER", 1)
	state := &sendState{silent: map[string]sentMessage{}, sent: map[string]bool{}}
	line, ok := sendOne(context.Background(), client, []byte(silent), mllp.RetryPolicy{Attempts: 2, Backoff: time.Millisecond},
		state, sentMessage{name: "silent.hl7 #1", file: &fileTally{}})
	assert.False(t, ok)
	assert.Contains(t, line, "control id SILENT1: not sent: mllp: send to "+addr+" failed after 2 attempts")
}

func TestHL7SendUnreadableFile(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	empty := writeMessageFile(t, "empty.hl7")
	valid := writeMessageFile(t, "one.hl7", admitMessage("READ1", "MRN-READ-1"))

	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	err := app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", addr, empty, valid})
	require.Error(t, err)
	assert.Equal(t, "hl7 send: 1 file could not be read", err.Error())
	assert.Equal(t, empty+": no HL7 v2 message found: the file contains no MSH segment\n", stderr.String(),
		"the file name appears once")
	assert.Contains(t, stdout.String(), "one.hl7: 1 message: 1 sent, 1 accepted, 0 failed\n")
	assert.Contains(t, stdout.String(), "\n1 message: 1 sent, 1 accepted, 0 failed\n")
}

func TestRunError(t *testing.T) {
	cases := []struct {
		name       string
		failed     int
		unreadable int
		want       string
	}{
		{"one message", 1, 0, "hl7 send: 1 message failed"},
		{"two messages", 2, 0, "hl7 send: 2 messages failed"},
		{"one file", 0, 1, "hl7 send: 1 file could not be read"},
		{"both", 3, 2, "hl7 send: 3 messages failed and 2 files could not be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := runError("hl7 send", tc.failed, tc.unreadable)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
	assert.NoError(t, runError("hl7 send", 0, 0))
}

package mllp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// testMessage returns an ADT^A01 message with the control id controlID.
func testMessage(controlID string) []byte {
	return []byte("MSH|^~\\&|ADTSYS|HOSP|EHR|HOSP|20240314101010||ADT^A01^ADT_A01|" + controlID + "|P|2.5\r" +
		"EVN|A01|20240314101010\r" +
		"PID|1||MRN0001^^^HOSP^MR||TESTPATIENT^ALEX\r")
}

// testACK returns an ACK with code code for the message with control id
// controlID.
func testACK(code, controlID string) []byte {
	return []byte("MSH|^~\\&|EHR|HOSP|ADTSYS|HOSP|20240314101010||ACK^A01^ACK|ACK" + controlID + "|P|2.5\r" +
		"MSA|" + code + "|" + controlID + "\r")
}

// controlIDOf returns MSH-10 of a test message.
func controlIDOf(message []byte) string {
	header, _, _ := bytes.Cut(message, []byte{'\r'})
	fields := strings.Split(string(header), "|")
	if len(fields) < 10 {
		return ""
	}
	return fields[9]
}

// acceptAll is a handler that acknowledges every message with AA.
var acceptAll = mllp.HandlerFunc(func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
	return testACK("AA", controlIDOf(message)), nil
})

// listenLoopback listens on a free port of 127.0.0.1 until the test ends.
func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln
}

// startServer serves s on a loopback listener and returns its address.
// When the test ends it closes s and checks that Serve returned
// ErrServerClosed.
func startServer(t testing.TB, s *mllp.Server) string {
	t.Helper()
	addr, served := serveLoopback(t, s)
	t.Cleanup(func() {
		s.Close()
		select {
		case err := <-served:
			assert.ErrorIs(t, err, mllp.ErrServerClosed)
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return within 5s of Close")
		}
	})
	return addr
}

// serveLoopback serves s on a loopback listener and returns its address
// and the channel that receives the result of Serve. It closes s when the
// test ends.
func serveLoopback(t testing.TB, s *mllp.Server) (string, <-chan error) {
	t.Helper()
	ln := listenLoopback(t)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String(), served
}

// dialClient connects a Client to addr and closes it when the test ends.
func dialClient(t testing.TB, addr string, opts mllp.ClientOptions) *mllp.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := mllp.Dial(ctx, addr, opts)
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	return client
}

// dialRaw opens a plain TCP connection to addr that the test drives byte
// by byte.
func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// frame wraps message in MLLP block characters.
func frame(message string) []byte {
	return mllp.AppendFrame(nil, []byte(message))
}

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestLogger returns a debug-level text logger and the buffer it writes
// to.
func newTestLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	handler := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(handler), buf
}

// waitFor polls condition every 10ms until it returns true or 5s have passed.
func waitFor(t testing.TB, what string, condition func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !condition() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 5s waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readUntilClosed reads conn until the server closes it and returns what
// arrived. It fails the test when the connection is still open after 5s.
func readUntilClosed(t testing.TB, conn net.Conn) []byte {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			var netErr net.Error
			if errors.As(err, &netErr) && netErr.Timeout() {
				t.Fatalf("connection still open after 5s, %d bytes received", got.Len())
			}
			return got.Bytes()
		}
	}
}

// numbered returns the control id of message i of connection conn.
func numbered(conn, i int) string {
	return fmt.Sprintf("C%02dM%03d", conn, i)
}

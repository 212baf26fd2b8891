package mllp_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// orderRecorder is a handler that records the control ids it receives per
// connection and counts handler calls that overlap on one connection.
type orderRecorder struct {
	mu       sync.Mutex
	received map[uint64][]string
	active   map[uint64]int
	overlaps int
}

func (r *orderRecorder) HandleMessage(_ context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
	r.mu.Lock()
	r.active[conn.ID]++
	if r.active[conn.ID] > 1 {
		r.overlaps++
	}
	r.received[conn.ID] = append(r.received[conn.ID], controlIDOf(message))
	r.mu.Unlock()

	// A short random pause lets the connections interleave.
	time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)

	r.mu.Lock()
	r.active[conn.ID]--
	r.mu.Unlock()
	return testACK("AA", controlIDOf(message)), nil
}

func TestServerKeepsOrderPerConnection(t *testing.T) {
	t.Parallel()
	const connections, messages = 8, 50
	recorder := &orderRecorder{received: map[uint64][]string{}, active: map[uint64]int{}}
	addr := startServer(t, &mllp.Server{Handler: recorder})

	acks := make([][]string, connections)
	var wg sync.WaitGroup
	for c := range connections {
		conn := dialRaw(t, addr)
		wg.Go(func() {
			// All frames go out in one write, so the server has the next
			// frame before it has acknowledged the previous one.
			var stream []byte
			for i := range messages {
				stream = mllp.AppendFrame(stream, testMessage(numbered(c, i)))
			}
			if _, err := conn.Write(stream); err != nil {
				t.Errorf("connection %d: write: %v", c, err)
				return
			}
			if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
				t.Errorf("connection %d: %v", c, err)
				return
			}
			dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
			for range messages {
				ack, err := dec.ReadFrame()
				if err != nil {
					t.Errorf("connection %d: read ACK: %v", c, err)
					return
				}
				_, controlID, err := mllp.AckCode(ack)
				assert.NoError(t, err)
				acks[c] = append(acks[c], controlID)
			}
		})
	}
	wg.Wait()

	recorder.mu.Lock()
	defer recorder.mu.Unlock()
	assert.Zero(t, recorder.overlaps, "handler calls overlapped on one connection")
	require.Len(t, recorder.received, connections)
	for _, got := range recorder.received {
		require.NotEmpty(t, got)
		var c int
		_, err := fmt.Sscanf(got[0], "C%02dM", &c)
		require.NoError(t, err)
		want := make([]string, messages)
		for i := range want {
			want[i] = numbered(c, i)
		}
		assert.Equal(t, want, got, "handler order on connection %d", c)
		assert.Equal(t, want, acks[c], "ACK order on connection %d", c)
	}
}

func TestServerWritesAckAfterHandlerReturns(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	release := make(chan struct{})
	addr := startServer(t, &mllp.Server{Handler: mllp.HandlerFunc(
		func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
			close(entered)
			<-release
			return testACK("AA", controlIDOf(message)), nil
		})})
	client := dialClient(t, addr, mllp.ClientOptions{})

	type result struct {
		ack []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		ack, err := client.Send(context.Background(), testMessage("CTRL0001"))
		done <- result{ack, err}
	}()

	<-entered
	select {
	case r := <-done:
		t.Fatalf("Send returned while the handler was blocked: ack %q, err %v", r.ack, r.err)
	case <-time.After(150 * time.Millisecond):
	}

	close(release)
	select {
	case r := <-done:
		require.NoError(t, r.err)
		_, controlID, err := mllp.AckCode(r.ack)
		require.NoError(t, err)
		assert.Equal(t, "CTRL0001", controlID)
	case <-time.After(5 * time.Second):
		t.Fatal("no ACK within 5s of releasing the handler")
	}
}

func TestServerHandlerOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		handler   mllp.HandlerFunc
		wantOpen  bool
		wantCode  string
		wantCause string
		wantLog   string
	}{
		{
			name: "error without ACK",
			handler: func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
				return nil, errors.New("commit failed: database is locked")
			},
			wantCause: `cause="handler error"`,
			wantLog:   "err=\"commit failed: database is locked\"",
		},
		{
			name: "error with ACK",
			handler: func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
				return testACK("AE", controlIDOf(message)), errors.New("unknown ward code")
			},
			wantOpen: true,
			wantCode: "AE",
			wantLog:  "handler returned an error with an ACK",
		},
		{
			name: "neither ACK nor error",
			handler: func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
				return nil, nil
			},
			wantCause: `cause="handler returned no ACK"`,
			wantLog:   "handler returned neither an ACK nor an error",
		},
		{
			name: "panic",
			handler: func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
				panic("handler bug")
			},
			wantCause: `cause="handler error"`,
			wantLog:   "handler panicked",
		},
		{
			name: "ACK with a block character",
			handler: func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
				return []byte("MSH|^~\\&\rMSA|AA|X\x1c\r"), nil
			},
			wantCause: `cause="ACK write failed"`,
			wantLog:   "invalid message content",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newTestLogger()
			addr := startServer(t, &mllp.Server{Handler: tt.handler, Logger: logger})
			conn := dialRaw(t, addr)

			_, err := conn.Write(frame(string(testMessage("CTRL0001"))))
			require.NoError(t, err)
			if !tt.wantOpen {
				assert.Empty(t, readUntilClosed(t, conn), "no ACK is written")
				waitFor(t, "the connection closed log", func() bool {
					return containsAll(logs.String(), "connection closed", tt.wantCause)
				})
				assert.Contains(t, logs.String(), tt.wantLog)
				assert.Contains(t, logs.String(), "conn_id=1")
				return
			}

			require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
			dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
			ack, err := dec.ReadFrame()
			require.NoError(t, err)
			code, _, err := mllp.AckCode(ack)
			require.NoError(t, err)
			assert.Equal(t, tt.wantCode, code)

			_, err = conn.Write(frame(string(testMessage("CTRL0002"))))
			require.NoError(t, err)
			_, err = dec.ReadFrame()
			assert.NoError(t, err, "the connection stays open after an ACK")
			assert.Contains(t, logs.String(), tt.wantLog)
		})
	}
}

func TestServerClosesConnectionOnReadError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		server    *mllp.Server
		send      string
		wantCause string
		wantLog   string
	}{
		{
			name:      "oversize frame",
			server:    &mllp.Server{MaxFrame: 64},
			send:      string(frame(string(testMessage("CTRL0001")))),
			wantCause: `cause="frame too large"`,
			wantLog:   "max_frame=64",
		},
		{
			name:      "idle timeout mid-frame",
			server:    &mllp.Server{IdleTimeout: 100 * time.Millisecond},
			send:      "\x0bMSH|^~\\&|ADTSYS",
			wantCause: `cause="incomplete frame"`,
			wantLog:   "no bytes within the idle timeout of 100ms",
		},
		{
			name:      "idle timeout between frames",
			server:    &mllp.Server{IdleTimeout: 100 * time.Millisecond},
			wantCause: `cause="idle timeout"`,
		},
		{
			name:      "read timeout",
			server:    &mllp.Server{ReadTimeout: 100 * time.Millisecond},
			send:      "\x0bMSH|^~\\&|ADTSYS",
			wantCause: `cause="incomplete frame"`,
			wantLog:   "frame not complete within the read timeout of 100ms",
		},
		{
			name:      "no start block",
			server:    &mllp.Server{MaxFrame: 64},
			send:      "GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nUser-Agent: probe/1.0\r\n\r\n",
			wantCause: `cause="not MLLP"`,
			wantLog:   "without a start block",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newTestLogger()
			server := tt.server
			server.Handler = acceptAll
			server.Logger = logger
			addr := startServer(t, server)
			conn := dialRaw(t, addr)

			if tt.send != "" {
				_, err := conn.Write([]byte(tt.send))
				require.NoError(t, err)
			}
			assert.Empty(t, readUntilClosed(t, conn), "no ACK is written")
			waitFor(t, "the connection closed log", func() bool {
				return containsAll(logs.String(), "connection closed", tt.wantCause)
			})
			assert.Contains(t, logs.String(), tt.wantLog)
		})
	}
}

func TestServerCountsSkippedBytes(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	addr := startServer(t, &mllp.Server{Handler: acceptAll, Logger: logger})
	conn := dialRaw(t, addr)

	stream := append([]byte("junk"), frame(string(testMessage("CTRL0001")))...)
	stream = append(stream, '\n')
	stream = append(stream, frame(string(testMessage("CTRL0002")))...)
	_, err := conn.Write(stream)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
	for _, want := range []string{"CTRL0001", "CTRL0002"} {
		ack, err := dec.ReadFrame()
		require.NoError(t, err)
		_, controlID, err := mllp.AckCode(ack)
		require.NoError(t, err)
		assert.Equal(t, want, controlID)
	}
	conn.Close()

	waitFor(t, "the connection closed log", func() bool {
		return containsAll(logs.String(), "connection closed")
	})
	assert.Contains(t, logs.String(), "level=WARN msg=\"mllp: skipped bytes before a start block\" conn_id=1")
	assert.Contains(t, logs.String(), "bytes=4")
	assert.Contains(t, logs.String(), "level=DEBUG msg=\"mllp: skipped bytes before a start block\"")
	assert.Contains(t, logs.String(), "messages=2 skipped_bytes=5")
}

func TestServerMaxConnections(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	addr := startServer(t, &mllp.Server{Handler: acceptAll, Logger: logger, MaxConnections: 1})

	first := dialClient(t, addr, mllp.ClientOptions{})
	_, err := first.Send(context.Background(), testMessage("CTRL0001"))
	require.NoError(t, err)

	for range 3 {
		rejected := dialRaw(t, addr)
		assert.Empty(t, readUntilClosed(t, rejected))
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "connection rejected: maximum connections reached"),
		"rejections within a second share one log line")
	assert.Contains(t, logs.String(), "max_connections=1 rejected=1")

	_, err = first.Send(context.Background(), testMessage("CTRL0002"))
	assert.NoError(t, err, "the first connection still works")
}

func TestServerLogsConnectionLifecycle(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	addr := startServer(t, &mllp.Server{Handler: acceptAll, Logger: logger})
	client := dialClient(t, addr, mllp.ClientOptions{})
	_, err := client.Send(context.Background(), testMessage("CTRL0001"))
	require.NoError(t, err)
	require.NoError(t, client.Close())

	waitFor(t, "the connection closed log", func() bool {
		return containsAll(logs.String(), "connection closed")
	})
	assert.Contains(t, logs.String(), `msg="mllp: connection opened" conn_id=1 remote_addr=127.0.0.1:`)
	assert.Contains(t, logs.String(), `cause="closed by peer" messages=1 skipped_bytes=0`)
}

// A fake patient name and record number fed through every failing path
// must appear in no log line.
func TestServerLogsNoMessageContent(t *testing.T) {
	t.Parallel()
	const name, recordNumber = "ZZTESTPATIENT^QUINN", "MRN998877"
	message := "MSH|^~\\&|ADTSYS|HOSP|EHR|HOSP|20240314||ADT^A01|CTRL0001|P|2.5\r" +
		"PID|1||" + recordNumber + "^^^HOSP^MR||" + name + "\r"

	logger, logs := newTestLogger()
	failing := mllp.HandlerFunc(func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
		return nil, errors.New("commit failed")
	})
	failingTooLarge := &tooLargeRecorder{reply: func(mllp.TooLargeFrame) ([][]byte, error) {
		return nil, errors.New("no readable header")
	}}
	addrs := []string{
		startServer(t, &mllp.Server{Handler: failing, Logger: logger}),
		startServer(t, &mllp.Server{Handler: acceptAll, Logger: logger, MaxFrame: 32}),
		startServer(t, &mllp.Server{Handler: acceptAll, Logger: logger, IdleTimeout: 50 * time.Millisecond}),
		startServer(t, &mllp.Server{Handler: failingTooLarge, Logger: logger, MaxFrame: 32}),
	}
	sends := []string{
		string(frame(message)),
		string(frame(message)),
		"\x0b" + message,
		string(frame(message)),
	}
	for i, addr := range addrs {
		conn := dialRaw(t, addr)
		_, err := conn.Write([]byte("junk " + name + " " + sends[i]))
		require.NoError(t, err)
		readUntilClosed(t, conn)
	}
	waitFor(t, "four connection closed logs", func() bool {
		return strings.Count(logs.String(), "connection closed") == 4
	})
	assert.NotContains(t, logs.String(), "ZZTESTPATIENT")
	assert.NotContains(t, logs.String(), "QUINN")
	assert.NotContains(t, logs.String(), recordNumber)
}

func TestServerValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		server  *mllp.Server
		wantErr string
	}{
		{name: "valid", server: &mllp.Server{Handler: acceptAll}},
		{name: "no handler", server: &mllp.Server{}, wantErr: "Server.Handler is nil"},
		{name: "negative MaxFrame", server: &mllp.Server{Handler: acceptAll, MaxFrame: -1}, wantErr: "Server.MaxFrame is -1"},
		{name: "negative IdleTimeout", server: &mllp.Server{Handler: acceptAll, IdleTimeout: -time.Second}, wantErr: "Server.IdleTimeout is -1s"},
		{name: "negative ReadTimeout", server: &mllp.Server{Handler: acceptAll, ReadTimeout: -time.Second}, wantErr: "Server.ReadTimeout is -1s"},
		{name: "negative WriteTimeout", server: &mllp.Server{Handler: acceptAll, WriteTimeout: -time.Second}, wantErr: "Server.WriteTimeout is -1s"},
		{name: "negative MaxConnections", server: &mllp.Server{Handler: acceptAll, MaxConnections: -1}, wantErr: "Server.MaxConnections is -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.server.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)

			ln := listenLoopback(t)
			assert.ErrorContains(t, tt.server.Serve(ln), tt.wantErr, "Serve validates too")
		})
	}
}

func TestServerListenAndServe(t *testing.T) {
	t.Parallel()
	// Reserve a free port, then hand it to ListenAndServe.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	server := &mllp.Server{Handler: acceptAll}
	served := make(chan error, 1)
	go func() { served <- server.ListenAndServe(addr) }()

	var client *mllp.Client
	waitFor(t, "the server to listen", func() bool {
		client, err = mllp.Dial(context.Background(), addr, mllp.ClientOptions{})
		return err == nil
	})
	defer client.Close()
	_, err = client.Send(context.Background(), testMessage("CTRL0001"))
	assert.NoError(t, err)

	require.NoError(t, server.Shutdown(context.Background()))
	assert.ErrorIs(t, <-served, mllp.ErrServerClosed)
	assert.ErrorIs(t, server.ListenAndServe(addr), mllp.ErrServerClosed, "a shut down server does not start again")
}

func containsAll(s string, parts ...string) bool {
	for _, part := range parts {
		if !strings.Contains(s, part) {
			return false
		}
	}
	return true
}

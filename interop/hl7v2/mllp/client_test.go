package mllp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// rawServer accepts connections on a loopback listener and runs script on
// each one in its own goroutine. It returns the listener's address.
func rawServer(t *testing.T, script func(conn net.Conn, dec *mllp.Decoder)) string {
	t.Helper()
	ln := listenLoopback(t)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(func() { ln.Close() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				script(conn, mllp.NewDecoder(conn, mllp.DecoderConfig{}))
			})
		}
	})
	return ln.Addr().String()
}

func TestClientReadsAckSplitAcrossWrites(t *testing.T) {
	t.Parallel()
	const ackContent = "MSH|^~\\&|EHR|HOSP|ADTSYS|HOSP|20240314101010||ACK^A01^ACK|ACK0012|P|2.5\r" +
		"MSA|AA|CTRL0012\r"
	addr := rawServer(t, func(conn net.Conn, dec *mllp.Decoder) {
		for {
			if _, err := dec.ReadFrame(); err != nil {
				return
			}
			for i, piece := range []string{"\x0b", ackContent, "\x1c\r"} {
				if i > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				if _, err := conn.Write([]byte(piece)); err != nil {
					return
				}
			}
		}
	})
	client := dialClient(t, addr, mllp.ClientOptions{AckTimeout: 5 * time.Second})

	for _, controlID := range []string{"CTRL0012", "CTRL0013"} {
		ack, err := client.Send(context.Background(), testMessage(controlID))
		require.NoError(t, err)
		assert.Equal(t, ackContent, string(ack), "exactly one ACK frame")

		code, ackedID, err := mllp.AckCode(ack)
		require.NoError(t, err)
		assert.Equal(t, "AA", code)
		assert.Equal(t, "CTRL0012", ackedID)
	}
}

func TestClientSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		script   func(conn net.Conn, dec *mllp.Decoder)
		opts     mllp.ClientOptions
		wantErr  []error
		wantText string
	}{
		{
			name: "no ACK within the timeout",
			script: func(conn net.Conn, dec *mllp.Decoder) {
				dec.ReadFrame()
				io.Copy(io.Discard, conn)
			},
			opts:     mllp.ClientOptions{AckTimeout: 100 * time.Millisecond},
			wantErr:  []error{mllp.ErrNoAck, os.ErrDeadlineExceeded},
			wantText: "the ACK timeout of 100ms passed",
		},
		{
			name: "EOF mid-frame",
			script: func(conn net.Conn, dec *mllp.Decoder) {
				dec.ReadFrame()
				conn.Write([]byte("\x0bMSH|^~\\&|EHR\rMSA|A"))
			},
			wantErr:  []error{mllp.ErrNoAck, mllp.ErrIncompleteFrame, io.ErrUnexpectedEOF},
			wantText: "the connection closed first",
		},
		{
			name: "connection closed before the ACK",
			script: func(conn net.Conn, dec *mllp.Decoder) {
				dec.ReadFrame()
			},
			wantErr: []error{mllp.ErrNoAck, io.EOF},
		},
		{
			name: "oversize ACK",
			script: func(conn net.Conn, dec *mllp.Decoder) {
				dec.ReadFrame()
				conn.Write(frame(string(testACK("AA", "CTRL0001"))))
				io.Copy(io.Discard, conn)
			},
			opts:     mllp.ClientOptions{MaxFrame: 16},
			wantErr:  []error{mllp.ErrFrameTooLarge},
			wantText: "maximum frame size of 16 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := rawServer(t, tt.script)
			client := dialClient(t, addr, tt.opts)

			_, err := client.Send(context.Background(), testMessage("CTRL0001"))
			require.Error(t, err)
			for _, want := range tt.wantErr {
				assert.ErrorIs(t, err, want)
			}
			assert.Contains(t, err.Error(), tt.wantText)
			assert.Contains(t, err.Error(), addr)
		})
	}
}

func TestClientSendCanceledContext(t *testing.T) {
	t.Parallel()
	addr := rawServer(t, func(conn net.Conn, dec *mllp.Decoder) {
		io.Copy(io.Discard, conn)
	})
	client := dialClient(t, addr, mllp.ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)

	start := time.Now()
	_, err := client.Send(ctx, testMessage("CTRL0001"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestClientSendContextDeadline(t *testing.T) {
	t.Parallel()
	addr := rawServer(t, func(conn net.Conn, dec *mllp.Decoder) {
		io.Copy(io.Discard, conn)
	})
	client := dialClient(t, addr, mllp.ClientOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	_, err := client.Send(ctx, testMessage("CTRL0001"))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClientRejectsInvalidContent(t *testing.T) {
	t.Parallel()
	var received sync.WaitGroup
	received.Add(1)
	addr := startServer(t, &mllp.Server{Handler: mllp.HandlerFunc(
		func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
			defer received.Done()
			assert.Equal(t, "CTRL0002", controlIDOf(message), "the invalid message was not sent")
			return testACK("AA", controlIDOf(message)), nil
		})})
	client := dialClient(t, addr, mllp.ClientOptions{})

	_, err := client.SendWithRetry(context.Background(), []byte("MSH|^~\\&\x1c|CTRL0001"), mllp.RetryPolicy{})
	assert.ErrorIs(t, err, mllp.ErrInvalidContent)

	_, err = client.Send(context.Background(), testMessage("CTRL0002"))
	assert.NoError(t, err, "the connection is still usable")
	received.Wait()
}

func TestClientRedialsAfterFailure(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	connIDs := map[uint64]bool{}
	calls := 0
	addr := startServer(t, &mllp.Server{Handler: mllp.HandlerFunc(
		func(_ context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			connIDs[conn.ID] = true
			if calls == 1 {
				return nil, errors.New("database unavailable")
			}
			return testACK("AA", controlIDOf(message)), nil
		})})
	client := dialClient(t, addr, mllp.ClientOptions{})

	_, err := client.Send(context.Background(), testMessage("CTRL0001"))
	require.ErrorIs(t, err, mllp.ErrNoAck)
	_, err = client.Send(context.Background(), testMessage("CTRL0001"))
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, connIDs, 2, "the second Send ran on a new connection")
}

func TestSendWithRetryRetriesOnNewConnection(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var connIDs []uint64
	logger, logs := newTestLogger()
	addr := startServer(t, &mllp.Server{Handler: mllp.HandlerFunc(
		func(_ context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			connIDs = append(connIDs, conn.ID)
			if len(connIDs) < 3 {
				return nil, errors.New("commit failed")
			}
			return testACK("AA", controlIDOf(message)), nil
		})})
	client := dialClient(t, addr, mllp.ClientOptions{Logger: logger})

	ack, err := client.SendWithRetry(context.Background(), testMessage("CTRL0001"),
		mllp.RetryPolicy{Attempts: 3, Backoff: 10 * time.Millisecond})
	require.NoError(t, err)
	code, controlID, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AA", code)
	assert.Equal(t, "CTRL0001", controlID)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []uint64{1, 2, 3}, connIDs, "each attempt ran on a new connection")
	assert.Contains(t, logs.String(), "send failed; retrying on a new connection")
	assert.Contains(t, logs.String(), "attempt=2 max_attempts=3")
}

func TestSendWithRetryGivesUp(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int64
	addr := startServer(t, &mllp.Server{Handler: mllp.HandlerFunc(
		func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
			attempts.Add(1)
			return nil, errors.New("commit failed")
		})})
	client := dialClient(t, addr, mllp.ClientOptions{})

	_, err := client.SendWithRetry(context.Background(), testMessage("CTRL0001"),
		mllp.RetryPolicy{Attempts: 4, Backoff: time.Millisecond})
	assert.ErrorIs(t, err, mllp.ErrNoAck)
	assert.ErrorContains(t, err, "failed after 4 attempts")
	assert.EqualValues(t, 4, attempts.Load())
}

func TestSendWithRetryRedialsWhenServerIsDown(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	server := &mllp.Server{Handler: acceptAll}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	client := dialClient(t, addr, mllp.ClientOptions{})
	_, err := client.Send(context.Background(), testMessage("CTRL0001"))
	require.NoError(t, err)

	// The server goes away, and a new one starts on the same port while the
	// client backs off.
	require.NoError(t, server.Shutdown(context.Background()))
	require.ErrorIs(t, <-served, mllp.ErrServerClosed)
	restarted := &mllp.Server{Handler: acceptAll}
	t.Cleanup(func() { restarted.Close() })
	time.AfterFunc(150*time.Millisecond, func() {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			return
		}
		restarted.Serve(ln)
	})

	ack, err := client.SendWithRetry(context.Background(), testMessage("CTRL0002"),
		mllp.RetryPolicy{Attempts: 10, Backoff: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	require.NoError(t, err)
	_, controlID, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "CTRL0002", controlID)
}

func TestSendWithRetryStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &mllp.Server{Handler: mllp.HandlerFunc(
		func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
			return nil, errors.New("commit failed")
		})})
	client := dialClient(t, addr, mllp.ClientOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := client.SendWithRetry(ctx, testMessage("CTRL0001"), mllp.RetryPolicy{Attempts: 100, Backoff: time.Second})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 900*time.Millisecond, "the backoff ends with the context")
}

// The first connection sends the late ACK of an earlier message and then
// no ACK for the message, so the Receive that follows times out. Retry
// sends the message again on a new connection.
func TestRetryRetriesReceiveTimeout(t *testing.T) {
	t.Parallel()
	var connections atomic.Int64
	addr := rawServer(t, func(conn net.Conn, dec *mllp.Decoder) {
		first := connections.Add(1) == 1
		for {
			message, err := dec.ReadFrame()
			if err != nil {
				return
			}
			ack := testACK("AA", controlIDOf(message))
			if first {
				ack = testACK("AE", "EARLIER1")
			}
			if err := mllp.WriteFrame(conn, ack); err != nil {
				return
			}
		}
	})
	client := dialClient(t, addr, mllp.ClientOptions{AckTimeout: 200 * time.Millisecond})

	var acked []string
	err := client.Retry(context.Background(), mllp.RetryPolicy{Attempts: 3, Backoff: time.Millisecond},
		func(ctx context.Context) error {
			ack, err := client.Send(ctx, testMessage("CTRL0001"))
			for err == nil {
				_, controlID, _ := mllp.AckCode(ack)
				acked = append(acked, controlID)
				if controlID == "CTRL0001" {
					return nil
				}
				ack, err = client.Receive(ctx)
			}
			return err
		})
	require.NoError(t, err)
	assert.Equal(t, []string{"EARLIER1", "CTRL0001"}, acked)
	assert.EqualValues(t, 2, connections.Load(), "the retry ran on a new connection")
}

func TestRetryStopsAtOtherErrors(t *testing.T) {
	t.Parallel()
	client := dialClient(t, startServer(t, &mllp.Server{Handler: acceptAll}), mllp.ClientOptions{})
	attempts := 0
	err := client.Retry(context.Background(), mllp.RetryPolicy{Attempts: 3, Backoff: time.Millisecond},
		func(ctx context.Context) error {
			attempts++
			_, err := client.Send(ctx, []byte("MSH|^~\\&|A\x1c\r"))
			return err
		})
	assert.ErrorIs(t, err, mllp.ErrInvalidContent)
	assert.Equal(t, 1, attempts, "an invalid message is not sent again")
}

func TestRetryPolicyValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  mllp.RetryPolicy
		wantErr string
	}{
		{name: "zero", policy: mllp.RetryPolicy{}},
		{name: "negative Attempts", policy: mllp.RetryPolicy{Attempts: -1}, wantErr: "RetryPolicy.Attempts is -1"},
		{name: "negative Backoff", policy: mllp.RetryPolicy{Backoff: -time.Second}, wantErr: "RetryPolicy.Backoff is -1s"},
		{name: "negative MaxBackoff", policy: mllp.RetryPolicy{MaxBackoff: -time.Second}, wantErr: "RetryPolicy.MaxBackoff is -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.policy.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
	assert.Equal(t, mllp.RetryPolicy{Attempts: 3, Backoff: time.Second, MaxBackoff: 30 * time.Second},
		mllp.RetryPolicy{}.WithDefaults())
}

func TestClientClose(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &mllp.Server{Handler: acceptAll})
	client := dialClient(t, addr, mllp.ClientOptions{})
	require.NoError(t, client.Close())

	_, err := client.Send(context.Background(), testMessage("CTRL0001"))
	assert.ErrorIs(t, err, mllp.ErrClientClosed)
	_, err = client.SendWithRetry(context.Background(), testMessage("CTRL0001"), mllp.RetryPolicy{})
	assert.ErrorIs(t, err, mllp.ErrClientClosed)
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	// A port that was free a moment ago refuses connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	_, err = mllp.Dial(context.Background(), addr, mllp.ClientOptions{})
	assert.ErrorContains(t, err, "mllp: dial "+addr)

	_, err = mllp.Dial(context.Background(), addr, mllp.ClientOptions{AckTimeout: -time.Second})
	assert.ErrorContains(t, err, "ClientOptions.AckTimeout is -1s")
}

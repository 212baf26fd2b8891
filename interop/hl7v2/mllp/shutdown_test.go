package mllp_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// blockingHandler signals entered when a message arrives and returns its
// ACK once release is closed.
type blockingHandler struct {
	entered chan struct{}
	release chan struct{}
}

func newBlockingHandler() *blockingHandler {
	return &blockingHandler{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (h *blockingHandler) HandleMessage(ctx context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
	h.entered <- struct{}{}
	select {
	case <-h.release:
		return testACK("AA", controlIDOf(message)), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type sendResult struct {
	ack []byte
	err error
}

func sendAsync(client *mllp.Client, message []byte) <-chan sendResult {
	done := make(chan sendResult, 1)
	go func() {
		ack, err := client.Send(context.Background(), message)
		done <- sendResult{ack, err}
	}()
	return done
}

func TestShutdownDeliversInFlightAck(t *testing.T) {
	t.Parallel()
	handler := newBlockingHandler()
	logger, logs := newTestLogger()
	server := &mllp.Server{Handler: handler, Logger: logger}
	addr, served := serveLoopback(t, server)

	idle := dialRaw(t, addr)
	client := dialClient(t, addr, mllp.ClientOptions{})
	done := sendAsync(client, testMessage("CTRL0001"))
	<-handler.entered

	shutdown := make(chan error, 1)
	go func() { shutdown <- server.Shutdown(context.Background()) }()

	assert.Empty(t, readUntilClosed(t, idle), "an idle connection closes at once")
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v while a message was being handled", err)
	case <-time.After(100 * time.Millisecond):
	}
	_, err := net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "the listener is closed")

	close(handler.release)
	var result sendResult
	select {
	case result = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no ACK within 5s of releasing the handler")
	}
	require.NoError(t, result.err)
	_, controlID, err := mllp.AckCode(result.ack)
	require.NoError(t, err)
	assert.Equal(t, "CTRL0001", controlID)

	select {
	case err := <-shutdown:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return within 5s of the last ACK")
	}
	assert.ErrorIs(t, <-served, mllp.ErrServerClosed)
	assert.Contains(t, logs.String(), `cause="server shutdown" messages=1`)

	_, err = client.Send(context.Background(), testMessage("CTRL0002"))
	assert.Error(t, err, "the connection was closed after its ACK")
}

func TestShutdownWithoutConnections(t *testing.T) {
	t.Parallel()
	server := &mllp.Server{Handler: acceptAll}
	_, served := serveLoopback(t, server)

	require.NoError(t, server.Shutdown(context.Background()))
	assert.ErrorIs(t, <-served, mllp.ErrServerClosed)
	assert.ErrorIs(t, server.Serve(listenLoopback(t)), mllp.ErrServerClosed)
}

func TestShutdownContextExpires(t *testing.T) {
	t.Parallel()
	handler := newBlockingHandler()
	server := &mllp.Server{Handler: handler}
	addr, served := serveLoopback(t, server)
	client := dialClient(t, addr, mllp.ClientOptions{})
	done := sendAsync(client, testMessage("CTRL0001"))
	<-handler.entered

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := server.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, <-served, mllp.ErrServerClosed)

	result := <-done
	assert.ErrorIs(t, result.err, mllp.ErrNoAck, "the handler's context was canceled, so no ACK")
}

func TestCloseDropsConnections(t *testing.T) {
	t.Parallel()
	server := &mllp.Server{Handler: acceptAll}
	addr, served := serveLoopback(t, server)
	conn := dialRaw(t, addr)
	// An exchange makes sure the server has accepted the connection.
	_, err := conn.Write(frame(string(testMessage("CTRL0001"))))
	require.NoError(t, err)
	dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = dec.ReadFrame()
	require.NoError(t, err)

	require.NoError(t, server.Close())
	assert.ErrorIs(t, <-served, mllp.ErrServerClosed)
	assert.Empty(t, readUntilClosed(t, conn))
	_, err = net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "the listener is closed")
}

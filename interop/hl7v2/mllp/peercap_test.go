package mllp_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// dialFrom opens a connection to addr from the loopback address local.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	conn, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestServerMaxConnectionsPerIP(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	addr := startServer(t, &mllp.Server{Handler: acceptAll, Logger: logger, MaxConnections: 10, MaxConnectionsPerIP: 2})

	first := dialClient(t, addr, mllp.ClientOptions{})
	_, err := first.Send(context.Background(), testMessage("CTRL0001"))
	require.NoError(t, err)
	second := dialClient(t, addr, mllp.ClientOptions{})
	_, err = second.Send(context.Background(), testMessage("CTRL0002"))
	require.NoError(t, err)

	for range 3 {
		rejected := dialRaw(t, addr)
		assert.Empty(t, readUntilClosed(t, rejected), "a third connection from 127.0.0.1 is closed at once")
	}
	const line = "connection rejected: maximum connections from one IP address reached"
	assert.Equal(t, 1, strings.Count(logs.String(), line), "rejections within a second share one log line")
	assert.Contains(t, logs.String(), "max_connections_per_ip=2 rejected=1")

	other := dialFrom(t, "127.0.0.2", addr)
	_, err = other.Write(frame(string(testMessage("CTRL0003"))))
	require.NoError(t, err)
	reply := make([]byte, 16)
	require.NoError(t, other.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err = other.Read(reply)
	assert.NoError(t, err, "another address has its own count")

	require.NoError(t, first.Close())
	waitFor(t, "a free connection for 127.0.0.1", func() bool {
		client, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{AckTimeout: time.Second})
		if err != nil {
			return false
		}
		defer client.Close()
		_, err = client.Send(context.Background(), testMessage("CTRL0004"))
		return err == nil
	})
	_, err = second.Send(context.Background(), testMessage("CTRL0005"))
	assert.NoError(t, err, "the open connections keep working")
}

func TestServerMaxConnectionsPerIPDefault(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &mllp.Server{Handler: acceptAll})
	var conns []net.Conn
	for range mllp.DefaultMaxConnectionsPerIP {
		conn := dialRaw(t, addr)
		_, err := conn.Write(frame(string(testMessage("CTRL0001"))))
		require.NoError(t, err)
		conns = append(conns, conn)
	}
	for _, conn := range conns {
		reply := make([]byte, 16)
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err := conn.Read(reply)
		require.NoError(t, err, "connections up to the default are served")
	}
	assert.Empty(t, readUntilClosed(t, dialRaw(t, addr)), "one more is closed at once")
}

func TestServerNoLimitPerIP(t *testing.T) {
	t.Parallel()
	addr := startServer(t, &mllp.Server{Handler: acceptAll, MaxConnectionsPerIP: -1})
	for i := range mllp.DefaultMaxConnectionsPerIP + 1 {
		conn := dialRaw(t, addr)
		_, err := conn.Write(frame(string(testMessage("CTRL0001"))))
		require.NoError(t, err)
		reply := make([]byte, 16)
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, err = conn.Read(reply)
		require.NoError(t, err, "connection %d is served", i+1)
	}
}

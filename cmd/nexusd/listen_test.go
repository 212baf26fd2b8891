package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMLLPAddrErrorNamesItsFlag(t *testing.T) {
	err := checkLoopback("mllp-addr", "0.0.0.0:2575", "the MLLP listener does not authenticate senders", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--mllp-addr 0.0.0.0:2575 is not a loopback address")
	assert.Contains(t, err.Error(), "the MLLP listener does not authenticate senders")
	assert.NotContains(t, err.Error(), "--addr ", "the HTTP flag is not named")
	assert.NotContains(t, err.Error(), "no authentication yet", "the API has authentication")
	assert.NoError(t, checkLoopback("mllp-addr", "0.0.0.0:2575", "x", true), "accepted when exposed on purpose")
}

func TestDebugAddrNeedsLoopback(t *testing.T) {
	assert.NoError(t, checkDebugAddr("127.0.0.1:6060"))
	err := checkDebugAddr("0.0.0.0:6060")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--debug-addr 0.0.0.0:6060 is not a loopback address")
	assert.NotContains(t, err.Error(), exposeFlag, "the profiler cannot be exposed")
}

func TestHelpTextsStateCurrentSecurity(t *testing.T) {
	out, err := runApp(t, "", "serve", "--help")
	require.NoError(t, err)
	assert.NotContains(t, out, "no authentication yet")
	assert.Contains(t, out, "--mllp-addr")
	out, err = runApp(t, "", "user", "add", "--help")
	require.NoError(t, err)
	assert.Contains(t, out, "at least 12 characters")
}

func TestBindListenersErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	cases := []struct {
		name  string
		addrs listenAddrs
		want  string
	}{
		{"same port twice", listenAddrs{http: "127.0.0.1:8096", mllp: "127.0.0.1:8096"},
			"--addr and --mllp-addr are both 127.0.0.1:8096; give each listener its own port"},
		{"port too large", listenAddrs{http: "127.0.0.1:99999"},
			`invalid --addr "127.0.0.1:99999": the port must be a number from 0 to 65535`},
		{"no port", listenAddrs{http: "127.0.0.1:0", mllp: "127.0.0.1"}, `invalid --mllp-addr "127.0.0.1": use host:port`},
		{"public profiler", listenAddrs{http: "127.0.0.1:0", debug: "0.0.0.0:6060"}, "--debug-addr 0.0.0.0:6060 is not a loopback address"},
		{"busy port", listenAddrs{http: "127.0.0.1:0", mllp: busy.Addr().String()},
			"listen on --mllp-addr " + busy.Addr().String() + ": "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bindListeners(tc.addrs)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestBindListenersClosesOnError(t *testing.T) {
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpAddr := free.Addr().String()
	require.NoError(t, free.Close())
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })

	_, err = bindListeners(listenAddrs{http: httpAddr, mllp: busy.Addr().String()})
	require.Error(t, err)
	again, err := net.Listen("tcp", httpAddr)
	require.NoError(t, err, "the HTTP listener bound before the failure is closed")
	again.Close()
}

func TestBindListenersPortZeroTwice(t *testing.T) {
	listeners, err := bindListeners(listenAddrs{http: "127.0.0.1:0", debug: "127.0.0.1:0", mllp: "127.0.0.1:0"})
	require.NoError(t, err, "port 0 picks a free port for each listener")
	defer listeners.close()
	assert.NotNil(t, listeners.debug)
	assert.NotNil(t, listeners.mllp)
	assert.NotEqual(t, listeners.http.Addr().String(), listeners.mllp.Addr().String())
}

package main

import (
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

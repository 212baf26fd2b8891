package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// lockedBuffer collects the log lines of a server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// largeAdmission returns an admission of at least size bytes, padded with
// NTE segments of 1,000 bytes, each below the parser's field limit.
func largeAdmission(controlID, mrn string, size int) []byte {
	var b strings.Builder
	b.WriteString(admitMessage(controlID, mrn))
	for i := 1; b.Len() < size; i++ {
		fmt.Fprintf(&b, "NTE|%d||%s\r", i, strings.Repeat("x", 1000))
	}
	return []byte(b.String())
}

// afterMSH returns the segments of an ACK after its MSH, which has a
// control id and time of its own.
func afterMSH(ack []byte) string {
	_, rest, _ := bytes.Cut(ack, []byte("\r"))
	return string(rest)
}

// A message over the default maximum frame size gets over MLLP the same
// AR as from `hl7 import`, and the connection carries the next message.
func TestServeMLLPOversizeGetsAR(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	logs := &lockedBuffer{}
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc, log: slog.New(slog.NewTextHandler(logs, nil))})
	client := dialMLLP(t, addr)
	message := largeAdmission("BIG1", "MRN-BIG-1", mllp.DefaultMaxFrame+100)

	ack, err := client.Send(context.Background(), message)
	require.NoError(t, err)
	parsed, err := hl7v2.Parse(ack, hl7v2.ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "AR", parsed.Get("MSA-1"))
	assert.Equal(t, "BIG1", parsed.Get("MSA-2"))
	assert.Equal(t, "MSH^1", parsed.Get("ERR-2"))
	assert.Equal(t, "207", parsed.Get("ERR-3.1"))
	assert.Equal(t, fmt.Sprintf("the message is %d bytes, more than the maximum message size of %d bytes",
		len(message), mllp.DefaultMaxFrame), parsed.Get("ERR-7"))

	imported, err := newInboundHandler(svc, slog.New(slog.DiscardHandler), true, nil).
		Process(emr.ContextWithActor(context.Background(), hl7Actor), message)
	require.NoError(t, err)
	assert.Equal(t, afterMSH(imported.ACK), afterMSH(ack), "hl7 import sends the same MSA and ERR")

	ack, err = client.Send(context.Background(), []byte(admitMessage("BIG2", "MRN-BIG-2")))
	require.NoError(t, err, "the connection stays open after the AR")
	code, controlID, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AA", code)
	assert.Equal(t, "BIG2", controlID)

	assert.Contains(t, logs.String(), `advice="raise --mllp-max-frame to accept larger messages"`)
	assert.NotContains(t, logs.String(), "MRN-BIG-1")
	assert.NotContains(t, logs.String(), "ZZHL7FAMILY")
}

// --mllp-max-frame raises both the frame limit and the parser's message
// limit, so that a message between the default and the new limit is
// applied.
func TestServeMLLPRaisedMaxFrame(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	const maxFrame = 2 * mllp.DefaultMaxFrame
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc,
		mllp: mllpOptions{applier: patientApplier{svc: svc}, maxFrame: maxFrame}})
	client := dialMLLP(t, addr)

	ack, err := client.Send(context.Background(), largeAdmission("RAISED1", "MRN-RAISED-1", mllp.DefaultMaxFrame+100))
	require.NoError(t, err)
	code, _, err := mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AA", code, "a message over the default limit and under the raised one is applied")

	message := largeAdmission("RAISED2", "MRN-RAISED-2", maxFrame+100)
	ack, err = client.Send(context.Background(), message)
	require.NoError(t, err)
	code, _, err = mllp.AckCode(ack)
	require.NoError(t, err)
	assert.Equal(t, "AR", code)
	assert.Contains(t, string(ack), fmt.Sprintf("more than the maximum message size of %d bytes", maxFrame))
}

// parseMLLPFlags runs mllpOptionsFromFlags on args as serve and demo do.
func parseMLLPFlags(t *testing.T, args ...string) (mllpOptions, error) {
	t.Helper()
	var options mllpOptions
	var optionsErr error
	app := &cli.App{
		Flags: append(mllpFlags(), timezoneFlag(), &cli.BoolFlag{Name: exposeFlag}),
		Action: func(c *cli.Context) error {
			options, optionsErr = mllpOptionsFromFlags(c)
			return nil
		},
	}
	require.NoError(t, app.Run(append([]string{"nexusd"}, args...)))
	return options, optionsErr
}

func TestMLLPMaxFrameFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    int
		wantErr string
	}{
		{name: "default", want: mllp.DefaultMaxFrame},
		{name: "flag", args: []string{"--mllp-max-frame", "4194304"}, want: 4 << 20},
		{name: "environment", env: "2048", want: 2048},
		{name: "flag over environment", args: []string{"--mllp-max-frame", "4096"}, env: "2048", want: 4096},
		{name: "zero", args: []string{"--mllp-max-frame", "0"},
			wantErr: "invalid --mllp-max-frame 0: use a size in bytes from 1024 to 67108864"},
		{name: "below the minimum", args: []string{"--mllp-max-frame", "1023"}, wantErr: "invalid --mllp-max-frame 1023"},
		{name: "above the maximum", args: []string{"--mllp-max-frame", "67108865"}, wantErr: "invalid --mllp-max-frame 67108865"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("NEXUS_MLLP_MAX_FRAME", tt.env)
			options, err := parseMLLPFlags(t, tt.args...)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, options.maxFrame)
		})
	}
}

func TestMLLPMaxFrameFlagCommands(t *testing.T) {
	for _, command := range []string{"serve", "demo"} {
		t.Run(command, func(t *testing.T) {
			app := newApp()
			app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
			err := app.Run([]string{"nexusd", command, "--addr", "127.0.0.1:0", "--mllp-max-frame", "10"})
			require.Error(t, err)
			assert.Contains(t, err.Error(), "invalid --mllp-max-frame 10")
		})
	}
}

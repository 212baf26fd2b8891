package mllp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// testMaxFrame is the MaxFrame of the tests of oversize frames. The test
// message fits, the message of oversizeMessage does not, and its MSH
// segment does.
const testMaxFrame = 160

// tooLargeRecorder acknowledges messages with AA, records the oversize
// frames it gets, and replies to each with reply.
type tooLargeRecorder struct {
	mu     sync.Mutex
	frames []mllp.TooLargeFrame
	reply  func(frame mllp.TooLargeFrame) ([][]byte, error)
}

func (r *tooLargeRecorder) HandleMessage(ctx context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
	return acceptAll(ctx, conn, message)
}

func (r *tooLargeRecorder) HandleTooLarge(_ context.Context, _ mllp.ConnInfo, frame mllp.TooLargeFrame) ([][]byte, error) {
	r.mu.Lock()
	r.frames = append(r.frames, frame)
	r.mu.Unlock()
	return r.reply(frame)
}

func (r *tooLargeRecorder) received() []mllp.TooLargeFrame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mllp.TooLargeFrame(nil), r.frames...)
}

// rejectTooLarge replies to an oversize frame with an AR to the control id
// in its head.
func rejectTooLarge(frame mllp.TooLargeFrame) ([][]byte, error) {
	return [][]byte{testACK("AR", controlIDOf(frame.Head))}, nil
}

// oversizeMessage returns a test message with control id controlID whose
// content is longer than testMaxFrame.
func oversizeMessage(controlID string) []byte {
	return append(testMessage(controlID), []byte("NTE|1||"+strings.Repeat("x", testMaxFrame)+"\r")...)
}

func TestServerRepliesToOversizeFrame(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	handler := &tooLargeRecorder{reply: rejectTooLarge}
	addr := startServer(t, &mllp.Server{Handler: handler, Logger: logger, MaxFrame: testMaxFrame,
		MaxFrameSetting: "--mllp-max-frame"})
	conn := dialRaw(t, addr)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	message := oversizeMessage("CTRL0001")

	_, err := conn.Write(append(frame(string(message)), frame(string(testMessage("CTRL0002")))...))
	require.NoError(t, err)
	dec := mllp.NewDecoder(conn, mllp.DecoderConfig{})
	first, err := dec.ReadFrame()
	require.NoError(t, err)
	second, err := dec.ReadFrame()
	require.NoError(t, err, "the connection stays open after the reply")

	code, controlID, err := mllp.AckCode(first)
	require.NoError(t, err)
	assert.Equal(t, "AR", code)
	assert.Equal(t, "CTRL0001", controlID)
	code, controlID, err = mllp.AckCode(second)
	require.NoError(t, err)
	assert.Equal(t, "AA", code, "the frame after the oversize one is handled")
	assert.Equal(t, "CTRL0002", controlID)

	frames := handler.received()
	require.Len(t, frames, 1)
	assert.Equal(t, message[:testMaxFrame], frames[0].Head, "the handler gets the first MaxFrame bytes")
	assert.Equal(t, len(message), frames[0].Size)
	assert.Equal(t, testMaxFrame, frames[0].Limit)
	assert.Contains(t, logs.String(), "mllp: frame too large; passing its first bytes to the handler")
	assert.Contains(t, logs.String(), `advice="raise --mllp-max-frame to accept larger messages"`)
	assert.Contains(t, logs.String(), "max_frame=160")
}

func TestServerOversizeFrameOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handler    mllp.Handler
		send       []byte
		wantOpen   bool
		wantCause  string
		wantLog    string
		wantCalled bool
	}{
		{
			name:      "handler without TooLargeHandler",
			handler:   acceptAll,
			send:      oversizeMessage("CTRL0001"),
			wantCause: `cause="frame too large"`,
			wantLog:   `advice="raise Server.MaxFrame to accept larger messages"`,
		},
		{
			name:      "past the discard bound",
			handler:   &tooLargeRecorder{reply: rejectTooLarge},
			send:      []byte(strings.Repeat("x", mllp.MaxDiscardFactor*testMaxFrame+1)),
			wantCause: `cause="frame too large"`,
			wantLog:   "mllp: frame too large; closing the connection without an ACK",
		},
		{
			name: "handler error",
			handler: &tooLargeRecorder{reply: func(mllp.TooLargeFrame) ([][]byte, error) {
				return nil, errors.New("no readable header")
			}},
			send:       oversizeMessage("CTRL0001"),
			wantCause:  `cause="handler error"`,
			wantLog:    `err="no readable header"`,
			wantCalled: true,
		},
		{
			name: "no reply",
			handler: &tooLargeRecorder{reply: func(mllp.TooLargeFrame) ([][]byte, error) {
				return nil, nil
			}},
			send:       oversizeMessage("CTRL0001"),
			wantOpen:   true,
			wantCalled: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := newTestLogger()
			addr := startServer(t, &mllp.Server{Handler: tt.handler, Logger: logger, MaxFrame: testMaxFrame})
			conn := dialRaw(t, addr)

			_, err := conn.Write(append(frame(string(tt.send)), frame(string(testMessage("CTRL0002")))...))
			require.NoError(t, err)
			if tt.wantOpen {
				require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
				ack, err := mllp.NewDecoder(conn, mllp.DecoderConfig{}).ReadFrame()
				require.NoError(t, err, "the connection stays open")
				_, controlID, err := mllp.AckCode(ack)
				require.NoError(t, err)
				assert.Equal(t, "CTRL0002", controlID, "the first frame back is the ACK of the next message")
			} else {
				assert.Empty(t, readUntilClosed(t, conn), "no ACK is written")
				waitFor(t, "the connection closed log", func() bool {
					return containsAll(logs.String(), "connection closed", tt.wantCause)
				})
				assert.Contains(t, logs.String(), tt.wantLog)
			}

			if recorder, ok := tt.handler.(*tooLargeRecorder); ok {
				assert.Equal(t, tt.wantCalled, len(recorder.received()) == 1, "HandleTooLarge called")
			}
		})
	}
}

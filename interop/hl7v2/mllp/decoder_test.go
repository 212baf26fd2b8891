package mllp_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// readAll reads frames until an error and returns them with the error.
func readAll(dec *mllp.Decoder) ([]string, error) {
	var frames []string
	for {
		frame, err := dec.ReadFrame()
		if err != nil {
			return frames, err
		}
		frames = append(frames, string(frame))
	}
}

func TestDecoderFrames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		input       string
		want        []string
		wantSkipped int64
		wantSkips   []int
	}{
		{
			name:  "one frame",
			input: "\x0bMSH|one\r\x1c\r",
			want:  []string{"MSH|one\r"},
		},
		{
			name:  "two frames in order",
			input: "\x0bMSH|first\r\x1c\r\x0bMSH|second\r\x1c\r",
			want:  []string{"MSH|first\r", "MSH|second\r"},
		},
		{
			name:        "junk before start block",
			input:       "GET / HTTP/1.0\r\n\x0bMSH|one\r\x1c\r",
			want:        []string{"MSH|one\r"},
			wantSkipped: 16,
			wantSkips:   []int{16},
		},
		{
			name:        "LF after each frame",
			input:       "\x0bA\x1c\r\n\x0bB\x1c\r\n",
			want:        []string{"A", "B"},
			wantSkipped: 2,
			wantSkips:   []int{1, 1},
		},
		{
			name:        "start block inside a frame restarts it",
			input:       "\x0bpartial\x0bMSH|whole\x1c\r",
			want:        []string{"MSH|whole"},
			wantSkipped: 8,
			wantSkips:   []int{8},
		},
		{
			name:  "end block without CR is content",
			input: "\x0bA\x1cB\x1c\r",
			want:  []string{"A\x1cB"},
		},
		{
			name:  "empty frame",
			input: "\x0b\x1c\r",
			want:  []string{""},
		},
		{
			name:  "UTF-8 payload unchanged",
			input: "\x0bPID|||||MÜLLER^JOSÉ^李\r\x1c\r",
			want:  []string{"PID|||||MÜLLER^JOSÉ^李\r"},
		},
		{
			name:  "bytes above 0x7F unchanged",
			input: "\x0b\x80\xff\xfe\x1c\r",
			want:  []string{"\x80\xff\xfe"},
		},
		{
			name:        "junk after the last frame",
			input:       "\x0bA\x1c\rtrailing",
			want:        []string{"A"},
			wantSkipped: 8,
			wantSkips:   []int{8},
		},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{name: "whole", wrap: func(r io.Reader) io.Reader { return r }},
		{name: "one byte per read", wrap: iotest.OneByteReader},
		{name: "data with EOF", wrap: iotest.DataErrReader},
	}
	for _, tt := range tests {
		for _, reader := range readers {
			t.Run(tt.name+"/"+reader.name, func(t *testing.T) {
				t.Parallel()
				var skips []int
				dec := mllp.NewDecoder(reader.wrap(strings.NewReader(tt.input)), mllp.DecoderConfig{
					OnSkip: func(n int) { skips = append(skips, n) },
				})
				frames, err := readAll(dec)
				assert.ErrorIs(t, err, io.EOF)
				assert.NotErrorIs(t, err, mllp.ErrIncompleteFrame)
				assert.Equal(t, tt.want, frames)
				assert.Equal(t, tt.wantSkipped, dec.Skipped())
				assert.Equal(t, tt.wantSkips, skips)
			})
		}
	}
}

func TestDecoderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		input      string
		maxFrame   int
		wantFrames []string
		wantErr    error
		wantText   string
	}{
		{
			name:     "EOF mid-frame",
			input:    "\x0bMSH|partial",
			wantErr:  mllp.ErrIncompleteFrame,
			wantText: "connection closed after 11 bytes of the frame",
		},
		{
			name:     "EOF between end block and CR",
			input:    "\x0bMSH|partial\x1c",
			wantErr:  io.ErrUnexpectedEOF,
			wantText: "incomplete frame",
		},
		{
			name:       "EOF mid-frame after a whole frame",
			input:      "\x0bA\x1c\r\x0bB",
			wantFrames: []string{"A"},
			wantErr:    mllp.ErrIncompleteFrame,
		},
		{
			name:     "oversize frame with its end",
			input:    "\x0b0123456789A\x1c\r",
			maxFrame: 10,
			wantErr:  mllp.ErrFrameTooLarge,
			wantText: "maximum frame size of 10 bytes",
		},
		{
			name:     "oversize frame without its end",
			input:    "\x0b" + strings.Repeat("x", 5000),
			maxFrame: 10,
			wantErr:  mllp.ErrFrameTooLarge,
			wantText: "maximum frame size of 10 bytes",
		},
		{
			name:     "junk longer than the maximum frame",
			input:    strings.Repeat("x", 11),
			maxFrame: 10,
			wantErr:  mllp.ErrNoStartBlock,
			wantText: "11 bytes received without a start block",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dec := mllp.NewDecoder(strings.NewReader(tt.input), mllp.DecoderConfig{MaxFrame: tt.maxFrame})
			frames, err := readAll(dec)
			assert.Equal(t, tt.wantFrames, frames)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Contains(t, err.Error(), tt.wantText)

			_, again := dec.ReadFrame()
			assert.Equal(t, err, again, "a later ReadFrame returns the same error")
		})
	}
}

func TestDecoderFrameAtLimit(t *testing.T) {
	t.Parallel()
	content := strings.Repeat("x", 100)
	input := string(frame(content)) + string(frame(content+"y"))
	dec := mllp.NewDecoder(iotest.HalfReader(strings.NewReader(input)), mllp.DecoderConfig{MaxFrame: 100})

	got, err := dec.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, content, string(got))

	_, err = dec.ReadFrame()
	var tooLarge *mllp.FrameTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.Equal(t, 100, tooLarge.Limit)
	assert.Equal(t, 101, tooLarge.Size)
}

func TestDecoderLargeFrame(t *testing.T) {
	t.Parallel()
	content := bytes.Repeat([]byte("OBX|1|ED|"), mllp.DefaultMaxFrame/9)
	dec := mllp.NewDecoder(bytes.NewReader(mllp.AppendFrame(nil, content)), mllp.DecoderConfig{})

	got, err := dec.ReadFrame()
	require.NoError(t, err)
	assert.Equal(t, content, got)
}

func TestDecoderSplitAcrossWrites(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	pieces := []string{"\x0b", "MSH|^~\\&|ADTSYS|HOSP\rPID|1\r", "\x1c\r"}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		for i, piece := range pieces {
			if i > 0 {
				time.Sleep(50 * time.Millisecond)
			}
			if _, err := conn.Write([]byte(piece)); err != nil {
				return
			}
		}
	}()
	conn := dialRaw(t, ln.Addr().String())
	dec := mllp.NewDecoder(conn, mllp.DecoderConfig{IdleTimeout: 5 * time.Second})

	frames, err := readAll(dec)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, []string{pieces[1]}, frames)
	assert.Zero(t, dec.Skipped())
}

func TestDecoderTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		config   mllp.DecoderConfig
		send     []string // written 30ms apart, then the sender waits
		wantErr  error
		wantText string
	}{
		{
			name:     "idle timeout mid-frame",
			config:   mllp.DecoderConfig{IdleTimeout: 100 * time.Millisecond},
			send:     []string{"\x0bMSH|partial"},
			wantErr:  mllp.ErrIncompleteFrame,
			wantText: "no bytes within the idle timeout of 100ms (11 bytes of the frame received)",
		},
		{
			name:     "idle timeout between frames",
			config:   mllp.DecoderConfig{IdleTimeout: 100 * time.Millisecond},
			send:     []string{"\x0bA\x1c\r"},
			wantErr:  mllp.ErrIdleTimeout,
			wantText: "no frame started within 100ms",
		},
		{
			name: "read timeout with a slow sender",
			config: mllp.DecoderConfig{
				IdleTimeout: time.Second,
				ReadTimeout: 150 * time.Millisecond,
			},
			send:     []string{"\x0b", "M", "S", "H", "|", "^", "~", "\\", "&", "|"},
			wantErr:  mllp.ErrIncompleteFrame,
			wantText: "frame not complete within the read timeout of 150ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln := listenLoopback(t)
			release := make(chan struct{})
			defer close(release)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				for _, piece := range tt.send {
					if _, err := conn.Write([]byte(piece)); err != nil {
						return
					}
					time.Sleep(30 * time.Millisecond)
				}
				<-release
			}()
			conn := dialRaw(t, ln.Addr().String())
			dec := mllp.NewDecoder(conn, tt.config)

			start := time.Now()
			_, err := readAll(dec)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.wantErr)
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			assert.Contains(t, err.Error(), tt.wantText)
			assert.Less(t, time.Since(start), 3*time.Second)
		})
	}
}

func TestDecoderReaderError(t *testing.T) {
	t.Parallel()
	failure := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("\x0bMSH|"), iotest.ErrReader(failure))
	dec := mllp.NewDecoder(r, mllp.DecoderConfig{})

	_, err := dec.ReadFrame()
	assert.ErrorIs(t, err, mllp.ErrIncompleteFrame)
	assert.ErrorIs(t, err, failure)
}

func TestWriteFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		message  string
		want     string
		wantErr  error
		wantText string
	}{
		{name: "message", message: "MSH|^~\\&\r", want: "\x0bMSH|^~\\&\r\x1c\r"},
		{name: "empty", message: "", want: "\x0b\x1c\r"},
		{name: "UTF-8", message: "PID|||||MÜLLER\r", want: "\x0bPID|||||MÜLLER\r\x1c\r"},
		{name: "contains VT", message: "MSH|\x0b", wantErr: mllp.ErrInvalidContent, wantText: "byte 4 is 0x0B"},
		{name: "contains FS", message: "MSH\x1c\r", wantErr: mllp.ErrInvalidContent, wantText: "byte 3 is 0x1C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := mllp.WriteFrame(&out, []byte(tt.message))
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.ErrorContains(t, err, tt.wantText)
				assert.Zero(t, out.Len(), "nothing is written")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, out.String())
		})
	}
}

func TestWriteFrameRoundTrip(t *testing.T) {
	t.Parallel()
	messages := []string{"MSH|first\r", "", "MSH|third\rPID|1\r"}
	var stream bytes.Buffer
	for _, message := range messages {
		require.NoError(t, mllp.WriteFrame(&stream, []byte(message)))
	}
	frames, err := readAll(mllp.NewDecoder(&stream, mllp.DecoderConfig{}))
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, messages, frames)
}

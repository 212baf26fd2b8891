package mllp_test

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// discardConfig keeps up to 10 bytes of a frame and reads an oversize
// frame to its end up to 40 bytes of content.
var discardConfig = mllp.DecoderConfig{MaxFrame: 10, MaxDiscard: 40}

// byteReaders split the same input into reads of different sizes, which
// must not change the frames decoded.
var byteReaders = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{name: "whole", wrap: func(r io.Reader) io.Reader { return r }},
	{name: "one byte per read", wrap: iotest.OneByteReader},
	{name: "half per read", wrap: iotest.HalfReader},
}

func TestDecoderDiscardsOversizeFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		input    string
		wantSize int
	}{
		{name: "just over", input: "\x0b" + strings.Repeat("x", 11) + "\x1c\r", wantSize: 11},
		{name: "at the discard bound", input: "\x0b" + strings.Repeat("x", 40) + "\x1c\r", wantSize: 40},
		{name: "end block without CR is content", input: "\x0b" + strings.Repeat("x", 15) + "\x1cA\x1c\r", wantSize: 17},
	}
	for _, tt := range tests {
		for _, reader := range byteReaders {
			t.Run(tt.name+"/"+reader.name, func(t *testing.T) {
				t.Parallel()
				input := tt.input + "\x0bNEXT\x1c\r"
				dec := mllp.NewDecoder(reader.wrap(strings.NewReader(input)), discardConfig)

				_, err := dec.ReadFrame()
				var tooLarge *mllp.FrameTooLargeError
				require.ErrorAs(t, err, &tooLarge)
				assert.ErrorIs(t, err, mllp.ErrFrameTooLarge)
				assert.Equal(t, 10, tooLarge.Limit)
				assert.True(t, tooLarge.Complete, "the frame is read to its end")
				assert.Equal(t, tt.wantSize, tooLarge.Size)
				assert.Contains(t, err.Error(), "was discarded")

				frames, err := readAll(dec)
				assert.ErrorIs(t, err, io.EOF)
				assert.Equal(t, []string{"NEXT"}, frames, "the next frame is read after the discarded one")
				assert.Zero(t, dec.Skipped(), "a discarded frame is not counted as skipped")
			})
		}
	}
}

func TestDecoderDiscardStops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		input      string
		incomplete bool
	}{
		{name: "past the discard bound", input: "\x0b" + strings.Repeat("x", 41) + "\x1c\r\x0bNEXT\x1c\r"},
		{name: "start block inside", input: "\x0b" + strings.Repeat("x", 20) + "\x0bNEXT\x1c\r"},
		{name: "start block just past the head", input: "\x0b" + strings.Repeat("x", 11) + "\x0bNEXT\x1c\r"},
		{name: "start block after an end block", input: "\x0b" + strings.Repeat("x", 15) + "\x1c\x0bNEXT\x1c\r"},
		{name: "end of stream", input: "\x0b" + strings.Repeat("x", 20), incomplete: true},
		{name: "end of stream after an end block", input: "\x0b" + strings.Repeat("x", 20) + "\x1c", incomplete: true},
	}
	for _, tt := range tests {
		for _, reader := range byteReaders {
			t.Run(tt.name+"/"+reader.name, func(t *testing.T) {
				t.Parallel()
				dec := mllp.NewDecoder(reader.wrap(strings.NewReader(tt.input)), discardConfig)

				frames, err := readAll(dec)
				assert.Empty(t, frames, "no frame after an oversize frame that was not read whole")
				var tooLarge *mllp.FrameTooLargeError
				require.ErrorAs(t, err, &tooLarge)
				assert.False(t, tooLarge.Complete)
				assert.ErrorIs(t, err, mllp.ErrFrameTooLarge)
				if tt.incomplete {
					assert.ErrorIs(t, err, mllp.ErrIncompleteFrame)
				} else {
					assert.NotErrorIs(t, err, mllp.ErrIncompleteFrame)
				}

				_, again := dec.ReadFrame()
				assert.Equal(t, err, again, "a later ReadFrame returns the same error")
			})
		}
	}
}

func TestDecoderWithoutDiscardStopsAtLimit(t *testing.T) {
	t.Parallel()
	input := "\x0b" + strings.Repeat("x", 11) + "\x1c\r\x0bNEXT\x1c\r"
	dec := mllp.NewDecoder(strings.NewReader(input), mllp.DecoderConfig{MaxFrame: 10})

	frames, err := readAll(dec)
	assert.Empty(t, frames)
	var tooLarge *mllp.FrameTooLargeError
	require.ErrorAs(t, err, &tooLarge)
	assert.False(t, tooLarge.Complete, "without MaxDiscard the decoder stops at the limit")
	assert.Equal(t, 11, tooLarge.Size)
}

func TestDecoderDiscardReadTimeout(t *testing.T) {
	t.Parallel()
	ln := listenLoopback(t)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		// The frame never ends, so the read timeout ends the discard.
		conn.Write([]byte("\x0b" + strings.Repeat("x", 20)))
		io.Copy(io.Discard, conn)
	}()
	conn := dialRaw(t, ln.Addr().String())
	cfg := discardConfig
	cfg.ReadTimeout = 100 * time.Millisecond
	dec := mllp.NewDecoder(conn, cfg)

	_, err := dec.ReadFrame()
	assert.ErrorIs(t, err, mllp.ErrFrameTooLarge)
	assert.ErrorIs(t, err, mllp.ErrIncompleteFrame)
	assert.Contains(t, err.Error(), "frame not complete within the read timeout")
}

package mllp_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// fuzzMaxFrame is small so that the fuzzer reaches the limit often.
const fuzzMaxFrame = 64

type decodeResult struct {
	frames [][]byte
	// discarded are the sizes of the oversize frames read to their end.
	discarded []int
	// order has an F for each frame and a D for each discarded frame, in
	// the order they were read.
	order   string
	err     error
	skipped int64
}

// decodeAll decodes r to its first error, going on past oversize frames
// that were read to their end.
func decodeAll(r io.Reader) decodeResult {
	dec := mllp.NewDecoder(r, mllp.DecoderConfig{MaxFrame: fuzzMaxFrame, MaxDiscard: 4 * fuzzMaxFrame})
	var result decodeResult
	for {
		frame, err := dec.ReadFrame()
		var tooLarge *mllp.FrameTooLargeError
		if errors.As(err, &tooLarge) && tooLarge.Complete {
			result.discarded = append(result.discarded, tooLarge.Size)
			result.order += "D"
			continue
		}
		if err != nil {
			result.err = err
			result.skipped = dec.Skipped()
			return result
		}
		result.frames = append(result.frames, frame)
		result.order += "F"
	}
}

// errorKind names the sentinel that err matches.
func errorKind(err error) string {
	for _, kind := range []struct {
		name string
		err  error
	}{
		{"frame too large", mllp.ErrFrameTooLarge},
		{"incomplete frame", mllp.ErrIncompleteFrame},
		{"no start block", mllp.ErrNoStartBlock},
		{"EOF", io.EOF},
	} {
		if errors.Is(err, kind.err) {
			return kind.name
		}
	}
	return "other: " + err.Error()
}

func FuzzDecoder(f *testing.F) {
	seeds := []string{
		"\x0bMSH|^~\\&|ADTSYS|HOSP\rPID|1\r\x1c\r",
		"\x0bA\x1c\r\x0bB\x1c\r",
		"junk\x0bA\x1c\r\n",
		"\x0bpartial\x0bwhole\x1c\r",
		"\x0bA\x1cB\x1c\r",
		"\x0b\x1c\r",
		"\x0bMSH|partial",
		"\x0bMSH|partial\x1c",
		"\x1c\r\x1c\r\x0b\x0b\x0b",
		"\x0b" + string(bytes.Repeat([]byte("x"), fuzzMaxFrame)) + "\x1c\r",
		"\x0b" + string(bytes.Repeat([]byte("x"), fuzzMaxFrame+1)) + "\x1c\r",
		string(bytes.Repeat([]byte("y"), fuzzMaxFrame+1)) + "\x0bA\x1c\r",
		"\x0b" + string(bytes.Repeat([]byte("x"), 2*fuzzMaxFrame)) + "\x1c\r\x0bA\x1c\r",
		"\x0b" + string(bytes.Repeat([]byte("x"), 2*fuzzMaxFrame)) + "\x1c\x0bA\x1c\r",
		"\x0b" + string(bytes.Repeat([]byte("x"), 4*fuzzMaxFrame+1)) + "\x1c\r",
		"\x0bPID|||||MÜLLER^JOSÉ\r\x1c\r",
		"",
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		whole := decodeAll(bytes.NewReader(input))
		for i, frame := range whole.frames {
			if len(frame) > fuzzMaxFrame {
				t.Fatalf("frame %d has %d bytes, more than the limit of %d", i, len(frame), fuzzMaxFrame)
			}
			if bytes.IndexByte(frame, mllp.StartBlock) >= 0 {
				t.Fatalf("frame %d contains a start block: %q", i, frame)
			}
			if bytes.Contains(frame, []byte{mllp.EndBlock, mllp.CarriageReturn}) {
				t.Fatalf("frame %d contains an end of frame: %q", i, frame)
			}
		}
		if whole.err == nil {
			t.Fatal("decoding ended without an error")
		}

		// Splitting the input into one-byte reads changes nothing.
		split := decodeAll(iotest.OneByteReader(bytes.NewReader(input)))
		if len(split.frames) != len(whole.frames) {
			t.Fatalf("one-byte reads gave %d frames, whole reads %d", len(split.frames), len(whole.frames))
		}
		for i := range whole.frames {
			if !bytes.Equal(split.frames[i], whole.frames[i]) {
				t.Fatalf("frame %d: one-byte reads gave %q, whole reads %q", i, split.frames[i], whole.frames[i])
			}
		}
		if split.order != whole.order {
			t.Fatalf("one-byte reads gave frames and discarded frames in the order %q, whole reads %q",
				split.order, whole.order)
		}
		if !slices.Equal(split.discarded, whole.discarded) {
			t.Fatalf("one-byte reads discarded frames of %v bytes, whole reads %v", split.discarded, whole.discarded)
		}
		if got, want := errorKind(split.err), errorKind(whole.err); got != want {
			t.Fatalf("one-byte reads ended with %q (%v), whole reads with %q (%v)", got, split.err, want, whole.err)
		}
		if errors.Is(whole.err, io.EOF) && split.skipped != whole.skipped {
			t.Fatalf("one-byte reads skipped %d bytes, whole reads %d", split.skipped, whole.skipped)
		}
	})
}

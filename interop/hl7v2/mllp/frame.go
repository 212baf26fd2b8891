package mllp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Block characters of MLLP framing.
const (
	// StartBlock (VT) opens a frame.
	StartBlock byte = 0x0B
	// EndBlock (FS) closes a frame when CarriageReturn follows it.
	EndBlock byte = 0x1C
	// CarriageReturn follows EndBlock at the end of a frame.
	CarriageReturn byte = 0x0D
)

// DefaultMaxFrame is the maximum frame content size, in bytes, used when a
// MaxFrame setting is zero. It is far above typical ADT and ORU messages,
// which are a few kilobytes, and still bounds the memory that one
// connection can hold. Raise it for messages that embed documents or
// images (OBX-5 of type ED).
const DefaultMaxFrame = 1 << 20

// blockChars lists the bytes that MLLP content must not contain.
const blockChars = "\x0b\x1c"

var (
	// ErrFrameTooLarge is matched by a *FrameTooLargeError.
	ErrFrameTooLarge = errors.New("mllp: frame too large")

	// ErrIncompleteFrame reports a frame whose start block arrived but whose
	// end block did not, because the connection ended, a read timed out or a
	// read failed. No message is assumed from the partial bytes.
	ErrIncompleteFrame = errors.New("mllp: incomplete frame")

	// ErrIdleTimeout reports that no frame started within the idle timeout.
	ErrIdleTimeout = errors.New("mllp: idle timeout")

	// ErrNoStartBlock reports more bytes without a start block than the
	// maximum frame size, which means the peer does not speak MLLP.
	ErrNoStartBlock = errors.New("mllp: no start block")

	// ErrInvalidContent reports a message that contains a block character
	// (0x0B or 0x1C), which would corrupt the framing.
	ErrInvalidContent = errors.New("mllp: invalid message content")
)

// FrameTooLargeError reports a frame whose content exceeds the maximum
// frame size. It matches ErrFrameTooLarge with errors.Is.
type FrameTooLargeError struct {
	// Limit is the maximum frame content size in bytes.
	Limit int
	// Size is the frame's content size in bytes when Complete is set.
	// Otherwise it is the number of content bytes received when the frame
	// was rejected, which is a lower bound of the frame's size.
	Size int
	// Complete reports that the frame was read to its end block and
	// discarded, so that the Decoder goes on with the next frame (see
	// DecoderConfig.MaxDiscard).
	Complete bool

	// head is the first Limit bytes of the content when Complete is set,
	// for a Server to pass to a TooLargeHandler. It is unexported so that
	// no caller logs message bytes with the error by mistake.
	head []byte
}

func (e *FrameTooLargeError) Error() string {
	if e.Complete {
		return fmt.Sprintf("mllp: frame content of %d bytes exceeds the maximum frame size of %d bytes "+
			"and was discarded", e.Size, e.Limit)
	}
	return fmt.Sprintf("mllp: frame content exceeds the maximum frame size of %d bytes (%d bytes received)",
		e.Limit, e.Size)
}

// Is reports whether target is ErrFrameTooLarge.
func (e *FrameTooLargeError) Is(target error) bool {
	return target == ErrFrameTooLarge
}

// AppendFrame appends message wrapped in a frame to dst and returns the
// extended slice. It does not check the content: WriteFrame does.
func AppendFrame(dst, message []byte) []byte {
	dst = append(dst, StartBlock)
	dst = append(dst, message...)
	return append(dst, EndBlock, CarriageReturn)
}

// WriteFrame writes message to w as one frame in a single Write call. It
// returns an error wrapping ErrInvalidContent, and writes nothing, when
// message contains 0x0B or 0x1C.
func WriteFrame(w io.Writer, message []byte) error {
	if err := checkContent(message); err != nil {
		return err
	}
	_, err := w.Write(AppendFrame(make([]byte, 0, len(message)+3), message))
	return err
}

func checkContent(message []byte) error {
	i := bytes.IndexAny(message, blockChars)
	if i < 0 {
		return nil
	}
	return fmt.Errorf("%w: byte %d is 0x%02X, and MLLP content must not contain 0x0B or 0x1C",
		ErrInvalidContent, i, message[i])
}

package mllp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"
)

// readChunk is the minimum free buffer space offered to each Read.
const readChunk = 4096

// maxEmptyReads bounds successive reads that return no bytes and no error,
// which a broken io.Reader could otherwise repeat forever.
const maxEmptyReads = 100

// DecoderConfig sets the limits of a Decoder. The zero value is valid: it
// means DefaultMaxFrame and no timeouts.
type DecoderConfig struct {
	// MaxFrame is the maximum frame content size in bytes, without the
	// block characters. Zero means DefaultMaxFrame.
	MaxFrame int

	// IdleTimeout is the maximum time to wait for the next bytes, both
	// between frames and inside one. Zero means no limit. The decoder sets
	// read deadlines only when the reader has SetReadDeadline, as a
	// net.Conn does.
	IdleTimeout time.Duration

	// ReadTimeout is the maximum time from a start block to the end of its
	// frame. It stops a peer that sends one byte per idle timeout from
	// holding a connection. Zero means no limit.
	ReadTimeout time.Duration

	// OnSkip, when set, is called with the number of bytes skipped before a
	// start block, once per run of skipped bytes.
	OnSkip func(n int)

	// MaxDiscard, when larger than MaxFrame, makes the decoder read a frame
	// whose content exceeds MaxFrame to its end block and discard it, as
	// long as the content stays within MaxDiscard bytes and no start block
	// interrupts it. ReadFrame then returns a *FrameTooLargeError with
	// Complete set and goes on with the next frame. The decoder keeps only
	// the first MaxFrame bytes of such a frame. Zero, or a value up to
	// MaxFrame, stops the decoder at the first byte past MaxFrame.
	MaxDiscard int
}

type readDeadliner interface {
	SetReadDeadline(t time.Time) error
}

// Decoder reads MLLP frames from a byte stream. It buffers across reads
// until a frame is complete, so frames split across TCP segments and
// several frames in one segment both come out whole and in order.
//
// Bytes before a start block are skipped and counted. A start block inside
// a frame abandons the partial frame, whose bytes are counted as skipped,
// and starts a new one. An end block not followed by a carriage return is
// content. After an error, every later ReadFrame returns the same error,
// because the position in the stream is no longer known. The exception is
// a *FrameTooLargeError with Complete set, after which the position is
// known again. A Decoder is not safe for concurrent use.
type Decoder struct {
	r         io.Reader
	deadliner readDeadliner
	cfg       DecoderConfig

	buf        []byte
	start, end int // unread bytes are buf[start:end]
	scan       int // inside a frame, buf[start:scan] contains no end of frame

	inFrame    bool
	frameStart time.Time
	readTimer  bool // the current read deadline is the frame's ReadTimeout

	pendingSkip int // skipped bytes not yet reported to OnSkip
	skipped     int64

	// head is the first MaxFrame content bytes of an oversize frame that
	// is being discarded, and nil otherwise. discarded counts the content
	// bytes of that frame before buf[start], head included.
	head      []byte
	discarded int

	readErr error // returned by a Read together with bytes, kept for later
	err     error
}

// NewDecoder returns a Decoder that reads from r.
func NewDecoder(r io.Reader, cfg DecoderConfig) *Decoder {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	d := &Decoder{r: r, cfg: cfg}
	if cfg.IdleTimeout > 0 || cfg.ReadTimeout > 0 {
		d.deadliner, _ = r.(readDeadliner)
	}
	return d
}

// ReadFrame returns the content of the next frame, without the block
// characters, in a new slice that the caller owns.
//
// At the end of the stream between frames it returns io.EOF. An end of
// stream, timeout or read failure inside a frame returns an error wrapping
// ErrIncompleteFrame and the cause (io.ErrUnexpectedEOF for an end of
// stream). A frame larger than the maximum returns a *FrameTooLargeError,
// and no frame starting within the idle timeout returns an error wrapping
// ErrIdleTimeout. With DecoderConfig.MaxDiscard, an oversize frame whose
// end block arrives within the bound returns a *FrameTooLargeError with
// Complete set, and the next call reads the next frame. When the stream
// ends, times out or fails while an oversize frame is discarded, the error
// matches both ErrFrameTooLarge and ErrIncompleteFrame.
func (d *Decoder) ReadFrame() ([]byte, error) {
	if d.err != nil {
		return nil, d.err
	}
	for {
		frame, err := d.next()
		var tooLarge *FrameTooLargeError
		if errors.As(err, &tooLarge) && tooLarge.Complete {
			return nil, err
		}
		if err != nil {
			d.fail(err)
			return nil, err
		}
		if frame != nil {
			return frame, nil
		}
		if err := d.fill(); err != nil {
			d.fail(d.readError(err))
			return nil, d.err
		}
	}
}

// Skipped returns the number of bytes skipped so far outside frames.
func (d *Decoder) Skipped() int64 {
	return d.skipped
}

func (d *Decoder) fail(err error) {
	d.reportSkip()
	d.err = err
	d.head = nil
}

// next returns the next complete frame in the buffer, or nil when more
// bytes are needed. Every limit is checked at the byte where it is passed,
// so the result does not depend on how the stream was split into reads.
func (d *Decoder) next() ([]byte, error) {
	if !d.inFrame {
		found, err := d.findStart()
		if !found || err != nil {
			return nil, err
		}
	}
	if d.head != nil {
		return nil, d.discard()
	}
	for {
		i := bytes.IndexAny(d.buf[d.scan:d.end], blockChars)
		if i < 0 {
			d.scan = d.end
			break
		}
		pos := d.scan + i
		if size := pos - d.start; size > d.cfg.MaxFrame {
			return nil, d.overflow(size)
		}
		if d.buf[pos] == StartBlock {
			// The sender abandoned the frame and started again: its start
			// block and partial content count as skipped.
			d.skip(pos - d.start + 1)
			d.reportSkip()
			d.start = pos + 1
			d.scan = d.start
			d.beginFrame()
			continue
		}
		if pos+1 == d.end {
			// The end block is the last byte read, and the next byte decides
			// whether it ends the frame.
			d.scan = pos
			break
		}
		if d.buf[pos+1] != CarriageReturn {
			d.scan = pos + 1
			continue
		}
		return d.takeFrame(pos), nil
	}
	if size := d.scan - d.start; size > d.cfg.MaxFrame {
		return nil, d.overflow(size)
	}
	return nil, nil
}

// overflow handles a frame whose content passed MaxFrame, with size
// content bytes known. Without MaxDiscard it returns the error that stops
// the decoder. Otherwise the first MaxFrame content bytes become the head,
// and the buffered rest, at most readChunk+1 bytes, moves to a new buffer
// in which discard looks for the end of the frame. The decoder so holds no
// more than MaxFrame bytes of the frame.
func (d *Decoder) overflow(size int) error {
	if d.cfg.MaxDiscard <= d.cfg.MaxFrame {
		return &FrameTooLargeError{Limit: d.cfg.MaxFrame, Size: size}
	}
	headEnd := d.start + d.cfg.MaxFrame
	d.head = d.buf[d.start:headEnd:headEnd]
	d.discarded = d.cfg.MaxFrame
	rest := d.buf[headEnd:d.end]
	d.buf = make([]byte, len(rest)+readChunk)
	copy(d.buf, rest)
	d.start, d.scan, d.end = 0, 0, len(rest)
	return d.discard()
}

// discard drops the buffered bytes of the oversize frame up to its end. At
// the end of the frame it returns a *FrameTooLargeError with Complete set
// and the head. It returns one without Complete, which stops the decoder,
// when the content passes MaxDiscard or a start block interrupts it,
// because the stream can be trusted again only after a whole frame. It
// returns nil when it needs more bytes.
func (d *Decoder) discard() error {
	for {
		i := bytes.IndexAny(d.buf[d.scan:d.end], blockChars)
		if i < 0 {
			d.scan = d.end
			break
		}
		pos := d.scan + i
		size := d.discarded + pos - d.start
		if size > d.cfg.MaxDiscard || d.buf[pos] == StartBlock {
			return &FrameTooLargeError{Limit: d.cfg.MaxFrame, Size: size}
		}
		if pos+1 == d.end {
			// The next byte decides whether the end block ends the frame.
			d.scan = pos
			break
		}
		if d.buf[pos+1] != CarriageReturn {
			d.scan = pos + 1
			continue
		}
		err := &FrameTooLargeError{Limit: d.cfg.MaxFrame, Size: size, Complete: true, head: d.head}
		d.head, d.discarded = nil, 0
		d.inFrame = false
		d.start = pos + 2
		if d.start == d.end {
			d.start, d.end = 0, 0
		}
		return err
	}
	size := d.discarded + d.scan - d.start
	if size > d.cfg.MaxDiscard {
		return &FrameTooLargeError{Limit: d.cfg.MaxFrame, Size: size}
	}
	d.discarded = size
	d.start = d.scan
	return nil
}

// findStart skips the bytes before the next start block and reports
// whether one was found.
func (d *Decoder) findStart() (bool, error) {
	i := bytes.IndexByte(d.buf[d.start:d.end], StartBlock)
	if i < 0 {
		d.skip(d.end - d.start)
		d.start, d.end = 0, 0
		return false, d.checkSkipLimit()
	}
	d.skip(i)
	if err := d.checkSkipLimit(); err != nil {
		return false, err
	}
	d.reportSkip()
	d.start += i + 1
	d.scan = d.start
	d.beginFrame()
	return true, nil
}

func (d *Decoder) checkSkipLimit() error {
	if d.pendingSkip <= d.cfg.MaxFrame {
		return nil
	}
	return fmt.Errorf("%w: %d bytes received without a start block (0x0B), "+
		"more than the maximum frame size of %d bytes; the peer does not send MLLP frames",
		ErrNoStartBlock, d.pendingSkip, d.cfg.MaxFrame)
}

func (d *Decoder) beginFrame() {
	d.inFrame = true
	if d.cfg.ReadTimeout > 0 {
		d.frameStart = time.Now()
	}
}

// takeFrame returns the frame whose end block is at buf[end]. The caller
// has checked its size.
func (d *Decoder) takeFrame(end int) []byte {
	frame := make([]byte, end-d.start)
	copy(frame, d.buf[d.start:end])
	d.start = end + 2
	d.inFrame = false
	if d.start == d.end {
		d.start, d.end = 0, 0
	}
	return frame
}

func (d *Decoder) skip(n int) {
	d.pendingSkip += n
	d.skipped += int64(n)
}

func (d *Decoder) reportSkip() {
	if d.pendingSkip == 0 {
		return
	}
	if d.cfg.OnSkip != nil {
		d.cfg.OnSkip(d.pendingSkip)
	}
	d.pendingSkip = 0
}

// fill reads more bytes into the buffer.
func (d *Decoder) fill() error {
	if d.readErr != nil {
		return d.readErr
	}
	d.compact()
	if err := d.setDeadline(); err != nil {
		return err
	}
	for range maxEmptyReads {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if n > 0 {
			d.readErr = err
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// compact moves the unread bytes to the front of the buffer and grows it
// so that at least readChunk bytes are free. Because next rejects a frame
// as soon as its content passes the maximum, the buffer never grows past
// MaxFrame+1+readChunk bytes.
func (d *Decoder) compact() {
	if d.start > 0 {
		copy(d.buf, d.buf[d.start:d.end])
		d.end -= d.start
		d.scan -= d.start
		d.start = 0
	}
	if len(d.buf)-d.end >= readChunk {
		return
	}
	size := max(2*len(d.buf), d.end+readChunk)
	size = min(size, d.cfg.MaxFrame+1+readChunk)
	grown := make([]byte, size)
	copy(grown, d.buf[:d.end])
	d.buf = grown
}

// setDeadline sets the read deadline to the idle timeout from now, or to
// the end of the frame's read timeout when that comes first.
func (d *Decoder) setDeadline() error {
	if d.deadliner == nil {
		return nil
	}
	var deadline time.Time
	if d.cfg.IdleTimeout > 0 {
		deadline = time.Now().Add(d.cfg.IdleTimeout)
	}
	d.readTimer = false
	if d.inFrame && d.cfg.ReadTimeout > 0 {
		frameDeadline := d.frameStart.Add(d.cfg.ReadTimeout)
		if deadline.IsZero() || frameDeadline.Before(deadline) {
			deadline = frameDeadline
			d.readTimer = true
		}
	}
	return d.deadliner.SetReadDeadline(deadline)
}

// readError wraps an error of the underlying reader with the frame state.
func (d *Decoder) readError(err error) error {
	if !d.inFrame {
		if isTimeout(err) && d.cfg.IdleTimeout > 0 && d.deadliner != nil {
			return fmt.Errorf("%w: no frame started within %s: %w", ErrIdleTimeout, d.cfg.IdleTimeout, err)
		}
		return err
	}
	received := d.end - d.start
	if d.head != nil {
		// The frame is being discarded, so its error also reports that it
		// was too large.
		received += d.discarded
		tooLarge := &FrameTooLargeError{Limit: d.cfg.MaxFrame, Size: received}
		return fmt.Errorf("%w: %w", tooLarge, d.incompleteError(received, err))
	}
	return d.incompleteError(received, err)
}

// incompleteError wraps an error of the underlying reader inside a frame
// of which received content bytes arrived.
func (d *Decoder) incompleteError(received int, err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: connection closed after %d bytes of the frame: %w",
			ErrIncompleteFrame, received, io.ErrUnexpectedEOF)
	case isTimeout(err) && d.readTimer:
		return fmt.Errorf("%w: frame not complete within the read timeout of %s (%d bytes received): %w",
			ErrIncompleteFrame, d.cfg.ReadTimeout, received, err)
	case isTimeout(err) && d.deadliner != nil:
		return fmt.Errorf("%w: no bytes within the idle timeout of %s (%d bytes of the frame received): %w",
			ErrIncompleteFrame, d.cfg.IdleTimeout, received, err)
	default:
		return fmt.Errorf("%w: read failed after %d bytes of the frame: %w", ErrIncompleteFrame, received, err)
	}
}

// newSkipLogger returns an OnSkip function that logs the first run of
// skipped bytes at warning level and later runs at debug level, because
// some peers add a byte, such as LF, after every frame.
func newSkipLogger(log *slog.Logger, message string) func(n int) {
	runs := 0
	return func(n int) {
		runs++
		level := slog.LevelDebug
		if runs == 1 {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, message, "bytes", n)
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

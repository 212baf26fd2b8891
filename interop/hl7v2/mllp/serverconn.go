package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"time"
)

// serverConn serves one accepted connection.
type serverConn struct {
	server *Server
	nc     net.Conn
	log    *slog.Logger
	info   ConnInfo
	// ip is the peer's address that Server.peers counts, when hasIP.
	ip    netip.Addr
	hasIP bool

	mu             sync.Mutex
	busy           bool // a message is being handled or its ACK written
	closedByServer bool

	messages   int
	closeCause string
	// drainOnClose makes serve close the connection with drain, after a
	// message that gets no ACK.
	drainOnClose bool
}

// drainTimeout and maxDrainBytes bound how long and how much drain reads
// before the connection closes anyway.
const (
	drainTimeout  = 2 * time.Second
	maxDrainBytes = 1 << 20
)

// drain half-closes the connection and discards what the peer still
// sends, until it closes its side or drainTimeout passes. Closing a
// socket with unread input makes the kernel send RST, and a peer that
// receives RST may drop the ACKs of earlier messages before it reads
// them. After FIN the peer reads those ACKs and then end of file.
func (c *serverConn) drain() {
	type closeWriter interface{ CloseWrite() error }
	cw, ok := c.nc.(closeWriter)
	if !ok || cw.CloseWrite() != nil {
		return
	}
	if c.nc.SetReadDeadline(time.Now().Add(drainTimeout)) != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(c.nc, maxDrainBytes))
}

func (c *serverConn) serve() {
	defer c.server.removeConn(c)
	c.log.Info("mllp: connection opened")
	config := DecoderConfig{
		MaxFrame:    c.server.maxFrame(),
		IdleTimeout: c.server.IdleTimeout,
		ReadTimeout: c.server.ReadTimeout,
		OnSkip:      newSkipLogger(c.log, "mllp: skipped bytes before a start block"),
	}
	if _, ok := c.server.Handler.(TooLargeHandler); ok {
		// Reading an oversize frame to its end is worth its cost only
		// when the handler can reply to it.
		config.MaxDiscard = c.server.maxDiscard()
	}
	dec := NewDecoder(c.nc, config)
	defer func() {
		if c.drainOnClose {
			c.drain()
		}
		c.nc.Close()
		c.log.Info("mllp: connection closed", "cause", c.closeCause,
			"messages", c.messages, "skipped_bytes", dec.Skipped())
	}()

	if !c.handshake() {
		return
	}
	for {
		message, err := dec.ReadFrame()
		tooLarge := discardedFrame(err)
		if err != nil && tooLarge == nil {
			c.logReadError(err)
			return
		}
		if !c.setBusy() {
			c.closeCause = "server shutdown"
			c.log.Info("mllp: frame dropped without an ACK: server shutting down")
			return
		}
		ok := c.handle(message, tooLarge)
		if !c.setIdle() {
			if c.closeCause == "" {
				c.closeCause = "server shutdown"
			}
			return
		}
		if !ok {
			return
		}
	}
}

// handshake completes the TLS handshake, when the connection uses TLS, so
// that ConnInfo.TLS is known before the first message.
func (c *serverConn) handshake() bool {
	tlsConn, ok := c.nc.(*tls.Conn)
	if !ok {
		return true
	}
	ctx := c.server.ctx
	timeout := c.server.ReadTimeout
	if idle := c.server.IdleTimeout; idle > 0 && (timeout == 0 || idle < timeout) {
		timeout = idle
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		if c.wasClosedByServer() {
			c.closeCause = "server shutdown"
			return false
		}
		c.closeCause = "TLS handshake failed"
		c.log.Warn("mllp: TLS handshake failed", "err", err)
		return false
	}
	state := tlsConn.ConnectionState()
	c.info.TLS = &state
	return true
}

// discardedFrame returns the error of ReadFrame when it reports an
// oversize frame that was read to its end, and nil otherwise. The decoder
// reads such frames only for a TooLargeHandler.
func discardedFrame(err error) *FrameTooLargeError {
	var tooLarge *FrameTooLargeError
	if !errors.As(err, &tooLarge) || !tooLarge.Complete {
		return nil
	}
	return tooLarge
}

// handle passes one frame to the handler and writes its replies. The frame
// is message, or the oversize frame that tooLarge reports when it is not
// nil. It reports whether the connection can carry on.
func (c *serverConn) handle(message []byte, tooLarge *FrameTooLargeError) bool {
	if tooLarge != nil {
		c.log.Warn("mllp: frame too large; passing its first bytes to the handler for a rejection",
			"max_frame", tooLarge.Limit, "size", tooLarge.Size, "advice", c.server.maxFrameAdvice())
	}
	replies, mayBeEmpty, err := c.callHandler(message, tooLarge)
	switch {
	case err != nil && len(replies) == 0:
		c.closeCause = "handler error"
		c.drainOnClose = true
		c.log.Error("mllp: handler failed; closing the connection without an ACK so that the sender retries",
			"err", err)
		return false
	case err != nil:
		c.log.Error("mllp: handler returned an error with an ACK; sending the ACK", "err", err)
	case len(replies) == 0 && !mayBeEmpty:
		c.closeCause = "handler returned no ACK"
		c.drainOnClose = true
		c.log.Error("mllp: handler returned neither an ACK nor an error; closing the connection without an ACK")
		return false
	}

	if c.server.WriteTimeout > 0 && len(replies) > 0 {
		if err := c.nc.SetWriteDeadline(time.Now().Add(c.server.WriteTimeout)); err != nil {
			c.closeCause = "write failed"
			c.log.Warn("mllp: setting the write deadline failed", "err", err)
			return false
		}
	}
	for _, reply := range replies {
		if err := WriteFrame(c.nc, reply); err != nil {
			c.closeCause = "ACK write failed"
			c.log.Warn("mllp: writing the ACK failed; closing the connection", "err", err)
			return false
		}
	}
	c.messages++
	return true
}

// callHandler calls the handler and turns a panic into an error. Only the
// stack is logged, because a panic value may contain message content.
// mayBeEmpty reports whether the handler is a ReplyHandler, or a
// TooLargeHandler called for tooLarge, for which no reply is a valid
// result.
func (c *serverConn) callHandler(message []byte, tooLarge *FrameTooLargeError) (
	replies [][]byte, mayBeEmpty bool, err error,
) {
	defer func() {
		if recover() != nil {
			c.log.Error("mllp: handler panicked", "stack", string(debug.Stack()))
			replies, err = nil, errors.New("mllp: handler panicked")
		}
	}()
	if tooLarge != nil {
		// The decoder reads an oversize frame to its end only for a
		// TooLargeHandler.
		th := c.server.Handler.(TooLargeHandler)
		frame := TooLargeFrame{Head: tooLarge.head, Size: tooLarge.Size, Limit: tooLarge.Limit}
		replies, err = th.HandleTooLarge(c.server.ctx, c.info, frame)
		return replies, true, err
	}
	if rh, ok := c.server.Handler.(ReplyHandler); ok {
		replies, err = rh.HandleReplies(c.server.ctx, c.info, message)
		return replies, true, err
	}
	ack, err := c.server.Handler.HandleMessage(c.server.ctx, c.info, message)
	if len(ack) > 0 {
		replies = [][]byte{ack}
	}
	return replies, false, err
}

func (c *serverConn) logReadError(err error) {
	var tooLarge *FrameTooLargeError
	switch {
	case c.wasClosedByServer():
		c.closeCause = "server shutdown"
	case errors.Is(err, io.EOF) && !errors.Is(err, ErrIncompleteFrame):
		c.closeCause = "closed by peer"
	case errors.Is(err, ErrIdleTimeout):
		c.closeCause = "idle timeout"
	case errors.As(err, &tooLarge):
		c.closeCause = "frame too large"
		c.log.Warn("mllp: frame too large; closing the connection without an ACK",
			"max_frame", tooLarge.Limit, "size", tooLarge.Size, "advice", c.server.maxFrameAdvice(), "err", err)
	case errors.Is(err, ErrIncompleteFrame):
		c.closeCause = "incomplete frame"
		c.log.Warn("mllp: incomplete frame; closing the connection without an ACK", "err", err)
	case errors.Is(err, ErrNoStartBlock):
		c.closeCause = "not MLLP"
		c.log.Warn("mllp: no start block; closing the connection", "err", err)
	default:
		c.closeCause = "read failed"
		c.log.Warn("mllp: read failed; closing the connection", "err", err)
	}
}

// setBusy marks a message as being handled. It returns false when the
// server is shutting down, in which case the message must be dropped.
func (c *serverConn) setBusy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server.closing.Load() {
		return false
	}
	c.busy = true
	return true
}

// setIdle marks the message as done. It returns false when the server is
// shutting down, in which case the connection must close.
func (c *serverConn) setIdle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	return !c.server.closing.Load()
}

// closeIfIdle closes the connection unless a message is being handled.
// Shutdown calls it after setting closing, and setIdle checks closing under
// the same lock, so a connection is either closed here or closes itself.
func (c *serverConn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.busy {
		c.closedByServer = true
		c.nc.Close()
	}
}

func (c *serverConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closedByServer = true
	c.nc.Close()
}

func (c *serverConn) wasClosedByServer() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closedByServer
}

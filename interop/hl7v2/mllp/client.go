package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// DefaultAckTimeout is the AckTimeout used when ClientOptions.AckTimeout is
// zero. It is an estimate that leaves a receiver time to commit a message
// before it acknowledges, not a value from the MLLP standard, which sets
// none.
const DefaultAckTimeout = 30 * time.Second

// ErrClientClosed is returned by Send after Close.
var ErrClientClosed = errors.New("mllp: client closed")

// ErrTLSHandshake reports that the TCP connection opened but the TLS
// handshake failed, so that callers can tell a receiver that does not
// speak TLS, or whose certificate does not verify, from one that cannot
// be reached. The error wraps the cause from crypto/tls, such as a
// *tls.CertificateVerificationError, a tls.RecordHeaderError or
// context.DeadlineExceeded.
var ErrTLSHandshake = errors.New("mllp: TLS handshake failed")

// ErrNoAck reports that the connection ended or timed out before an ACK
// frame arrived. The receiver may or may not have processed the message.
var ErrNoAck = errors.New("mllp: no ACK received")

// ClientOptions configures a Client. The zero value is valid.
type ClientOptions struct {
	// TLSConfig, when set, makes the client connect with TLS.
	TLSConfig *tls.Config

	// Logger receives connection events and retries, never message content.
	// Nil discards them.
	Logger *slog.Logger

	// MaxFrame is the maximum ACK content size in bytes. Zero means
	// DefaultMaxFrame.
	MaxFrame int

	// DialTimeout is the maximum time to connect, TLS handshake included.
	// Zero means the limit of the context only.
	DialTimeout time.Duration

	// AckTimeout is the maximum time for one Send, from the start of
	// writing the message to the end of the ACK frame. Zero means
	// DefaultAckTimeout.
	AckTimeout time.Duration
}

func (o ClientOptions) withDefaults() ClientOptions {
	if o.MaxFrame == 0 {
		o.MaxFrame = DefaultMaxFrame
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o ClientOptions) validate() error {
	switch {
	case o.MaxFrame < 0:
		return fmt.Errorf("mllp: ClientOptions.MaxFrame is %d; use zero for the default or a positive size", o.MaxFrame)
	case o.DialTimeout < 0:
		return fmt.Errorf("mllp: ClientOptions.DialTimeout is %s; use zero for no limit or a positive duration", o.DialTimeout)
	case o.AckTimeout < 0:
		return fmt.Errorf("mllp: ClientOptions.AckTimeout is %s; use zero for the default or a positive duration", o.AckTimeout)
	}
	return nil
}

// Client sends messages over one MLLP connection and waits for an ACK to
// each. It is safe for concurrent use, and calls to Send run one at a time,
// because MLLP allows one unacknowledged message per connection.
//
// After a failed exchange the client closes the connection, because a late
// ACK could otherwise be taken as the ACK of the next message. The next
// Send dials again.
type Client struct {
	addr string
	opts ClientOptions

	mu     sync.Mutex
	conn   net.Conn // nil after a failed exchange
	dec    *Decoder
	closed bool
}

// Dial connects to the MLLP receiver at the TCP address addr.
func Dial(ctx context.Context, addr string, opts ClientOptions) (*Client, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	c := &Client{addr: addr, opts: opts.withDefaults()}
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// connect dials the receiver and sets up the ACK decoder. The caller holds
// c.mu, or owns c alone.
func (c *Client) connect(ctx context.Context) error {
	if c.opts.DialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.DialTimeout)
		defer cancel()
	}
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return fmt.Errorf("mllp: dial %s: %w", c.addr, err)
	}
	if c.opts.TLSConfig != nil {
		if conn, err = c.handshake(ctx, conn); err != nil {
			return err
		}
	}

	log := c.opts.Logger.With("remote_addr", conn.RemoteAddr().String())
	log.Info("mllp: connected", "local_addr", conn.LocalAddr().String(), "tls", c.opts.TLSConfig != nil)
	c.conn = conn
	c.dec = NewDecoder(conn, DecoderConfig{
		MaxFrame: c.opts.MaxFrame,
		OnSkip:   newSkipLogger(log, "mllp: skipped bytes before the ACK start block"),
	})
	return nil
}

// handshake runs the TLS client handshake on conn, which it closes when
// the handshake fails. Without TLSConfig.ServerName, the certificate is
// verified against the host of c.addr, as tls.Dialer does. The error
// wraps ErrTLSHandshake, because a dial by tls.Dialer returns the same
// context.DeadlineExceeded for a TCP connect that timed out and for a
// handshake that timed out.
func (c *Client) handshake(ctx context.Context, conn net.Conn) (net.Conn, error) {
	config := c.opts.TLSConfig
	if config.ServerName == "" {
		host, _, err := net.SplitHostPort(c.addr)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("mllp: dial %s: %w", c.addr, err)
		}
		config = config.Clone()
		config.ServerName = host
	}
	tlsConn := tls.Client(conn, config)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w with %s: %w", ErrTLSHandshake, c.addr, err)
	}
	return tlsConn, nil
}

// Send writes message as one frame, reads one ACK frame and returns its
// content. It dials again first when an earlier failure closed the
// connection. Check the ACK with AckCode.
//
// The exchange must end within AckTimeout and before ctx ends. When the
// connection closes or times out before the ACK, the error wraps ErrNoAck,
// and the receiver may or may not have processed the message. A message
// containing 0x0B or 0x1C returns an error wrapping ErrInvalidContent
// without being sent.
func (c *Client) Send(ctx context.Context, message []byte) ([]byte, error) {
	replies, err := c.SendReplies(ctx, message, 1)
	if err != nil {
		return nil, err
	}
	return replies[0], nil
}

// SendReplies sends message and waits for replies frames in reply, such as
// the commit ACK and the application ACK of HL7 enhanced mode (replies 2)
// or nothing at all when the message requests no ACK (replies 0). It
// follows the rules of Send, and AckTimeout bounds the whole exchange.
func (c *Client) SendReplies(ctx context.Context, message []byte, replies int) ([][]byte, error) {
	if replies < 0 {
		return nil, fmt.Errorf("mllp: send to %s: replies is %d, expected 0 or more", c.addr, replies)
	}
	if err := checkContent(message); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClientClosed
	}
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("mllp: send to %s: %w", c.addr, err)
	}
	if c.conn == nil {
		if err := c.connect(ctx); err != nil {
			return nil, err
		}
	}
	out, err := c.exchange(ctx, message, replies)
	if err != nil {
		c.dropConn()
		return nil, err
	}
	return out, nil
}

// Receive waits for one more frame on the connection of the last send,
// such as the application ACK that follows a commit ACK in HL7 enhanced
// mode. AckTimeout bounds the wait. Without an open connection it returns
// an error wrapping ErrNoAck.
func (c *Client) Receive(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClientClosed
	}
	if c.conn == nil {
		return nil, fmt.Errorf("mllp: receive from %s: no open connection: %w", c.addr, ErrNoAck)
	}
	out, err := c.exchange(ctx, nil, 1)
	if err != nil {
		c.dropConn()
		return nil, err
	}
	return out[0], nil
}

// exchange writes message as one frame, unless it is nil, and reads
// replies frames on c.conn.
func (c *Client) exchange(ctx context.Context, message []byte, replies int) ([][]byte, error) {
	deadline := time.Now().Add(c.opts.AckTimeout)
	limit := "the ACK timeout of " + c.opts.AckTimeout.String()
	if ctxDeadline, ok := ctx.Deadline(); ok && ctxDeadline.Before(deadline) {
		deadline = ctxDeadline
		limit = ctxDeadlineLimit
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		return nil, fmt.Errorf("mllp: send to %s: setting the deadline failed: %w", c.addr, err)
	}
	// A canceled context moves the deadline to the past, which ends a
	// blocked Write or Read at once.
	conn := c.conn
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		conn.SetDeadline(time.Unix(1, 0))
		close(interrupted)
	})
	defer func() {
		// When the context ended just as the exchange did, wait for the
		// deadline change, so that it cannot hit the next exchange.
		if !stop() {
			<-interrupted
		}
	}()

	if message != nil {
		if err := WriteFrame(conn, message); err != nil {
			return nil, c.exchangeError(ctx, limit, "writing the message failed", err)
		}
	}
	out := make([][]byte, 0, replies)
	for range replies {
		ack, err := c.dec.ReadFrame()
		if err != nil {
			return nil, c.exchangeError(ctx, limit, "reading the ACK failed", err)
		}
		out = append(out, ack)
	}
	return out, nil
}

const ctxDeadlineLimit = "the context deadline"

// exchangeError wraps an error of one exchange. limit names the deadline
// that applied, and step names the step that failed.
func (c *Client) exchangeError(ctx context.Context, limit, step string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("mllp: send to %s: %s: %w", c.addr, step, context.Cause(ctx))
	}
	if isTimeout(err) && limit == ctxDeadlineLimit {
		// The connection deadline can fire just before the context reports
		// its end.
		return fmt.Errorf("%w from %s: %s passed: %w: %w", ErrNoAck, c.addr, limit, context.DeadlineExceeded, err)
	}
	if isTimeout(err) {
		return fmt.Errorf("%w from %s: %s passed: %w", ErrNoAck, c.addr, limit, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrIncompleteFrame) {
		return fmt.Errorf("%w from %s: the connection closed first: %w", ErrNoAck, c.addr, err)
	}
	return fmt.Errorf("mllp: send to %s: %s: %w", c.addr, step, err)
}

// dropConn closes the connection after a failed exchange. The caller holds
// c.mu.
func (c *Client) dropConn() {
	if c.conn == nil {
		return
	}
	c.conn.Close()
	c.opts.Logger.Info("mllp: connection closed after a failed send", "remote_addr", c.conn.RemoteAddr().String())
	c.conn = nil
	c.dec = nil
}

// Close closes the connection, after waiting for a Send in progress. Later
// calls to Send return ErrClientClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	c.dec = nil
	return err
}

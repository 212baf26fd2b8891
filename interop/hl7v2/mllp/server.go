package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close.
var ErrServerClosed = errors.New("mllp: server closed")

// Handler processes one received message and returns the ACK to send.
//
// The server writes the ACK only after HandleMessage returns, so a handler
// that commits the message before returning acknowledges only what it has
// stored. When HandleMessage returns an error and no ACK, the server closes
// the connection without acknowledging, and the sender will retry. When it
// returns an error and an ACK (an AE or AR, say), the ACK is sent, the
// error is logged and the connection stays open. The error is logged, so it
// must not contain patient data.
//
// HandleMessage is called from one goroutine per connection, so calls for
// different connections run concurrently and calls for one connection run
// one after another. The handler owns message. The context is canceled when
// Close is called or when the context given to Shutdown expires.
type Handler interface {
	HandleMessage(ctx context.Context, conn ConnInfo, message []byte) (ack []byte, err error)
}

// ReplyHandler is a Handler that can reply to one message with any number
// of messages: none when the sender asked for no acknowledgment, or an HL7
// enhanced mode commit ACK followed by an application ACK. The server calls
// HandleReplies in place of HandleMessage when the handler implements it,
// and writes the replies in order, each as its own frame. An empty result
// without an error writes nothing and keeps the connection open. The rules
// of Handler apply otherwise.
type ReplyHandler interface {
	Handler
	HandleReplies(ctx context.Context, conn ConnInfo, message []byte) (replies [][]byte, err error)
}

// TooLargeHandler is a Handler that can reply to a frame larger than
// Server.MaxFrame, for example with a rejection addressed from the message
// header. The server reads such a frame to its end, keeps only its first
// MaxFrame bytes and calls HandleTooLarge in place of HandleMessage. The
// handler must not process the message, because its content is cut off.
// The rules of ReplyHandler apply to the replies: an error without replies
// closes the connection, and no replies without an error keep it open.
type TooLargeHandler interface {
	Handler
	HandleTooLarge(ctx context.Context, conn ConnInfo, frame TooLargeFrame) (replies [][]byte, err error)
}

// TooLargeFrame is a frame whose content exceeds Server.MaxFrame.
type TooLargeFrame struct {
	// Head is the first Limit bytes of the content. The handler owns it.
	Head []byte
	// Size is the content size in bytes.
	Size int
	// Limit is the maximum frame content size that Size exceeds.
	Limit int
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, conn ConnInfo, message []byte) ([]byte, error)

// HandleMessage calls f.
func (f HandlerFunc) HandleMessage(ctx context.Context, conn ConnInfo, message []byte) ([]byte, error) {
	return f(ctx, conn, message)
}

// ConnInfo describes the connection that a message arrived on.
type ConnInfo struct {
	// ID numbers the server's connections from 1 in the order they were
	// accepted. Logs name connections by this id.
	ID uint64
	// RemoteAddr is the sender's address.
	RemoteAddr net.Addr
	// LocalAddr is the address the connection was accepted on.
	LocalAddr net.Addr
	// TLS is the state of the TLS connection, or nil without TLS.
	TLS *tls.ConnectionState
}

// Server accepts MLLP connections and passes each received message to
// Handler. The zero value with a Handler set is ready to use. Fields must
// not change after Serve is called. Its methods are safe for concurrent use.
type Server struct {
	// Handler processes the messages. It is required.
	Handler Handler

	// Logger receives connection events and errors, never message content.
	// Nil discards them.
	Logger *slog.Logger

	// MaxFrame is the maximum frame content size in bytes. Zero means
	// DefaultMaxFrame. When Handler is a TooLargeHandler, a larger frame is
	// read to its end and discarded, up to MaxDiscardFactor times MaxFrame,
	// and then passed to HandleTooLarge. Otherwise, or when the frame goes
	// on past that bound or a start block interrupts it, a larger frame
	// closes the connection, because the rest of the stream cannot be
	// trusted to resynchronise.
	MaxFrame int

	// MaxFrameSetting names the setting that sets MaxFrame in the warning
	// logged for an oversize frame, which advises raising it. A program
	// that reads MaxFrame from a flag names the flag, such as
	// "--mllp-max-frame". Empty means "Server.MaxFrame".
	MaxFrameSetting string

	// IdleTimeout is the maximum time without received bytes, between frames
	// and inside one. An idle connection is closed. Zero means no limit.
	IdleTimeout time.Duration

	// ReadTimeout is the maximum time from a frame's start block to its end.
	// Zero means no limit. The TLS handshake must end within the shorter of
	// ReadTimeout and IdleTimeout.
	ReadTimeout time.Duration

	// WriteTimeout is the maximum time to write one ACK. Zero means no limit.
	WriteTimeout time.Duration

	// TLSConfig, when set, makes Serve accept TLS connections. It must
	// contain a certificate (Certificates, GetCertificate or
	// GetConfigForClient).
	TLSConfig *tls.Config

	// MaxConnections is the maximum number of open connections. A
	// connection accepted beyond it is closed at once. Rejections are logged
	// at most once a second with their count. Zero means no limit.
	MaxConnections int

	// MaxConnectionsPerIP is the maximum number of open connections from
	// one remote IP address, so that one peer cannot take every
	// connection that MaxConnections allows. A connection accepted beyond
	// it is closed at once, and rejections are logged at most once a
	// second with their count. Zero means DefaultMaxConnectionsPerIP, and
	// a negative value means no limit.
	MaxConnectionsPerIP int

	initOnce sync.Once
	ctx      context.Context // passed to the handler
	cancel   context.CancelFunc
	closing  atomic.Bool
	nextID   atomic.Uint64

	rejected rejectLog      // connections rejected at MaxConnections
	perIP    rejectLog      // connections rejected at MaxConnectionsPerIP
	wg       sync.WaitGroup // one per open connection

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	// peers counts the open connections of each remote IP address.
	peers map[netip.Addr]int
}

// MaxDiscardFactor bounds how far a Server reads an oversize frame: up to
// this many times MaxFrame bytes of content. A sender whose message is a
// little too large gets a reply, and a peer that streams without an end
// block is cut off after a bounded read.
const MaxDiscardFactor = 4

// DefaultMaxConnectionsPerIP is the limit of Server.MaxConnectionsPerIP
// when it is zero. An interface engine usually opens one connection per
// outbound channel, so 32 is an estimate that leaves room for many
// channels from one host.
const DefaultMaxConnectionsPerIP = 32

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[*serverConn]struct{})
		s.peers = make(map[netip.Addr]int)
	})
}

// Validate returns an error naming the first invalid field.
func (s *Server) Validate() error {
	switch {
	case s.Handler == nil:
		return errors.New("mllp: Server.Handler is nil; set a Handler")
	case s.MaxFrame < 0:
		return fmt.Errorf("mllp: Server.MaxFrame is %d; use zero for the default or a positive size", s.MaxFrame)
	case s.IdleTimeout < 0:
		return fmt.Errorf("mllp: Server.IdleTimeout is %s; use zero for no limit or a positive duration", s.IdleTimeout)
	case s.ReadTimeout < 0:
		return fmt.Errorf("mllp: Server.ReadTimeout is %s; use zero for no limit or a positive duration", s.ReadTimeout)
	case s.WriteTimeout < 0:
		return fmt.Errorf("mllp: Server.WriteTimeout is %s; use zero for no limit or a positive duration", s.WriteTimeout)
	case s.MaxConnections < 0:
		return fmt.Errorf("mllp: Server.MaxConnections is %d; use zero for no limit or a positive count", s.MaxConnections)
	case s.TLSConfig != nil && len(s.TLSConfig.Certificates) == 0 &&
		s.TLSConfig.GetCertificate == nil && s.TLSConfig.GetConfigForClient == nil:
		return errors.New("mllp: Server.TLSConfig has no certificate; set Certificates or GetCertificate")
	}
	return nil
}

// maxFrame returns MaxFrame with its default applied.
func (s *Server) maxFrame() int {
	if s.MaxFrame == 0 {
		return DefaultMaxFrame
	}
	return s.MaxFrame
}

// maxDiscard returns the content size up to which an oversize frame is
// read to its end, which is MaxDiscardFactor times MaxFrame unless that
// overflows int.
func (s *Server) maxDiscard() int {
	frame := s.maxFrame()
	if frame > math.MaxInt/MaxDiscardFactor {
		return math.MaxInt
	}
	return frame * MaxDiscardFactor
}

// maxFrameAdvice returns the advice of the warning logged for an oversize
// frame.
func (s *Server) maxFrameAdvice() string {
	setting := s.MaxFrameSetting
	if setting == "" {
		setting = "Server.MaxFrame"
	}
	return "raise " + setting + " to accept larger messages"
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(addr string) error {
	if s.closing.Load() {
		return ErrServerClosed
	}
	if err := s.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("mllp: listen on %s: %w", addr, err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln, wrapped in TLS when TLSConfig is set,
// and serves each in its own goroutine. It closes ln when it returns, and
// returns ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.Validate(); err != nil {
		ln.Close()
		return err
	}
	s.init()
	if s.TLSConfig != nil {
		ln = tls.NewListener(ln, s.TLSConfig)
	}
	if !s.trackListener(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrackListener(ln)

	log := s.logger()
	log.Info("mllp: listening", "addr", ln.Addr().String(), "tls", s.TLSConfig != nil)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("mllp: accept on %s: %w", ln.Addr(), err)
			}
			// Errors such as too many open files pass, so wait and retry.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			log.Warn("mllp: accept failed; retrying", "addr", ln.Addr().String(), "retry_in", delay, "err", err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.startConn(nc)
	}
}

func (s *Server) trackListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrackListener(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
	ln.Close()
}

func (s *Server) startConn(nc net.Conn) {
	id := s.nextID.Add(1)
	log := s.logger().With("conn_id", id, "remote_addr", nc.RemoteAddr().String())

	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.MaxConnections > 0 && len(s.conns) >= s.MaxConnections {
		s.mu.Unlock()
		nc.Close()
		s.rejected.log(log, "mllp: connection rejected: maximum connections reached",
			"max_connections", s.MaxConnections)
		return
	}
	ip, hasIP := remoteIP(nc)
	if limit := s.maxConnectionsPerIP(); hasIP && limit > 0 && s.peers[ip] >= limit {
		s.mu.Unlock()
		nc.Close()
		s.perIP.log(log, "mllp: connection rejected: maximum connections from one IP address reached",
			"max_connections_per_ip", limit)
		return
	}
	c := &serverConn{server: s, nc: nc, log: log, ip: ip, hasIP: hasIP, info: ConnInfo{
		ID:         id,
		RemoteAddr: nc.RemoteAddr(),
		LocalAddr:  nc.LocalAddr(),
	}}
	s.conns[c] = struct{}{}
	if hasIP {
		s.peers[ip]++
	}
	s.wg.Add(1)
	s.mu.Unlock()

	go c.serve()
}

func (s *Server) maxConnectionsPerIP() int {
	if s.MaxConnectionsPerIP == 0 {
		return DefaultMaxConnectionsPerIP
	}
	return s.MaxConnectionsPerIP
}

// remoteIP returns the IP address of the connection's peer, with an IPv4
// address mapped into IPv6 unmapped, so both forms count as one peer.
func remoteIP(nc net.Conn) (netip.Addr, bool) {
	addr, err := netip.ParseAddrPort(nc.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Addr().Unmap(), true
}

// rejectLog rate-limits the log lines of rejected connections.
type rejectLog struct {
	count atomic.Int64 // connections rejected since the last line
	last  atomic.Int64 // Unix nanoseconds of that line
}

// log counts one rejected connection and logs it at most once a second,
// with the number rejected since the previous line, so that a flood of
// connections does not flood the log.
func (r *rejectLog) log(log *slog.Logger, message string, args ...any) {
	r.count.Add(1)
	now := time.Now().UnixNano()
	last := r.last.Load()
	if now-last < int64(time.Second) || !r.last.CompareAndSwap(last, now) {
		return
	}
	log.Warn(message, append(args, "rejected", r.count.Swap(0))...)
}

func (s *Server) removeConn(c *serverConn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.hasIP {
		if s.peers[c.ip]--; s.peers[c.ip] <= 0 {
			delete(s.peers, c.ip)
		}
	}
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops the server gracefully. It closes the listeners and the
// connections that are waiting for a frame, lets each message being handled
// finish and its ACK be written, then closes those connections too. A frame
// still being received is dropped without an ACK, so its sender resends
// it. Shutdown returns nil once every connection is closed. When ctx ends
// first, it calls Close and returns the context's error, and handlers that
// ignore their canceled context may still be running.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.closing.Store(true)
	s.mu.Lock()
	s.closeListenersLocked()
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		return fmt.Errorf("mllp: shutdown: %w", ctx.Err())
	}
}

// Close closes the listeners and every connection at once and cancels the
// handlers' context. Messages being handled get no ACK.
func (s *Server) Close() error {
	s.init()
	s.closing.Store(true)
	s.mu.Lock()
	s.closeListenersLocked()
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.cancel()
	return nil
}

func (s *Server) closeListenersLocked() {
	for ln := range s.listeners {
		ln.Close()
		delete(s.listeners, ln)
	}
}

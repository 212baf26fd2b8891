package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage"
)

// mllpReadTimeout bounds the time to receive one frame once it started,
// so that a peer dripping bytes cannot hold a connection. Idle time
// between frames is not bounded, because MLLP senders keep connections
// open for hours.
// mllpIdleTimeout closes a connection silent for this long, and
// mllpMaxConnections bounds the connections served at once.
const (
	mllpIdleTimeout    = 30 * time.Minute
	mllpMaxConnections = 256
)

const mllpReadTimeout = 2 * time.Minute

// maxFrameFlag sets the maximum size of one MLLP frame and HL7 v2 message.
// It is bounded below so that an MSH segment and a short message fit, and
// above by the 64 MiB that `hl7 import` reads of one file, because each
// open connection may hold a frame of this size.
const (
	maxFrameFlag    = "mllp-max-frame"
	minMLLPMaxFrame = 1 << 10
	maxMLLPMaxFrame = hl7v2.DefaultMaxFileBytes
)

func mllpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "mllp-addr", EnvVars: []string{"NEXUS_MLLP_ADDR"},
			Usage: "host:port for the HL7 v2 MLLP listener (off when empty); a non-loopback address needs --" + exposeFlag},
		&cli.StringFlag{Name: "mllp-tls-cert", EnvVars: []string{"NEXUS_MLLP_TLS_CERT"},
			Usage: "PEM certificate file; with --mllp-tls-key, the MLLP listener accepts TLS only"},
		&cli.StringFlag{Name: "mllp-tls-key", EnvVars: []string{"NEXUS_MLLP_TLS_KEY"},
			Usage: "PEM private key file of --mllp-tls-cert"},
		&cli.IntFlag{Name: maxFrameFlag, Value: mllp.DefaultMaxFrame, EnvVars: []string{"NEXUS_MLLP_MAX_FRAME"},
			Usage: fmt.Sprintf("maximum size in bytes of one HL7 v2 message received over MLLP, from %d to %d; "+
				"a larger message gets AR when its MSH segment fits, and each field stays limited to %d bytes",
				minMLLPMaxFrame, maxMLLPMaxFrame, hl7v2.DefaultMaxFieldBytes)},
		&cli.IntFlag{Name: "mllp-max-connections-per-ip", Value: mllp.DefaultMaxConnectionsPerIP,
			EnvVars: []string{"NEXUS_MLLP_MAX_CONNECTIONS_PER_IP"},
			Usage: fmt.Sprintf("maximum open MLLP connections from one remote IP address, from 1 to %d; "+
				"a connection beyond it is closed at once", mllpMaxConnections)},
		lenientFlag(),
		processingIDFlag(),
	}
}

// mllpOptions configures the MLLP listener of serve.
type mllpOptions struct {
	// addr is the listen address; the listener is off when empty.
	addr    string
	tlsCert string
	tlsKey  string
	lenient bool
	// maxPerIP is Server.MaxConnectionsPerIP; zero means its default.
	maxPerIP int
	// maxFrame is both Server.MaxFrame and the parser's
	// Limits.MaxMessageBytes, so that a message that fits in a frame is
	// not rejected by the parser. Zero means their defaults.
	maxFrame int
	// zone completes HL7 v2 times without a UTC offset when not nil.
	zone *time.Location
	// processingIDs is inbound.Handler.ProcessingIDs; nil accepts every
	// message.
	processingIDs []string
	// ready, when set, receives the bound address once listening.
	ready chan<- string
	// applier, when set, replaces the applier of newApplier, for tests.
	applier inbound.Applier
	// tls is the listener's TLS configuration, loaded from tlsCert and
	// tlsKey by mllpOptionsFromFlags. When nil, serverTLS loads it.
	tls *tls.Config
}

// serverTLS returns the TLS configuration of the listener, and loads the
// key pair when mllpOptionsFromFlags has not. It returns nil without
// --mllp-tls-cert.
func (o mllpOptions) serverTLS() (*tls.Config, error) {
	if o.tls != nil || o.tlsCert == "" {
		return o.tls, nil
	}
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("load --mllp-tls-cert and --mllp-tls-key: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func mllpOptionsFromFlags(c *cli.Context) (mllpOptions, error) {
	o := mllpOptions{
		addr: c.String("mllp-addr"), tlsCert: c.String("mllp-tls-cert"), tlsKey: c.String("mllp-tls-key"),
		lenient: c.Bool("hl7-lenient"), maxPerIP: c.Int("mllp-max-connections-per-ip"),
		maxFrame: c.Int(maxFrameFlag),
	}
	if o.maxPerIP < 1 || o.maxPerIP > mllpMaxConnections {
		return o, fmt.Errorf("invalid --mllp-max-connections-per-ip %d: use a count from 1 to %d", o.maxPerIP, mllpMaxConnections)
	}
	if o.maxFrame < minMLLPMaxFrame || o.maxFrame > maxMLLPMaxFrame {
		return o, fmt.Errorf("invalid --%s %d: use a size in bytes from %d to %d",
			maxFrameFlag, o.maxFrame, minMLLPMaxFrame, maxMLLPMaxFrame)
	}
	zone, err := facilityZone(c.String("timezone"))
	if err != nil {
		return o, err
	}
	o.zone = zone
	if o.processingIDs, err = parseProcessingIDs(c.String("hl7-processing-id")); err != nil {
		return o, err
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--mllp-tls-cert and --mllp-tls-key go together; set both or neither")
	}
	if o.addr == "" {
		return o, nil
	}
	if err := checkLoopback("mllp-addr", o.addr, "the MLLP listener does not authenticate senders", c.Bool(exposeFlag)); err != nil {
		return o, err
	}
	// Loading the key pair here makes a wrong file fail before demo loads
	// its data.
	if o.tls, err = o.serverTLS(); err != nil {
		return o, err
	}
	return o, nil
}

// startMLLP serves HL7 v2 messages from ln into the clinical record in
// the background. It returns nil values when ln is nil, which means that
// the listener is off. Serve's error, other than mllp.ErrServerClosed, is
// sent to errc.
func startMLLP(o serveOptions, ln net.Listener, errc chan<- error) (*mllp.Server, error) {
	if ln == nil {
		return nil, nil
	}
	maxFrame := cmp.Or(o.mllp.maxFrame, mllp.DefaultMaxFrame)
	handler := newInboundHandler(o.svc, o.log, o.mllp.lenient, o.mllp.zone)
	handler.Parse.Limits.MaxMessageBytes = maxFrame
	handler.ProcessingIDs = o.mllp.processingIDs
	if o.mllp.applier != nil {
		handler.Applier = o.mllp.applier
	} else {
		// Messages from all connections share transactions, so a synced
		// commit is paid once per batch instead of once per message.
		handler.Group = &inbound.GroupCommit{Applier: newBatchApplier(o.svc, o.mllp.zone), Lanes: groupLanes(o.db)}
	}

	srv := &mllp.Server{
		Handler:         actorHandler{handler},
		Logger:          o.log,
		MaxFrame:        maxFrame,
		MaxFrameSetting: "--" + maxFrameFlag,
		ReadTimeout:     mllpReadTimeout,
		WriteTimeout:    30 * time.Second,
		// Bounds on what idle or hostile peers can hold: an interface
		// engine keeps a few connections open, not hundreds.
		IdleTimeout:         mllpIdleTimeout,
		MaxConnections:      mllpMaxConnections,
		MaxConnectionsPerIP: o.mllp.maxPerIP,
	}
	tlsConfig, err := o.mllp.serverTLS()
	if err != nil {
		return nil, err
	}
	srv.TLSConfig = tlsConfig

	bound := ln.Addr().String()
	warnIfExposed(o.log, bound, "serving HL7 v2 over MLLP without authentication on a non-loopback address")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, mllp.ErrServerClosed) {
			errc <- fmt.Errorf("mllp: %w", err)
		}
	}()
	o.log.Info("nexusd accepting HL7 v2 over MLLP", "addr", bound, "tls", srv.TLSConfig != nil, "lenient", o.mllp.lenient,
		"max_frame", maxFrame)
	if o.mllp.ready != nil {
		o.mllp.ready <- bound
	}
	return srv, nil
}

// postgresLanes is the number of group commit lanes on PostgreSQL, so that
// the batches of up to four senders overlap their round trips.
// NOTE: 4 is an estimate. On the 2-core benchmark machine, 16 senders gave
// about 1.2 times the rate of one lane; larger machines may want more.
const postgresLanes = 4

// groupLanes returns the group commit lanes for db. SQLite has one writer,
// so more than one lane would only queue on it.
func groupLanes(db *storage.DB) int {
	if db != nil && db.Dialect == storage.Postgres {
		return postgresLanes
	}
	return 1
}

// actorHandler runs the inbound handler with the HL7 interface as the
// actor of every write, and passes on the application ACKs of enhanced
// mode and the rejections of oversize frames.
type actorHandler struct {
	handler *inbound.Handler
}

var (
	_ mllp.ReplyHandler    = actorHandler{}
	_ mllp.TooLargeHandler = actorHandler{}
)

func (a actorHandler) HandleMessage(ctx context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
	return a.handler.HandleMessage(emr.ContextWithActor(ctx, hl7Actor), conn, message)
}

func (a actorHandler) HandleReplies(ctx context.Context, conn mllp.ConnInfo, message []byte) ([][]byte, error) {
	return a.handler.HandleReplies(emr.ContextWithActor(ctx, hl7Actor), conn, message)
}

func (a actorHandler) HandleTooLarge(ctx context.Context, conn mllp.ConnInfo, frame mllp.TooLargeFrame) ([][]byte, error) {
	return a.handler.HandleTooLarge(emr.ContextWithActor(ctx, hl7Actor), conn, frame)
}

func warnIfExposed(log *slog.Logger, bound, message string) {
	host, _, _ := net.SplitHostPort(bound)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Warn(message, "addr", bound)
	}
}

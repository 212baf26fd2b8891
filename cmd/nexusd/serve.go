package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
)

const exposeFlag = "insecure-expose-unauthenticated"

func serveFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", EnvVars: []string{"NEXUS_ADDR"},
			Usage: "host:port to listen on"},
		timezoneFlag(),
		&cli.BoolFlag{Name: exposeFlag, EnvVars: []string{"NEXUS_INSECURE_EXPOSE_UNAUTHENTICATED"},
			Usage: "allow a non-loopback --mllp-addr, and for demo a non-loopback --addr, although these listeners " +
				"do not authenticate: anyone who can reach them can change every record"},
		&cli.StringFlag{Name: "base-url", EnvVars: []string{"NEXUS_BASE_URL"},
			Usage: "public URL of the FHIR API, used in links (default http://ADDR/fhir)"},
		&cli.DurationFlag{Name: "shutdown-timeout", Value: 30 * time.Second,
			Usage: "how long to wait for in-flight requests at shutdown"},
		&cli.StringFlag{Name: "debug-addr", EnvVars: []string{"NEXUS_DEBUG_ADDR"},
			Usage: "loopback host:port for Go profiling endpoints under /debug/pprof/ (off when empty)"},
	}, mllpFlags()...)
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve the FHIR R4 API and, with --mllp-addr, receive HL7 v2 over MLLP",
		Description: "Serves FHIR R4 under /fhir, with /healthz and /readyz. An empty database is migrated;\n" +
			"a database with an older schema is rejected until `nexusd migrate` has run. With\n" +
			"--mllp-addr, HL7 v2 messages received over MLLP are applied to the same record.",
		Flags: append(append([]cli.Flag{dbFlag(), masterKeyFlag()}, serveFlags()...), securityFlags()...),
		Action: func(c *cli.Context) error {
			log, err := newLogger(c)
			if err != nil {
				return err
			}
			if err := checkServeAddr(c); err != nil {
				return err
			}
			mllpOpts, err := mllpOptionsFromFlags(c)
			if err != nil {
				return err
			}
			secOpts, err := securityOptionsFromFlags(c)
			if err != nil {
				return err
			}
			// Binding first makes a busy or invalid address fail before
			// the database is opened or migrated.
			listeners, err := bindListeners(listenAddrs{
				http: c.String("addr"), debug: c.String("debug-addr"), mllp: mllpOpts.addr,
			})
			if err != nil {
				return err
			}
			defer listeners.close()
			db, svc, err := openServiceKeys(c.Context, c.String("db"), emr.Config{Logger: log}, masterKeyFrom(c))
			if err != nil {
				return err
			}
			defer db.Close()
			sched, err := openScheduling(db, c.String("timezone"), log)
			if err != nil {
				return err
			}
			bill, err := openBilling(db, svc, log)
			if err != nil {
				return err
			}
			auditLog, stopAudit, err := startAudit(c.Context, db, svc, sched, log)
			if err != nil {
				return err
			}
			defer stopAudit()
			sec, err := openSecurity(c.Context, db, svc, secOpts, auditLog, log)
			if err != nil {
				return err
			}
			defer sec.close()
			return serve(c.Context, serveOptions{
				addr: c.String("addr"), baseURL: c.String("base-url"), shutdown: c.Duration("shutdown-timeout"),
				debugAddr: c.String("debug-addr"), db: db, svc: svc, log: log, mllp: mllpOpts, sched: sched,
				audit: auditLog, security: sec, billing: bill, listeners: listeners,
			})
		},
	}
}

// checkListenAddr rejects a non-loopback --addr of demo, which serves the
// FHIR API without authentication, unless the operator accepts that.
func checkListenAddr(addr string, expose bool) error {
	return checkLoopback("addr", addr, "demo serves the FHIR API without authentication", expose)
}

// checkLoopback rejects a non-loopback addr of flag unless expose is set.
// unauthenticated is the reason, for the error, that the listener must
// stay on loopback.
func checkLoopback(flag, addr, unauthenticated string, expose bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --%s %q: use host:port, such as 127.0.0.1:8080", flag, addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	if expose {
		return nil
	}
	return fmt.Errorf("--%s %s is not a loopback address and %s; bind 127.0.0.1, or pass --%s "+
		"to accept that anyone who reaches it can change every record", flag, addr, unauthenticated, exposeFlag)
}

type serveOptions struct {
	addr     string
	baseURL  string
	shutdown time.Duration
	// sched serves Schedule, Slot and Appointment when set.
	sched *scheduling.Service
	// billing serves the billing types and captures fulfilled
	// appointments when set.
	billing *billing.Service
	// debugAddr serves net/http/pprof when set; it must be loopback.
	debugAddr string
	db        *storage.DB
	svc       *emr.Service
	log       *slog.Logger
	// ready, when set, receives the bound address once listening.
	ready chan<- string
	// mllp configures the HL7 v2 listener, which is off by default.
	mllp mllpOptions
	// audit is the audit log that request handlers record reads,
	// searches, exports and logins in; nil in tests that serve without it.
	audit *audit.Log
	// security authenticates, authorizes, audits and limits HTTP
	// requests; nil serves without any of that (see security.go).
	security *securityStack
	// listeners, when set, are the sockets bound by the command, and
	// serve closes them. When nil, serve binds addr, debugAddr and
	// mllp.addr itself.
	listeners *serveListeners
}

// listenAddrs returns the addresses that serve binds.
func (o serveOptions) listenAddrs() listenAddrs {
	return listenAddrs{http: o.addr, debug: o.debugAddr, mllp: o.mllp.addr}
}

func serve(ctx context.Context, o serveOptions) error {
	listeners := o.listeners
	if listeners == nil {
		var err error
		if listeners, err = bindListeners(o.listenAddrs()); err != nil {
			return err
		}
	}
	defer listeners.close()
	ln := o.security.listen(listeners.http)
	bound := ln.Addr().String()
	// Without --base-url, links are built from each request's Host.
	var baseURL func(*http.Request) string
	if o.baseURL != "" {
		base := strings.TrimSuffix(o.baseURL, "/")
		baseURL = func(*http.Request) string { return base }
	}
	o.security.warnIfUnauthenticated(o.log, bound)

	mux := http.NewServeMux()
	// Registering both patterns lets POST /fhir reach the handler as the
	// base, because /fhir/ alone would redirect it to /fhir/.
	fhirAPI := fhir.NewHandler(o.security.fhirConfig(fhir.Config{
		Service: o.svc, BaseURL: baseURL, Logger: o.log, Scheduling: schedulingBackend(o.sched),
		Billing: billingBackend(o.billing),
	}))
	// Export jobs run until the handler is closed, after the HTTP server.
	if closer, ok := fhirAPI.(io.Closer); ok {
		defer closer.Close()
	}
	fhirHandler := http.StripPrefix("/fhir", fhirAPI)
	mux.Handle("/fhir", fhirHandler)
	mux.Handle("/fhir/", fhirHandler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		pingCtx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := o.db.Reader.PingContext(pingCtx); err != nil {
			o.log.Error("readiness check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unavailable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	o.security.mount(mux)
	srv := &http.Server{
		Handler:           o.security.wrap(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(o.log.Handler(), slog.LevelWarn),
	}
	if listeners.debug != nil {
		startDebug(listeners.debug, o.log)
	}
	mllpErrc := make(chan error, 1)
	mllpSrv, err := startMLLP(o, listeners.mllp, mllpErrc)
	if err != nil {
		return err
	}
	analyzeCtx, stopAnalyze := context.WithCancel(ctx)
	defer stopAnalyze()
	go analyzePeriodically(analyzeCtx, o.db, o.log)
	defer startAppointmentCapture(ctx, o)()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	o.log.Info("nexusd serving", "addr", bound, "fhir", o.security.scheme()+"://"+bound+"/fhir", "db", string(o.db.Dialect))
	if o.ready != nil {
		o.ready <- bound
	}
	select {
	case err := <-errc:
		if mllpSrv != nil {
			mllpSrv.Close()
		}
		return fmt.Errorf("serve: %w", err)
	case err := <-mllpErrc:
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	o.log.Info("nexusd shutting down: finishing in-flight requests and messages", "timeout", o.shutdown)
	shutCtx, cancel := context.WithTimeout(context.Background(), o.shutdown)
	defer cancel()
	// The MLLP server lets messages being applied finish and sends their
	// ACKs, while the HTTP server finishes its requests.
	mllpDone := make(chan error, 1)
	go func() {
		if mllpSrv == nil {
			mllpDone <- nil
			return
		}
		mllpDone <- mllpSrv.Shutdown(shutCtx)
	}()
	httpErr := srv.Shutdown(shutCtx)
	if err := <-mllpDone; err != nil {
		o.log.Error("MLLP shutdown did not finish in time", "err", err)
		return err
	}
	if httpErr != nil {
		o.log.Error("shutdown did not finish in time", "err", httpErr)
		return httpErr
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	o.log.Info("nexusd stopped")
	return nil
}

// checkDebugAddr accepts only a loopback --debug-addr.
func checkDebugAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --debug-addr %q: use host:port, such as 127.0.0.1:6060", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--debug-addr %s is not a loopback address; the profiler is served on loopback only", addr)
	}
	return nil
}

// startDebug serves the Go profiler on ln, which bindListeners bound to a
// loopback address. Profiles show no request data, but they cost CPU, so
// they are never public. Closing ln stops the profiler.
func startDebug(ln net.Listener, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	go func() {
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		err := srv.Serve(ln)
		if errors.Is(err, net.ErrClosed) {
			log.Info("profiling endpoints stopped", "addr", ln.Addr().String())
			return
		}
		log.Error("debug listener stopped", "err", err)
	}()
	log.Info("profiling endpoints serving", "addr", ln.Addr().String())
}

// Serve refreshes query planner statistics at start, every
// analyzeInterval, and whenever the rows written since the last refresh
// reach the rows written before it (at least analyzeMinWrites), checked
// every analyzeCheck. The doubling keeps plans fit for a database that
// fills from empty, as under a first HL7 v2 feed, with a bounded number
// of refreshes. Past analyzeGrowthLimit writes only the interval applies.
const (
	analyzeInterval    = time.Hour
	analyzeCheck       = time.Second
	analyzeMinWrites   = 200
	analyzeGrowthLimit = 1_000_000
)

// analyzePeriodically refreshes planner statistics as the data grows, so
// search plans follow it.
func analyzePeriodically(ctx context.Context, db *storage.DB, log *slog.Logger) {
	tick := time.NewTicker(analyzeCheck)
	defer tick.Stop()
	var last time.Time
	var writesAtLast int64
	for {
		writes := db.Writes()
		if analyzeDue(time.Since(last), writesAtLast, writes) {
			if err := db.Analyze(ctx); err != nil && ctx.Err() == nil {
				log.Warn("refreshing query planner statistics failed", "err", err)
			}
			last, writesAtLast = time.Now(), writes
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// analyzeDue reports whether statistics need a refresh, given the time
// since the last refresh, the writes counted then, and the writes now.
func analyzeDue(elapsed time.Duration, writesAtLast, writes int64) bool {
	if elapsed >= analyzeInterval {
		return true
	}
	if writesAtLast >= analyzeGrowthLimit {
		return false
	}
	return writes-writesAtLast >= max(analyzeMinWrites, writesAtLast)
}

package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/audit"
	auditsql "github.com/nexus-health-360/nexus/security/audit/sqlstore"
	secsql "github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// Flags of the security layer on `nexusd serve`.
const (
	noAuthFlag   = "insecure-no-auth"
	issuerFlag   = "issuer"
	tlsCertFlag  = "tls-cert"
	tlsKeyFlag   = "tls-key"
	maxBodyFlag  = "max-body-bytes"
	rateFlag     = "rate-limit"
	burstFlag    = "rate-burst"
	ipRateFlag   = "ip-rate-limit"
	ipBurstFlag  = "ip-rate-burst"
	tokenTTLFlag = "token-lifetime"
	proxiesFlag  = "trusted-proxies"
)

func securityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: noAuthFlag, EnvVars: []string{"NEXUS_INSECURE_NO_AUTH"},
			Usage: "serve without authentication, for a local demonstration; accepted only with a loopback --addr"},
		&cli.StringFlag{Name: issuerFlag, EnvVars: []string{"NEXUS_ISSUER"},
			Usage: "public base URL of this server, the iss of its tokens (default: --base-url without /fhir, or SCHEME://ADDR)"},
		&cli.StringFlag{Name: tlsCertFlag, EnvVars: []string{"NEXUS_TLS_CERT"},
			Usage: "PEM certificate chain file for HTTPS on --addr (TLS 1.2 or later); needs --" + tlsKeyFlag},
		&cli.StringFlag{Name: tlsKeyFlag, EnvVars: []string{"NEXUS_TLS_KEY"},
			Usage: "PEM private key file of --" + tlsCertFlag},
		&cli.Int64Flag{Name: maxBodyFlag, Value: security.DefaultMaxBodyBytes, EnvVars: []string{"NEXUS_MAX_BODY_BYTES"},
			Usage: "largest request body in bytes; larger ones get 413"},
		&cli.Float64Flag{Name: rateFlag, Value: security.DefaultPrincipalRate, EnvVars: []string{"NEXUS_RATE_LIMIT"},
			Usage: "requests per second allowed to each authenticated client or user; more get 429"},
		&cli.IntFlag{Name: burstFlag, Value: security.DefaultPrincipalBurst, EnvVars: []string{"NEXUS_RATE_BURST"},
			Usage: "requests a client or user may send at once above --" + rateFlag},
		&cli.Float64Flag{Name: ipRateFlag, Value: security.DefaultIPRate, EnvVars: []string{"NEXUS_IP_RATE_LIMIT"},
			Usage: "requests per second allowed from each IP address, before authentication"},
		&cli.IntFlag{Name: ipBurstFlag, Value: security.DefaultIPBurst, EnvVars: []string{"NEXUS_IP_RATE_BURST"},
			Usage: "requests an IP address may send at once above --" + ipRateFlag},
		&cli.DurationFlag{Name: tokenTTLFlag, Value: security.DefaultTokenLifetime, EnvVars: []string{"NEXUS_TOKEN_LIFETIME"},
			Usage: "lifetime of access tokens, at most 15m"},
		&cli.StringFlag{Name: proxiesFlag, EnvVars: []string{"NEXUS_TRUSTED_PROXIES"},
			Usage: "comma-separated CIDR prefixes or addresses of reverse proxies whose X-Forwarded-For is believed, " +
				"such as 10.0.0.0/8; rate limits and login throttling then key on the right-most untrusted address " +
				"(default: none, the remote address is the client)"},
	}
}

// isLoopback reports whether the host of addr is a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkServeAddr accepts any --addr when authentication is on, and only a
// loopback one with --insecure-no-auth.
func checkServeAddr(c *cli.Context) error {
	addr := c.String("addr")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("invalid --addr %q: use host:port, such as 127.0.0.1:8080", addr)
	}
	if c.Bool(noAuthFlag) && !isLoopback(addr) {
		return fmt.Errorf("--%s is accepted only with a loopback --addr such as 127.0.0.1:8080, not %s", noAuthFlag, addr)
	}
	return nil
}

// securityStack is the layer `nexusd serve` puts on the HTTP listener:
// authentication, authorization, audit, limits and TLS. A nil stack, as
// tests that call serve directly use, serves without any of them.
type securityStack struct {
	noAuth bool
	svc    *security.Service
	audit  *audit.Log
	mw     security.MiddlewareConfig
	tls    *tls.Config
	log    *slog.Logger
	// ownsAudit is set when the stack opened audit itself and closes it.
	ownsAudit bool
}

// securityOptions are the settings of a securityStack.
type securityOptions struct {
	noAuth        bool
	issuer        string
	audience      string
	tlsCert       string
	tlsKey        string
	tokenLifetime time.Duration
	mw            security.MiddlewareConfig
}

// securityOptionsFromFlags reads the security flags of serve.
func securityOptionsFromFlags(c *cli.Context) (securityOptions, error) {
	o := securityOptions{
		noAuth: c.Bool(noAuthFlag), issuer: c.String(issuerFlag),
		tlsCert: c.String(tlsCertFlag), tlsKey: c.String(tlsKeyFlag), tokenLifetime: c.Duration(tokenTTLFlag),
		mw: security.MiddlewareConfig{MaxBodyBytes: c.Int64(maxBodyFlag), PrincipalRate: c.Float64(rateFlag),
			PrincipalBurst: c.Int(burstFlag), IPRate: c.Float64(ipRateFlag), IPBurst: c.Int(ipBurstFlag)},
	}
	proxies, err := security.ParseTrustedProxies(c.String(proxiesFlag))
	if err != nil {
		return o, fmt.Errorf("invalid --%s: %w", proxiesFlag, err)
	}
	o.mw.TrustedProxies = proxies

	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, fmt.Errorf("--%s and --%s go together", tlsCertFlag, tlsKeyFlag)
	}
	if o.mw.MaxBodyBytes <= 0 || o.mw.PrincipalRate <= 0 || o.mw.IPRate <= 0 || o.mw.PrincipalBurst <= 0 || o.mw.IPBurst <= 0 {
		return o, fmt.Errorf("--%s, --%s, --%s, --%s and --%s must be positive", maxBodyFlag, rateFlag, burstFlag, ipRateFlag, ipBurstFlag)
	}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	base := strings.TrimSuffix(c.String("base-url"), "/")
	if base != "" {
		o.audience = base
	}
	switch {
	case o.issuer != "":
	case base != "":
		o.issuer = strings.TrimSuffix(base, "/fhir")
	default:
		addr := c.String("addr")
		host, port, _ := net.SplitHostPort(addr)
		if ip := net.ParseIP(host); host == "" || port == "0" || (ip != nil && ip.IsUnspecified()) {
			if !o.noAuth {
				return o, fmt.Errorf("--addr %s is not a URL clients can use: set --%s to the public base URL, such as https://ehr.example", addr, issuerFlag)
			}
		}
		o.issuer = scheme + "://" + addr
	}
	if u, err := url.Parse(o.issuer); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return o, fmt.Errorf("invalid --%s %q: use an absolute URL such as https://ehr.example", issuerFlag, o.issuer)
	}
	return o, nil
}

// openSecurity builds the security stack on db for the clinical record
// svc, recording in auditLog. A nil auditLog opens one on db, which needs
// the audit schema and, on an encrypted database, protectDB to have run.
func openSecurity(ctx context.Context, db *storage.DB, svc *emr.Service, o securityOptions,
	auditLog *audit.Log, log *slog.Logger) (*securityStack, error) {
	s := &securityStack{noAuth: o.noAuth, mw: o.mw, log: log}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load --%s and --%s: %w", tlsCertFlag, tlsKeyFlag, err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if auditLog == nil {
		opened, err := audit.Open(ctx, auditsql.New(db), audit.Config{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open the audit log: %w", err)
		}
		auditLog, s.ownsAudit = opened, true
	}
	s.audit = auditLog
	sec, err := security.New(security.Config{
		Store: secsql.New(db), Issuer: o.issuer, Audience: o.audience, TokenLifetime: o.tokenLifetime,
		CareRelations: emrCareRelations{svc: svc}, Patients: emrPatients{svc: svc},
		Recorder: securityAudit{log: auditLog}, Logger: log,
	})
	if err != nil {
		s.close()
		return nil, fmt.Errorf("security: %w", err)
	}
	s.svc = sec
	s.mw.NoAuth = o.noAuth
	s.mw.FHIRPrefix = "/fhir"
	s.mw.Public = func(r *http.Request) bool {
		return security.IsPublicPath(r.URL.Path) || publicPaths[r.URL.Path]
	}
	// A load balancer probes often from one address, so probes skip the
	// per-IP rate limit.
	s.mw.Exempt = func(r *http.Request) bool { return r.URL.Path == "/healthz" || r.URL.Path == "/readyz" }
	if o.noAuth {
		log.Warn("serving without authentication: anyone who reaches the address can read and change every record",
			"flag", "--"+noAuthFlag)
	}
	return s, nil
}

// publicPaths are served without a token besides the authorization
// server's own endpoints: probes, the CapabilityStatement and discovery.
var publicPaths = map[string]bool{
	"/healthz": true, "/readyz": true, "/fhir/metadata": true,
	"/fhir/.well-known/smart-configuration": true,
}

// close stops the audit log when the stack opened it.
func (s *securityStack) close() {
	if s == nil || !s.ownsAudit {
		return
	}
	if err := s.audit.Close(); err != nil && !errors.Is(err, audit.ErrClosed) {
		s.log.Error("closing the audit log failed", "err", err)
	}
}

// fhirConfig adds the authorizer, the actor and the access recorder to the
// FHIR handler's configuration.
func (s *securityStack) fhirConfig(cfg fhir.Config) fhir.Config {
	if s == nil {
		return cfg
	}
	cfg.MaxBodyBytes = s.mw.MaxBodyBytes
	cfg.AccessRecorder = accessAudit{log: s.audit}
	cfg.Actor = func(r *http.Request) string {
		if p := security.PrincipalFrom(r.Context()); p != nil {
			return p.Subject
		}
		return "anonymous"
	}
	if !s.noAuth {
		cfg.Authorizer = s.svc
		cfg.OAuth = &fhir.OAuthEndpoints{Token: s.svc.TokenURL(), Authorize: s.svc.Config().Issuer + security.PathAuthorize}
	}
	return cfg
}

// mount serves the authorization server on mux, with the SMART
// configuration also under the FHIR base.
func (s *securityStack) mount(mux *http.ServeMux) {
	if s == nil {
		return
	}
	auth := s.svc.Handler()
	for _, path := range []string{security.PathToken, security.PathAuthorize, security.PathJWKS,
		security.PathBreakGlass, security.PathSMARTConfig} {
		mux.Handle(path, auth)
	}
	mux.HandleFunc("GET /fhir/.well-known/smart-configuration", s.svc.ServeSMARTConfiguration)
}

// wrap puts the middleware in front of h.
func (s *securityStack) wrap(h http.Handler) http.Handler {
	if s == nil {
		return h
	}
	return s.svc.Middleware(s.mw, h)
}

// listen wraps ln in TLS when a certificate is configured.
func (s *securityStack) listen(ln net.Listener) net.Listener {
	if s == nil || s.tls == nil {
		return ln
	}
	return tls.NewListener(ln, s.tls)
}

// scheme returns the URL scheme of the HTTP listener.
func (s *securityStack) scheme() string {
	if s != nil && s.tls != nil {
		return "https"
	}
	return "http"
}

// warnIfUnauthenticated warns when the API serves without authentication
// on an address other machines can reach.
func (s *securityStack) warnIfUnauthenticated(log *slog.Logger, bound string) {
	if s == nil || s.noAuth {
		warnIfExposed(log, bound, "serving without authentication on a non-loopback address")
	}
}

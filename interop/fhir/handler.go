package fhir

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// Service is the set of clinical record operations the handler calls.
// *emr.Service implements it, and a decorator such as an audit or
// authorization layer can wrap it.
type Service interface {
	Read(ctx context.Context, typ, id string) (*emr.Resource, error)
	VRead(ctx context.Context, typ, id string, version int64) (*emr.Resource, error)
	History(ctx context.Context, q emr.HistoryQuery) (*emr.HistoryPage, error)
	Search(ctx context.Context, typ string, params url.Values) (*emr.SearchResult, error)
	ParseSearch(typ string, params url.Values) (emr.Query, url.Values, error)
	Create(ctx context.Context, typ string, body []byte) (*emr.Resource, error)
	ConditionalCreate(ctx context.Context, typ string, body []byte, criteria string) (*emr.Resource, emr.Outcome, error)
	Update(ctx context.Context, p emr.UpdateParams) (*emr.Resource, emr.Outcome, error)
	ConditionalUpdate(ctx context.Context, typ, criteria string, body []byte) (*emr.Resource, emr.Outcome, error)
	Patch(ctx context.Context, p emr.PatchParams) (*emr.Resource, error)
	Delete(ctx context.Context, typ, id string, ifMatch int64) (*emr.Resource, error)
	ConditionalDelete(ctx context.Context, typ, criteria string) (*emr.Resource, error)
	Validate(typ string, body []byte) error
	ProcessBundle(ctx context.Context, body []byte) (*emr.BundleResponse, error)
	Everything(ctx context.Context, p emr.EverythingParams) (*emr.EverythingResult, error)
	Export(ctx context.Context, p emr.ExportParams, open emr.ExportWriter) (map[string]int, error)
	Registry() *searchparam.Registry
}

var _ Service = (*emr.Service)(nil)

// DefaultMaxBodyBytes is the default limit on a request body, 32 MiB.
const DefaultMaxBodyBytes = 32 << 20

// Config configures the handler. The zero value apart from Service works
// after WithDefaults.
type Config struct {
	// Service stores and searches the resources. Required.
	Service Service
	// Scheduling, when set, serves Schedule, Slot, Appointment and
	// AppointmentResponse in place of Service. Nil leaves these types to
	// Service like every other type.
	Scheduling SchedulingService
	// Billing, when set, serves Account, ChargeItem, ChargeItemDefinition,
	// Invoice and PaymentReconciliation in place of Service, so every
	// write goes through the billing rules. Nil leaves these types to
	// Service like every other type.
	Billing BillingService
	// BaseURL returns the absolute URL the handler is mounted at, without
	// a trailing slash, such as "https://ehr.example/fhir". It is used in
	// Location headers, fullUrl and links. Nil means the scheme and Host of
	// the request followed by the path prefix removed before the handler
	// (by http.StripPrefix). Set it behind a proxy, because the default
	// does not trust X-Forwarded-* headers.
	BaseURL func(r *http.Request) string
	// Actor returns who makes the request, stored with every version it
	// writes. Nil means "anonymous" for every request.
	Actor func(r *http.Request) string
	// Logger receives one line per request and the internal errors; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// SoftwareName and SoftwareVersion fill CapabilityStatement.software.
	SoftwareName    string
	SoftwareVersion string
	// OAuth, when set, adds rest.security to the CapabilityStatement: the
	// SMART-on-FHIR service and the OAuth2 endpoint URLs. Set it when an
	// Authorizer decides requests.
	OAuth *OAuthEndpoints
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// ExportDir is the folder below which each bulk data export job gets
	// a folder of NDJSON files. Empty means nexus-export in os.TempDir().
	ExportDir string
	// MaxExportJobs limits the export jobs running at once; a kick-off
	// above it gets 429. Zero means DefaultMaxExportJobs.
	MaxExportJobs int
	// ExportRetention is how long the files of a finished export job are
	// kept before they are deleted. Zero means DefaultExportRetention.
	ExportRetention time.Duration
	// Authorizer, when set, decides every request of the principal in its
	// context and restricts it to the decided patients and types (see
	// authz.go). Nil serves every request unrestricted.
	Authorizer Authorizer
	// AccessRecorder, when set, records every interaction before its
	// response is sent. Nil records nothing.
	AccessRecorder AccessRecorder
}

// Defaults of the bulk data export settings.
const (
	DefaultMaxExportJobs   = 4
	DefaultExportRetention = time.Hour
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.BaseURL == nil {
		c.BaseURL = requestBaseURL
	}
	if c.Actor == nil {
		c.Actor = func(*http.Request) string { return "anonymous" }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.SoftwareName == "" {
		c.SoftwareName = "Nexus Health 360"
	}
	if c.SoftwareVersion == "" {
		c.SoftwareVersion = "dev"
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.ExportDir == "" {
		c.ExportDir = filepath.Join(os.TempDir(), "nexus-export")
	}
	if c.MaxExportJobs == 0 {
		c.MaxExportJobs = DefaultMaxExportJobs
	}
	if c.ExportRetention == 0 {
		c.ExportRetention = DefaultExportRetention
	}
	return c
}

// Validate returns an error naming the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.Service == nil:
		return errors.New("fhir config: Service is required")
	case c.MaxBodyBytes < 0:
		return errors.New("fhir config: MaxBodyBytes must not be negative")
	case c.MaxExportJobs < 0:
		return errors.New("fhir config: MaxExportJobs must not be negative")
	case c.ExportRetention < 0:
		return errors.New("fhir config: ExportRetention must not be negative")
	}
	return nil
}

// handler serves the FHIR REST API. It keeps no state per request, so one
// handler serves any number of concurrent requests. Its only shared state
// is the registry of export jobs, which is safe for concurrent use.
type handler struct {
	svc        Service
	cfg        Config
	log        *slog.Logger
	capability capabilityStatement
	exports    *exportJobs
	authz      *authz
}

// NewHandler returns the FHIR R4 REST API on cfg.Service as an http.Handler
// that serves paths relative to where it is mounted. It panics when cfg is
// invalid after WithDefaults, as http.ServeMux.Handle does for an invalid
// pattern; call cfg.Validate first to get an error instead.
//
// The handler also implements io.Closer. Close cancels the running bulk
// data export jobs and deletes the files of every job; call it after the
// HTTP server has shut down.
func NewHandler(cfg Config) http.Handler {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	h := &handler{svc: cfg.Service, cfg: cfg, log: cfg.Logger, exports: newExportJobs(cfg), authz: newAuthz(cfg)}
	h.capability = buildCapability(cfg, cfg.Service.Registry())
	return h
}

// Close cancels the export jobs, waits for them to stop and deletes their
// folders. Later export kick-offs get 503. It always returns nil.
func (h *handler) Close() error {
	h.exports.close()
	return nil
}

// exchange is one request in progress.
type exchange struct {
	w         *responseRecorder
	r         *http.Request
	ctx       context.Context
	requestID string
	base      string
	query     url.Values
	pretty    bool
	route     route
	path      pathValues
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Clock()
	rec := &responseRecorder{ResponseWriter: w, head: r.Method == http.MethodHead}
	x := &exchange{w: rec, r: r, requestID: requestID(r)}
	rec.Header().Set("X-Request-Id", x.requestID)
	x.ctx = emr.ContextWithActor(r.Context(), h.cfg.Actor(r))
	x.base = strings.TrimSuffix(h.cfg.BaseURL(r), "/")
	x.route, x.path = matchRoute(r.Method, r.URL.Path)
	if h.cfg.Scheduling != nil {
		x.route, x.path = h.schedulingRoute(r.Method, r.URL.Path, x.route, x.path)
	}
	if h.cfg.Billing != nil {
		x.route, x.path = h.billingRoute(r.Method, r.URL.Path, x.route, x.path)
	}

	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			// The panic value may quote request data, so only its type
			// is logged.
			h.log.ErrorContext(x.ctx, "fhir handler panicked", "request_id", x.requestID,
				"route", x.route.pattern, "panic_type", typeName(p))
			if !rec.wroteHeader {
				h.writeOutcome(x, http.StatusInternalServerError, internalOutcome(x.requestID))
			}
		}
		h.logRequest(x, h.cfg.Clock().Sub(start))
	}()

	if err := h.prepare(x); err != nil {
		h.fail(x, err)
		return
	}
	h.serveRoute(x)
}

// prepare parses the query and checks the response format the client
// accepts, before any route runs.
func (h *handler) prepare(x *exchange) error {
	query, err := url.ParseQuery(x.r.URL.RawQuery)
	if err != nil {
		return requestError(http.StatusBadRequest, "invalid", "the query string is not valid URL encoding")
	}
	x.query = query
	x.pretty = query.Get("_pretty") == "true"
	if x.route.pattern == shapeExportFile.pattern {
		// Export files are NDJSON, whatever media type Accept names.
		return nil
	}
	return checkAccept(x.r, query)
}

func (h *handler) logRequest(x *exchange, elapsed time.Duration) {
	attrs := []slog.Attr{
		slog.String("request_id", x.requestID),
		slog.String("method", x.r.Method),
		slog.String("route", x.route.pattern),
	}
	if emr.IsResourceType(x.path.typ) {
		attrs = append(attrs, slog.String("type", x.path.typ))
	}
	attrs = append(attrs,
		slog.Int("status", x.w.statusCode()),
		slog.Duration("duration", elapsed),
		slog.Int64("bytes", x.w.bytes),
	)
	h.log.LogAttrs(x.ctx, slog.LevelInfo, "fhir request", attrs...)
}

// requestIDPattern limits a client's X-Request-Id to characters that are
// safe to echo and log.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._\-]{1,64}$`)

// requestID returns the client's X-Request-Id when it is safe to reuse, or
// a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); requestIDPattern.MatchString(id) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error
	return hex.EncodeToString(b[:])
}

// requestBaseURL derives the base URL from the request: its scheme and Host,
// then the part of the original path that a prefix-stripping parent handler
// removed.
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + mountPrefix(r)
}

func mountPrefix(r *http.Request) string {
	original, _, _ := strings.Cut(r.RequestURI, "?")
	if u, err := url.Parse(original); err == nil && u.IsAbs() {
		original = u.EscapedPath()
	}
	prefix, ok := strings.CutSuffix(original, r.URL.EscapedPath())
	if !ok {
		return ""
	}
	return strings.TrimSuffix(prefix, "/")
}

// responseRecorder notes the status and size of a response for the
// request log. For a HEAD request it drops the body, so HEAD gets the
// status and headers of GET, Content-Length included.
type responseRecorder struct {
	http.ResponseWriter
	head        bool
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *responseRecorder) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.head {
		return len(b), nil
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseRecorder) statusCode() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.status
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

package security

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Defaults of MiddlewareConfig.
const (
	DefaultMaxBodyBytes   = 32 << 20
	DefaultIPRate         = 50
	DefaultIPBurst        = 100
	DefaultPrincipalRate  = 20
	DefaultPrincipalBurst = 40
)

// MiddlewareConfig configures Middleware. The zero value works after
// WithDefaults.
type MiddlewareConfig struct {
	// Public reports whether a request needs no access token, such as the
	// token endpoint and the CapabilityStatement. Nil means only the
	// authorization server's public paths (IsPublicPath).
	Public func(r *http.Request) bool
	// FHIRPrefix is the path prefix of the FHIR API, such as "/fhir".
	// Errors on paths below it have an OperationOutcome body.
	FHIRPrefix string
	// MaxBodyBytes limits request bodies; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// IPRate and IPBurst set the token bucket of each client IP address
	// (requests per second and burst), applied before authentication.
	IPRate  float64
	IPBurst int
	// PrincipalRate and PrincipalBurst set the token bucket of each
	// authenticated client id or user.
	PrincipalRate  float64
	PrincipalBurst int
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header is believed. When the remote address is in
	// one of them, the client is the right-most X-Forwarded-For address
	// that is not. Nil trusts no proxy, so the header is ignored and the
	// remote address is the client.
	TrustedProxies []netip.Prefix
	// Exempt reports whether a request skips the per-IP rate limit, such
	// as the health probes of a load balancer. Nil exempts none.
	Exempt func(r *http.Request) bool
	// NoAuth serves every request without a token and without a
	// principal. Rate and size limits still apply. It exists for a local
	// demonstration on a loopback address only.
	NoAuth bool
}

// WithDefaults returns c with zero fields set to their defaults.
func (c MiddlewareConfig) WithDefaults() MiddlewareConfig {
	if c.Public == nil {
		c.Public = func(r *http.Request) bool { return IsPublicPath(r.URL.Path) }
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.IPRate == 0 {
		c.IPRate = DefaultIPRate
	}
	if c.IPBurst == 0 {
		c.IPBurst = DefaultIPBurst
	}
	if c.PrincipalRate == 0 {
		c.PrincipalRate = DefaultPrincipalRate
	}
	if c.PrincipalBurst == 0 {
		c.PrincipalBurst = DefaultPrincipalBurst
	}
	if c.Exempt == nil {
		c.Exempt = func(*http.Request) bool { return false }
	}
	return c
}

// Middleware wraps next with the request size limit, per-IP and
// per-principal rate limits and bearer token authentication. A request
// without a valid token gets 401 with a WWW-Authenticate: Bearer header
// unless cfg.Public allows it. An authenticated request reaches next with
// its Principal in the context (PrincipalFrom), and the Decide calls under
// that context read CareRelations once per request.
// The client address of the per-IP limit is the remote address, or the
// forwarded one behind cfg.TrustedProxies, and reaches next through
// ClientIPFrom.
func (s *Service) Middleware(cfg MiddlewareConfig, next http.Handler) http.Handler {
	cfg = cfg.WithDefaults()
	ipLimits := newLimiterSet(cfg.IPRate, cfg.IPBurst)
	principalLimits := newLimiterSet(cfg.PrincipalRate, cfg.PrincipalBurst)
	logs := newRejectLog(s.cfg.Logger)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fhirPath := cfg.FHIRPrefix != "" && (r.URL.Path == cfg.FHIRPrefix || strings.HasPrefix(r.URL.Path, cfg.FHIRPrefix+"/"))
		now := s.cfg.Clock()
		ip := clientIP(r, cfg.TrustedProxies)
		r = r.WithContext(ContextWithClientIP(r.Context(), ip))
		// Responses may carry patient data or tokens, so no cache keeps
		// them unless the handler sets another policy, as the JWKS does.
		w.Header().Set("Cache-Control", "no-store")
		if !cfg.Exempt(r) {
			if ok, retry := ipLimits.allow(ip, now); !ok {
				logs.reject(r, ip, http.StatusTooManyRequests, "per-address rate limit exceeded")
				w.Header().Set("Retry-After", strconv.Itoa(retry))
				s.reject(w, fhirPath, http.StatusTooManyRequests, "throttled", "too many requests from this address; retry later")
				return
			}
		}
		if r.ContentLength > cfg.MaxBodyBytes {
			logs.reject(r, ip, http.StatusRequestEntityTooLarge, "request body larger than the limit")
			s.reject(w, fhirPath, http.StatusRequestEntityTooLarge, "too-costly",
				"request body is larger than "+strconv.FormatInt(cfg.MaxBodyBytes, 10)+" bytes")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, cfg.MaxBodyBytes)
		if cfg.NoAuth {
			next.ServeHTTP(w, r)
			return
		}
		raw, hasToken := bearerToken(r)
		if !hasToken && cfg.Public(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !hasToken {
			logs.reject(r, ip, http.StatusUnauthorized, "no access token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="nexus"`)
			s.reject(w, fhirPath, http.StatusUnauthorized, "login", "an access token is required: send Authorization: Bearer TOKEN")
			return
		}
		p, err := s.ValidateToken(r.Context(), raw)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				s.cfg.Logger.ErrorContext(r.Context(), "validating an access token failed", "err", err)
			}
			logs.reject(r, ip, http.StatusUnauthorized, "invalid or expired access token")
			w.Header().Set("WWW-Authenticate", `Bearer realm="nexus", error="invalid_token"`)
			s.reject(w, fhirPath, http.StatusUnauthorized, "login", "the access token is invalid or expired")
			return
		}
		if ok, retry := principalLimits.allow(string(p.Kind)+":"+p.Subject+":"+p.ClientID, now); !ok {
			logs.reject(r, ip, http.StatusTooManyRequests, "per-client rate limit exceeded", "subject", p.Subject,
				"client_id", p.ClientID)
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			s.reject(w, fhirPath, http.StatusTooManyRequests, "throttled", "too many requests for this client; retry later")
			return
		}
		ctx := contextWithCareMemo(ContextWithPrincipal(r.Context(), p))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// reject writes an error as a FHIR OperationOutcome on FHIR paths and as
// an OAuth2-style JSON body elsewhere.
func (s *Service) reject(w http.ResponseWriter, fhirPath bool, status int, code, message string) {
	w.Header().Set("Cache-Control", "no-store")
	if !fhirPath {
		oauth := map[int]string{http.StatusUnauthorized: "invalid_token", http.StatusTooManyRequests: "slow_down",
			http.StatusRequestEntityTooLarge: "invalid_request"}[status]
		writeJSON(w, status, map[string]string{"error": oauth, "error_description": message})
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"resourceType": "OperationOutcome",
		"issue": []map[string]any{{
			"severity": "error", "code": code, "diagnostics": message,
		}},
	})
}

package security

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rejection log limits: at most rejectLogBurst lines at once and
// rejectLogRate lines per second after that, so a flood of refused
// requests cannot flood the log.
const (
	rejectLogRate  = 5
	rejectLogBurst = 20
)

// rejectLog writes one line per request that Middleware refuses (401,
// 413, 429). A line names the status, reason, method, client address and
// the path up to the resource type, never a token, a query or a resource
// id, because ids of Patient resources are patient data. Lines above the
// rate limit are counted and the count is written with the next line.
type rejectLog struct {
	logger  *slog.Logger
	limiter *rate.Limiter

	mu         sync.Mutex
	suppressed int
}

func newRejectLog(logger *slog.Logger) *rejectLog {
	return &rejectLog{logger: logger, limiter: rate.NewLimiter(rejectLogRate, rejectLogBurst)}
}

// reject logs one refused request. attrs are extra key-value pairs.
func (l *rejectLog) reject(r *http.Request, ip string, status int, reason string, attrs ...any) {
	if !l.limiter.AllowN(time.Now(), 1) {
		l.mu.Lock()
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.mu.Lock()
	suppressed := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	level := slog.LevelWarn
	if status == http.StatusUnauthorized {
		level = slog.LevelInfo
	}
	args := append([]any{"status", status, "reason", reason, "method", r.Method, "path", redactPath(r.URL.Path),
		"client_ip", ip}, attrs...)
	if suppressed > 0 {
		args = append(args, "suppressed_before", suppressed)
	}
	l.logger.Log(r.Context(), level, "request rejected", args...)
}

// redactPath keeps the first two segments of path, such as "/fhir/Patient"
// or "/auth/token", and replaces the rest with "/...".
func redactPath(path string) string {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) <= 2 {
		return path
	}
	return "/" + parts[0] + "/" + parts[1] + "/..."
}

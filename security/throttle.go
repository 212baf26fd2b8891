package security

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Defaults of the login throttle in Config.
const (
	// DefaultLoginFailureLimit is the number of failed sign-ins of one
	// username, within DefaultLoginLockout, that locks the username.
	DefaultLoginFailureLimit = 5
	// DefaultLoginIPFailureLimit is the number of failed sign-ins from one
	// client IP address, within DefaultLoginLockout, that locks the
	// address. It is higher than the username limit because many users
	// can share an address behind a NAT.
	DefaultLoginIPFailureLimit = 50
	// DefaultLoginLockout is both the window failures are counted in and
	// how long a lock lasts.
	DefaultLoginLockout = 15 * time.Minute
	// maxThrottleEntries bounds the memory of the throttle. Above it,
	// expired entries are swept at once rather than every minute.
	maxThrottleEntries = 100_000
)

// ErrThrottled: sign-ins are locked for the username or the client IP
// address after too many failures. It wraps ErrUnauthenticated, and the
// error returned is a *ThrottledError.
var ErrThrottled = errors.Join(errors.New("too many failed sign-ins"), ErrUnauthenticated)

// ThrottledError is the error of a sign-in made while locked.
type ThrottledError struct {
	// RetryAfter is how long the lock still lasts.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("authenticate: too many failed sign-ins; retry in %s", e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrThrottled.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// RetryAfterSeconds returns RetryAfter in whole seconds, rounded up, for
// a Retry-After header.
func (e *ThrottledError) RetryAfterSeconds() int { return int(math.Ceil(e.RetryAfter.Seconds())) }

// loginThrottle counts failed sign-ins per key ("user:NAME" or "ip:ADDR")
// and locks a key that reaches its limit within the window. The key of a
// username is counted whether or not the user exists, so a lock looks
// the same for unknown users and wrong passwords.
type loginThrottle struct {
	mu        sync.Mutex
	entries   map[string]*throttleEntry
	lastSweep time.Time
}

type throttleEntry struct {
	failures    int
	windowStart time.Time
	lockedUntil time.Time
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{entries: map[string]*throttleEntry{}}
}

// lockedFor returns how long the first locked key of keys stays locked,
// or 0 when none is.
func (t *loginThrottle) lockedFor(now time.Time, keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		if e := t.entries[k]; e != nil && now.Before(e.lockedUntil) {
			longest = max(longest, e.lockedUntil.Sub(now))
		}
	}
	return longest
}

// fail counts one failure of each key against its limit: limits[i] is
// the limit of keys[i], and 0 turns that key's throttle off.
func (t *loginThrottle) fail(now time.Time, window time.Duration, keys []string, limits []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now, window)
	for i, k := range keys {
		if limits[i] <= 0 {
			continue
		}
		e := t.entries[k]
		if e == nil {
			e = &throttleEntry{windowStart: now}
			t.entries[k] = e
		}
		if now.Sub(e.windowStart) > window {
			e.failures, e.windowStart = 0, now
		}
		e.failures++
		if e.failures >= limits[i] {
			e.lockedUntil = now.Add(window)
			e.failures, e.windowStart = 0, now
		}
	}
}

// succeed deletes the failure count and lock of key.
func (t *loginThrottle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

// sweep drops entries whose window and lock are over, once a minute or
// at once when the map is full.
func (t *loginThrottle) sweep(now time.Time, window time.Duration) {
	if now.Sub(t.lastSweep) < time.Minute && len(t.entries) < maxThrottleEntries {
		return
	}
	for k, e := range t.entries {
		if now.Sub(e.windowStart) > window && !now.Before(e.lockedUntil) {
			delete(t.entries, k)
		}
	}
	t.lastSweep = now
}

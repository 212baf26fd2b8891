package security

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet keeps one token bucket per key (a client id or an IP
// address). Buckets idle for longer than idleAfter are dropped, so the
// set stays bounded by the keys active in that time.
type limiterSet struct {
	mu        sync.Mutex
	perSecond rate.Limit
	burst     int
	buckets   map[string]*bucket
	lastSweep time.Time
	idleAfter time.Duration
}

type bucket struct {
	limiter *rate.Limiter
	used    time.Time
}

func newLimiterSet(perSecond float64, burst int) *limiterSet {
	return &limiterSet{perSecond: rate.Limit(perSecond), burst: burst,
		buckets: map[string]*bucket{}, idleAfter: 10 * time.Minute}
}

// allow takes one token from key's bucket. When none is left it returns
// false and the whole seconds until one is.
func (l *limiterSet) allow(key string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.used) > l.idleAfter {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{limiter: rate.NewLimiter(l.perSecond, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	r := b.limiter.ReserveN(now, 1)
	if !r.OK() {
		return false, 60
	}
	delay := r.DelayFrom(now)
	if delay == 0 {
		return true, 0
	}
	r.CancelAt(now)
	return false, int(math.Ceil(delay.Seconds()))
}

package inbound

import (
	"context"
	"fmt"
	"sync"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// senderLocks serialises the messages of each sender. Each lock is a
// channel of capacity one, because the Go runtime hands a freed channel
// slot to the goroutine that has waited longest, so waiting messages run
// in arrival order, and a wait can end with its context. An entry is
// removed when no goroutine holds or waits for it, so the map stays as
// small as the set of senders with messages in flight.
type senderLocks struct {
	mu    sync.Mutex
	locks map[string]*senderLock
}

type senderLock struct {
	slot chan struct{}
	refs int // holders and waiters, guarded by senderLocks.mu
}

// lock waits for the sender's lock and returns the function that releases
// it.
func (l *senderLocks) lock(ctx context.Context, sender string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*senderLock)
	}
	e := l.locks[sender]
	if e == nil {
		e = &senderLock{slot: make(chan struct{}, 1)}
		l.locks[sender] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.slot <- struct{}{}:
		return func() {
			<-e.slot
			l.release(sender, e)
		}, nil
	case <-ctx.Done():
		l.release(sender, e)
		return nil, context.Cause(ctx)
	}
}

func (l *senderLocks) release(sender string, e *senderLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(l.locks, sender)
	}
}

// senderKey identifies the sender of a message by MSH-3 and MSH-4 as
// encoded. The lengths keep "A^B" + "C" apart from "A" + "B^C".
func senderKey(hdr *hl7v2.Header) string {
	return fmt.Sprintf("%d:%s%d:%s", len(hdr.SendingApplication), hdr.SendingApplication,
		len(hdr.SendingFacility), hdr.SendingFacility)
}

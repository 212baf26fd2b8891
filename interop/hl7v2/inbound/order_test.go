package inbound

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

func orderMessage(app, controlID string) []byte {
	return fmt.Appendf(nil, "MSH|^~\\&|%s|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A08^ADT_A01|%s|P|2.5\r", app, controlID)
}

// waiters returns how many messages hold or wait for the sender's lock.
func (l *senderLocks) waiters(sender string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.locks[sender]; e != nil {
		return e.refs
	}
	return 0
}

// TestSenderOrderAcrossConnections starts one message that blocks in
// Apply, queues more messages of the same sender from separate goroutines
// (as separate connections would), and checks that they run one at a time
// in the order they were queued.
func TestSenderOrderAcrossConnections(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var mu sync.Mutex
	var order []string
	var running, maxRunning atomic.Int32
	h := &Handler{Applier: ApplierFunc(func(_ context.Context, msg *hl7v2.Message) (Outcome, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := maxRunning.Load()
			if n <= m || maxRunning.CompareAndSwap(m, n) {
				break
			}
		}
		if msg.Get("MSH-10") == "M0" {
			<-release
		}
		mu.Lock()
		order = append(order, msg.Get("MSH-10"))
		mu.Unlock()
		return Outcome{}, nil
	})}
	hdr, err := hl7v2.ParseHeader(orderMessage("ADT", "M0"))
	require.NoError(t, err)
	sender := senderKey(hdr)

	const queued = 6
	var wg sync.WaitGroup
	for i := range queued + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.Process(context.Background(), orderMessage("ADT", fmt.Sprintf("M%d", i)))
			assert.NoError(t, err)
			assert.Equal(t, "AA", res.Code)
		}()
		require.Eventually(t, func() bool { return h.senders.waiters(sender) == i+1 },
			5*time.Second, time.Millisecond, "message M%d waits for the sender", i)
	}
	close(release)
	wg.Wait()

	assert.Equal(t, []string{"M0", "M1", "M2", "M3", "M4", "M5", "M6"}, order)
	assert.Equal(t, int32(1), maxRunning.Load(), "one message of a sender at a time")
	assert.Zero(t, h.senders.waiters(sender), "the lock entry is removed when unused")
}

func TestSendersRunConcurrently(t *testing.T) {
	t.Parallel()
	started := map[string]chan struct{}{"ADT": make(chan struct{}), "LAB": make(chan struct{})}
	h := &Handler{Applier: ApplierFunc(func(_ context.Context, msg *hl7v2.Message) (Outcome, error) {
		self := msg.Get("MSH-3")
		close(started[self])
		other := map[string]string{"ADT": "LAB", "LAB": "ADT"}[self]
		select {
		case <-started[other]:
			return Outcome{}, nil
		case <-time.After(5 * time.Second):
			return Outcome{}, fmt.Errorf("sender %s did not start while %s was applied", other, self)
		}
	})}
	var wg sync.WaitGroup
	for _, app := range []string{"ADT", "LAB"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.Process(context.Background(), orderMessage(app, "X1"))
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
}

func TestSenderWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	h := &Handler{Applier: ApplierFunc(func(_ context.Context, msg *hl7v2.Message) (Outcome, error) {
		if msg.Get("MSH-10") == "W0" {
			<-release
		}
		return Outcome{}, nil
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := h.Process(context.Background(), orderMessage("ADT", "W0"))
		assert.NoError(t, err)
	}()
	hdr, err := hl7v2.ParseHeader(orderMessage("ADT", "W0"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.senders.waiters(senderKey(hdr)) == 1 }, 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	ack, err := h.HandleMessage(ctx, mllpConnInfo(), orderMessage("ADT", "W1"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Nil(t, ack)
	close(release)
	<-done
}

func TestSenderKeySeparatesFields(t *testing.T) {
	t.Parallel()
	a := &hl7v2.Header{SendingApplication: "A^B", SendingFacility: "C", ControlID: "1"}
	b := &hl7v2.Header{SendingApplication: "A", SendingFacility: "B^C", ControlID: "1"}
	assert.NotEqual(t, senderKey(a), senderKey(b))
	assert.NotEqual(t, MessageKey(a), MessageKey(b))
	assert.Len(t, MessageKey(a), 64)
}

func mllpConnInfo() mllp.ConnInfo { return mllp.ConnInfo{ID: 1} }

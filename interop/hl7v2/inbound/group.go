package inbound

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// BatchItem is one message of a group commit, with the fields that
// BatchApplier.ApplyBatch sets for it.
type BatchItem struct {
	// Message is the parsed message.
	Message *hl7v2.Message
	// Key is the message's ContentKey, to look up and record in the same
	// transaction as its effects.
	Key string

	// Outcome counts the writes of an applied message.
	Outcome Outcome
	// Duplicate marks a message whose Key was already recorded, which was
	// not applied again.
	Duplicate bool
	// Err is the message's own error, with the meaning that Applier.Apply
	// gives it: located (AE), unsupported (AR) or internal (no ACK).
	Err error
}

// BatchApplier applies a group of messages in one transaction.
type BatchApplier interface {
	// ApplyBatch applies items in order in one transaction, each isolated
	// from the others, and sets each item's fields. For each item it
	// checks Key, applies the message unless the key is recorded, and
	// records the key, all in that transaction. A failing item must not
	// stop the others. The returned error means the transaction did not
	// commit, so no item was applied. It returns only after the commit.
	ApplyBatch(ctx context.Context, items []*BatchItem) error
}

// Group commit defaults.
const (
	// DefaultMaxBatch bounds the messages of one transaction, so that one
	// failing message costs a bounded number of runs of the others.
	DefaultMaxBatch = 64
)

// GroupCommit applies the messages of concurrent Handler calls together:
// the messages that arrive on all connections while a transaction runs
// form the next transaction, up to MaxBatch messages. A message's ACK is
// built only after its transaction commits.
//
// Lanes run several such queues side by side. Each sender (MSH-3 and
// MSH-4) always uses the same lane, so its messages stay in order, and the
// transactions of different lanes run concurrently. That pays off on a
// database with concurrent writers, such as PostgreSQL, where a batch
// spends most of its time waiting for round trips. SQLite has one writer,
// so its lanes would only wait for each other.
//
// There is no background goroutine: in each lane, the first caller to
// find no batch running leads, runs batches until its own message is
// committed, and hands the lead to the oldest waiting caller. A
// GroupCommit must not be copied after first use.
type GroupCommit struct {
	// Applier applies each batch. It is required, and it is called
	// concurrently for different lanes.
	Applier BatchApplier
	// MaxBatch bounds the messages per transaction. 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// Window, when positive, is how long a leader waits for more messages
	// before a batch that is not full. 0 takes the messages that queued
	// while the previous transaction ran, which adds no latency.
	Window time.Duration
	// Lanes is the number of queues whose transactions may run at once.
	// 0 means 1.
	Lanes int

	init  sync.Once
	lanes []*lane
}

// lane is one queue of a GroupCommit, with at most one batch running.
type lane struct {
	group   *GroupCommit
	mu      sync.Mutex
	queue   []*groupEntry
	leading bool
}

// groupEntry is one submitted item and the channel its caller waits on.
type groupEntry struct {
	item *BatchItem
	// signal receives errLead when the caller must lead, or the result of
	// the item's transaction.
	signal chan error
	done   bool
}

var errLead = errors.New("inbound: lead the group commit")

// Validate returns an error naming the first invalid field.
func (g *GroupCommit) Validate() error {
	switch {
	case g.Applier == nil:
		return errors.New("inbound: GroupCommit.Applier is nil; set a BatchApplier")
	case g.MaxBatch < 0:
		return errors.New("inbound: GroupCommit.MaxBatch is negative; use 0 for the default")
	case g.Window < 0:
		return errors.New("inbound: GroupCommit.Window is negative; use 0 for none")
	case g.Lanes < 0:
		return errors.New("inbound: GroupCommit.Lanes is negative; use 0 for one lane")
	}
	return nil
}

// submit queues item in the lane of sender and returns the function that
// waits for its transaction. A lane keeps submission order, so a caller
// that holds a sender's lock while it submits keeps that sender's order.
func (g *GroupCommit) submit(sender string, item *BatchItem) func(ctx context.Context) error {
	g.setup()
	l := g.lanes[laneOf(sender, len(g.lanes))]
	e := &groupEntry{item: item, signal: make(chan error, 1)}
	l.mu.Lock()
	l.queue = append(l.queue, e)
	lead := !l.leading
	l.leading = true
	l.mu.Unlock()
	return func(ctx context.Context) error {
		if !lead {
			err := <-e.signal
			if !errors.Is(err, errLead) {
				return err
			}
		}
		return l.lead(ctx, e)
	}
}

func (g *GroupCommit) setup() {
	g.init.Do(func() {
		g.lanes = make([]*lane, max(g.Lanes, 1))
		for i := range g.lanes {
			g.lanes[i] = &lane{group: g}
		}
	})
}

// laneOf returns the lane of sender among n lanes, by an FNV-1a hash.
func laneOf(sender string, n int) int {
	if n == 1 {
		return 0
	}
	h := uint32(2166136261)
	for i := 0; i < len(sender); i++ {
		h = (h ^ uint32(sender[i])) * 16777619
	}
	return int(h % uint32(n))
}

// lead runs batches until own is committed, then passes the lead on. The
// batches run with ctx, the context of the leading message, because a
// transaction has one context.
func (l *lane) lead(ctx context.Context, own *groupEntry) error {
	g := l.group
	var result error
	for !own.done {
		if g.Window > 0 && l.queued() < g.maxBatch() {
			time.Sleep(g.Window)
		}
		batch := l.take()
		items := make([]*BatchItem, len(batch))
		for i, e := range batch {
			items[i] = e.item
		}
		err := g.Applier.ApplyBatch(ctx, items)
		for _, e := range batch {
			e.done = true
			if e == own {
				result = err
				continue
			}
			e.signal <- err
		}
	}
	l.mu.Lock()
	if len(l.queue) > 0 {
		l.queue[0].signal <- errLead
	} else {
		l.leading = false
	}
	l.mu.Unlock()
	return result
}

// take removes up to MaxBatch entries from the head of the queue.
func (l *lane) take() []*groupEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := min(len(l.queue), l.group.maxBatch())
	batch := make([]*groupEntry, n)
	copy(batch, l.queue)
	l.queue = append(l.queue[:0], l.queue[n:]...)
	return batch
}

func (l *lane) queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// queued returns the messages waiting in all lanes.
func (g *GroupCommit) queued() int {
	g.setup()
	n := 0
	for _, l := range g.lanes {
		n += l.queued()
	}
	return n
}

func (g *GroupCommit) maxBatch() int {
	if g.MaxBatch <= 0 {
		return DefaultMaxBatch
	}
	return g.MaxBatch
}

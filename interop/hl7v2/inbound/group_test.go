package inbound_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
)

// fakeBatchApplier records each batch's control ids, holds every batch
// until release is closed (when set), and fails the items whose control
// id is in fail with that error.
type fakeBatchApplier struct {
	mu       sync.Mutex
	batches  [][]string
	seen     map[string]bool
	fail     map[string]error
	batchErr error
	release  chan struct{}
	started  chan struct{}
}

func (f *fakeBatchApplier) ApplyBatch(_ context.Context, items []*inbound.BatchItem) error {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.release != nil {
		<-f.release
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.batchErr != nil {
		return f.batchErr
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	ids := make([]string, len(items))
	for i, item := range items {
		id := item.Message.Get("MSH-10")
		ids[i] = id
		switch {
		case f.fail[id] != nil:
			item.Err = f.fail[id]
		case f.seen[item.Key]:
			item.Duplicate = true
		default:
			f.seen[item.Key] = true
			item.Outcome = inbound.Outcome{Created: 1}
		}
	}
	f.batches = append(f.batches, ids)
	return nil
}

func (f *fakeBatchApplier) applied() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...)
}

func groupHandler(a inbound.BatchApplier) *inbound.Handler {
	return &inbound.Handler{
		Group: &inbound.GroupCommit{Applier: a},
		Parse: hl7v2.ParseOptions{Lenient: true},
		Clock: func() time.Time { return fixedTime },
	}
}

func TestGroupCommitBatchesConcurrentMessages(t *testing.T) {
	t.Parallel()
	applier := &fakeBatchApplier{release: make(chan struct{}), started: make(chan struct{}, 16)}
	h := groupHandler(applier)

	// The first message leads and holds its batch open, so the others
	// queue behind it and form the second batch.
	codes := make([]string, 6)
	var wg sync.WaitGroup
	send := func(i int) {
		defer wg.Done()
		res, err := h.Process(context.Background(), admission(fmt.Sprintf("APP%d", i), "HOSP", fmt.Sprintf("G%d", i), "", ""))
		if assert.NoError(t, err) {
			codes[i] = res.Code
		}
	}
	wg.Add(1)
	go send(0)
	<-applier.started
	for i := 1; i < len(codes); i++ {
		wg.Add(1)
		go send(i)
	}
	require.Eventually(t, func() bool { return queued(h) == len(codes)-1 }, 5*time.Second, time.Millisecond)
	close(applier.release)
	wg.Wait()

	batches := applier.applied()
	require.Len(t, batches, 2)
	assert.Equal(t, []string{"G0"}, batches[0])
	assert.Len(t, batches[1], len(codes)-1, "the queued messages share one transaction")
	for i, code := range codes {
		assert.Equal(t, "AA", code, "message %d", i)
	}
}

// queued returns the messages waiting in h's group commit.
func queued(h *inbound.Handler) int {
	return inbound.QueuedForTest(h.Group)
}

func TestGroupCommitKeepsSenderOrder(t *testing.T) {
	t.Parallel()
	applier := &fakeBatchApplier{}
	h := groupHandler(applier)
	h.Group.MaxBatch = 3
	const messages = 30

	var wg sync.WaitGroup
	var mu sync.Mutex
	var submitted []string
	for conn := 0; conn < 3; conn++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < messages/3; i++ {
				id := fmt.Sprintf("S%d-%d", conn, i)
				mu.Lock()
				submitted = append(submitted, id)
				mu.Unlock()
				_, err := h.Process(context.Background(), admission("ONE", "HOSP", id, "", ""))
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	var order []string
	for _, batch := range applier.applied() {
		assert.LessOrEqual(t, len(batch), 3, "MaxBatch bounds a batch")
		order = append(order, batch...)
	}
	assert.Len(t, order, messages)

	for conn := 0; conn < 3; conn++ {
		var mine []string
		for _, id := range order {
			if id[1] == byte('0'+conn) {
				mine = append(mine, id)
			}
		}
		for i, id := range mine {
			assert.Equal(t, fmt.Sprintf("S%d-%d", conn, i), id, "messages of one connection in order")
		}
	}
}

func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	located := &hl7v2.ParseError{Kind: hl7v2.KindRequiredField, SegmentID: "PID", Segment: 2, Occurrence: 1,
		Field: 3, Offset: -1, Message: "PID-3 is required"}
	internal := errors.New("database unavailable")
	applier := &fakeBatchApplier{fail: map[string]error{
		"F1": located, "F2": inbound.ErrUnsupportedEvent, "F3": internal,
	}}
	h := groupHandler(applier)
	cases := []struct {
		id, code string
		internal bool
	}{
		{id: "F0", code: "AA"},
		{id: "F1", code: "AE"},
		{id: "F2", code: "AR"},
		{id: "F3", internal: true},
	}
	for _, tc := range cases {
		res, err := h.Process(context.Background(), admission("ADT", "HOSP", tc.id, "", ""))
		if tc.internal {
			assert.ErrorIs(t, err, internal, tc.id)
			assert.Nil(t, res.ACK, tc.id)
			continue
		}
		require.NoError(t, err, tc.id)
		assert.Equal(t, tc.code, res.Code, tc.id)
	}
	res, err := h.Process(context.Background(), admission("ADT", "HOSP", "F0", "", ""))
	require.NoError(t, err)
	assert.True(t, res.Duplicate, "a resend found in the batch's record is a duplicate")
	assert.Equal(t, "AA", res.Code)
}

func TestGroupCommitFailureGetsNoACK(t *testing.T) {
	t.Parallel()
	commitErr := errors.New("commit failed")
	h := groupHandler(&fakeBatchApplier{batchErr: commitErr})
	res, err := h.Process(context.Background(), admission("ADT", "HOSP", "X1", "AL", "AL"))
	assert.ErrorIs(t, err, commitErr)
	assert.Empty(t, res.Replies(), "no ACK for a message whose transaction did not commit")
}

func TestGroupCommitValidate(t *testing.T) {
	t.Parallel()
	assert.Error(t, (&inbound.GroupCommit{}).Validate())
	assert.Error(t, (&inbound.GroupCommit{Applier: &fakeBatchApplier{}, MaxBatch: -1}).Validate())
	assert.NoError(t, (&inbound.GroupCommit{Applier: &fakeBatchApplier{}}).Validate())
	h := &inbound.Handler{Group: &inbound.GroupCommit{}}
	assert.Error(t, h.Validate(), "an invalid group fails the handler")
}

func TestGroupCommitLanesRunConcurrently(t *testing.T) {
	t.Parallel()
	// Find two senders in different lanes of two.
	other := ""
	for i := 0; other == ""; i++ {
		if app := fmt.Sprintf("LAB%d", i); inbound.LaneForTest(app, "HOSP", 2) != inbound.LaneForTest("ADT", "HOSP", 2) {
			other = app
		}
	}
	blocked := &fakeBatchApplier{release: make(chan struct{}), started: make(chan struct{}, 4)}
	h := groupHandler(laneApplier{blocked: blocked, free: &fakeBatchApplier{}})
	h.Group.Lanes = 2

	done := make(chan string, 2)
	go func() {
		res, err := h.Process(context.Background(), admission("ADT", "HOSP", "L1", "", ""))
		assert.NoError(t, err)
		done <- "ADT " + res.Code
	}()
	<-blocked.started
	go func() {
		res, err := h.Process(context.Background(), admission(other, "HOSP", "L2", "", ""))
		assert.NoError(t, err)
		done <- "other " + res.Code
	}()
	assert.Equal(t, "other AA", <-done, "the other lane commits while the first one is held")
	close(blocked.release)
	assert.Equal(t, "ADT AA", <-done)
}

// laneApplier sends batches from sender ADT to blocked and others to
// free.
type laneApplier struct {
	blocked, free *fakeBatchApplier
}

func (l laneApplier) ApplyBatch(ctx context.Context, items []*inbound.BatchItem) error {
	if items[0].Message.Get("MSH-3") == "ADT" {
		return l.blocked.ApplyBatch(ctx, items)
	}
	return l.free.ApplyBatch(ctx, items)
}

func TestOutcomeStringShowsLate(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "created=1 updated=0 unchanged=2", inbound.Outcome{Created: 1, Unchanged: 2}.String())
	assert.Equal(t, "created=0 updated=0 unchanged=2 late=2", inbound.Outcome{Unchanged: 2, Late: 2}.String())
}

package audit

import (
	"context"
	"fmt"
	"time"
)

// Event is one outbox event as a Follower reads it. Adapters in the daemon
// convert each domain's events to it, because this package imports no
// domain.
type Event struct {
	// Position orders the events of one stream.
	Position int64
	Topic    string
	// Type, ID and Version name the resource version written.
	Type    string
	ID      string
	Version int64
	// Author is the user or client that made the change.
	Author string
	Time   time.Time
	// Method is create, update or delete, or empty for other events.
	Method string
	// Patients are the ids of the patients whose records changed, empty
	// when the change is in no patient's record. For a deletion they are
	// the patients of the version deleted.
	Patients []string
}

// EventSource reads a transactional outbox from a position on.
type EventSource interface {
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
}

// FollowerConfig tunes a Follower. Its zero value is valid after
// WithDefaults.
type FollowerConfig struct {
	// Batch is the number of events read and appended at a time. Default
	// 200.
	Batch int
	// Interval is the wait after an empty read. Default 500ms.
	Interval time.Duration
}

// WithDefaults returns c with zero fields set to their defaults.
func (c FollowerConfig) WithDefaults() FollowerConfig {
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Interval <= 0 {
		c.Interval = 500 * time.Millisecond
	}
	return c
}

// Follower appends the audit entries of the outbox events of one stream,
// one per patient of each event, in position order. The entries of a batch and their positions commit in one
// append transaction, and the next batch starts after the highest stored
// position, so after a crash the Follower neither skips nor repeats an
// event. Two Followers of one stream, such as in two processes, are safe:
// the append transaction skips events already stored.
type Follower struct {
	log    *Log
	stream string
	src    EventSource
	cfg    FollowerConfig
}

// Follow returns a Follower that records the events of src under the
// stream name, such as "emr" or "scheduling".
func (l *Log) Follow(stream string, src EventSource, cfg FollowerConfig) *Follower {
	return &Follower{log: l, stream: stream, src: src, cfg: cfg.WithDefaults()}
}

// Step appends the entries of the next batch of events and returns how
// many entries it appended: one per patient of each event, or one for an
// event without patients.
func (f *Follower) Step(ctx context.Context) (int, error) {
	after, err := f.log.store.LastPosition(ctx, f.stream)
	if err != nil {
		return 0, err
	}
	events, err := f.src.Events(ctx, after, f.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("audit: follow %s: read events after %d: %w", f.stream, after, err)
	}
	if len(events) == 0 {
		return 0, nil
	}
	entries := make([]Entry, 0, len(events))
	for _, e := range events {
		entries = append(entries, f.entries(e)...)
	}
	// The entries of one event share its Position and are appended in
	// one transaction, so a restart never stores only some of them.
	return f.log.appendEntries(ctx, entries, f.stream)
}

// entries returns the audit entries of one event: one per patient, so
// that the access log of each patient lists the change.
func (f *Follower) entries(e Event) []Entry {
	base := f.entry(e)
	if len(e.Patients) == 0 {
		return []Entry{base}
	}
	out := make([]Entry, len(e.Patients))
	for i, patient := range e.Patients {
		out[i] = base
		out[i].Patient = patient
	}
	return out
}

func (f *Follower) entry(e Event) Entry {
	who := e.Author
	if who == "" {
		who = "unknown"
	}
	action, subtype := ActionExecute, e.Topic
	switch e.Method {
	case "create":
		action, subtype = ActionCreate, "create"
	case "update":
		action, subtype = ActionUpdate, "update"
	case "delete":
		action, subtype = ActionDelete, "delete"
	}
	what := ""
	if e.Type != "" && e.ID != "" {
		what = e.Type + "/" + e.ID
		if e.Version > 0 {
			what += fmt.Sprintf("/_history/%d", e.Version)
		}
	}
	return Entry{
		Recorded: e.Time.UTC().Truncate(time.Microsecond), Type: TypeRest, Subtype: subtype, Action: action,
		Outcome: OutcomeSuccess, Agent: Agent{Who: who}, Source: f.log.cfg.Source,
		What: what, Stream: f.stream, Position: e.Position,
	}
}

// Run calls Step until ctx ends, waiting Interval after an empty read or
// an error. Errors are logged with the stream name and retried.
func (f *Follower) Run(ctx context.Context) {
	for {
		n, err := f.Step(ctx)
		if err != nil && ctx.Err() == nil {
			f.log.cfg.Logger.Error("audit follower failed; retrying", "stream", f.stream, "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(f.cfg.Interval):
		}
	}
}

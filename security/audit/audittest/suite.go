// Package audittest is the conformance suite of audit.Store: every backend
// runs the same cases through an audit.Log. Tamper cases need raw access
// to the backend's tables, so each backend adds its own.
package audittest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/audit"
)

// NewStore opens an empty, migrated store for one test.
type NewStore func(t *testing.T) audit.Store

// Run runs every case of the suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("record and verify", func(t *testing.T) { testRecordAndVerify(t, newStore) })
	t.Run("concurrent records", func(t *testing.T) { testConcurrentRecords(t, newStore) })
	t.Run("follower", func(t *testing.T) { testFollower(t, newStore) })
	t.Run("concurrent followers", func(t *testing.T) { testConcurrentFollowers(t, newStore) })
	t.Run("follower patients", func(t *testing.T) { testFollowerPatients(t, newStore) })
	t.Run("access log", func(t *testing.T) { testAccessLog(t, newStore) })
	t.Run("checkpoint", func(t *testing.T) { testCheckpoint(t, newStore) })
	t.Run("signing key", func(t *testing.T) { testSigningKey(t, newStore) })
}

// Clock returns a clock that advances one millisecond on every reading.
func Clock() func() time.Time {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Millisecond)
		return now
	}
}

// OpenLog opens a Log on store with the test clock.
func OpenLog(t *testing.T, store audit.Store) *audit.Log {
	t.Helper()
	log, err := audit.Open(context.Background(), store, audit.Config{Now: Clock()})
	require.NoError(t, err)
	return log
}

// Read is a read of patient's record by who.
func Read(who, patient string) audit.Entry {
	return audit.Entry{
		Type: audit.TypeRest, Subtype: "read", Action: audit.ActionRead, Outcome: audit.OutcomeSuccess,
		Agent:   audit.Agent{Who: who, Client: "app-1", Roles: []string{"physician"}, Address: "127.0.0.1"},
		Patient: patient, What: "Patient/" + patient,
	}
}

// Fill records n reads spread over two patients.
func Fill(t *testing.T, log *audit.Log, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, log.Record(context.Background(), Read(fmt.Sprintf("user-%d", i%3), fmt.Sprintf("p%d", i%2))))
	}
}

func testRecordAndVerify(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	log := OpenLog(t, newStore(t))
	rep, err := log.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "empty log")

	Fill(t, log, 12)
	search := audit.Entry{Type: audit.TypeRest, Subtype: "search-type", Action: audit.ActionExecute,
		Outcome: audit.OutcomeSuccess, Agent: audit.Agent{Who: "nurse"}, Query: "Observation?code=1234-5"}
	require.NoError(t, log.Record(ctx, search))
	err = log.Record(ctx, audit.Entry{Type: audit.TypeRest})
	assert.ErrorIs(t, err, audit.ErrInvalid)

	rep, err = log.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())
	assert.Equal(t, int64(13), rep.Checked)
	assert.Equal(t, int64(13), rep.Last)
}

func testConcurrentRecords(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	log := OpenLog(t, newStore(t))
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- log.Record(ctx, Read(fmt.Sprintf("user-%d", w), fmt.Sprintf("p%d", i)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rep, err := log.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())
	assert.Equal(t, int64(writers*each), rep.Last)
}

// Events is an EventSource over a fixed list of outbox events.
type Events struct {
	mu     sync.Mutex
	events []audit.Event
	// Fail makes the next read fail once.
	Fail bool
}

// Add appends n events after the existing ones.
func (s *Events) Add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		pos := int64(len(s.events) + 1)
		s.events = append(s.events, audit.Event{
			Position: pos, Topic: "emr.resource.created", Type: "Observation", ID: fmt.Sprintf("o%d", pos), Version: 1,
			Author: "clinician", Time: time.Date(2026, 3, 1, 9, 0, int(pos), 0, time.UTC), Method: "create", Patients: []string{"p1"},
		})
	}
}

// AddEvent appends e at the next position.
func (s *Events) AddEvent(e audit.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Position = int64(len(s.events) + 1)
	s.events = append(s.events, e)
}

// Events returns the events after position after.
func (s *Events) Events(_ context.Context, after int64, limit int) ([]audit.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail {
		s.Fail = false
		return nil, fmt.Errorf("events: source unavailable")
	}
	var out []audit.Event
	for _, e := range s.events {
		if e.Position > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func positions(t *testing.T, store audit.Store) []int64 {
	t.Helper()
	records, err := store.Scan(context.Background(), 0, 10000)
	require.NoError(t, err)
	var out []int64
	for _, r := range records {
		if r.Stream != "" {
			out = append(out, r.Position)
		}
	}
	return out
}

func testFollower(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	store := newStore(t)
	log := OpenLog(t, store)
	src := &Events{}
	src.Add(25)
	f := log.Follow("emr", src, audit.FollowerConfig{Batch: 10})

	var total int
	for {
		n, err := f.Step(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
		total += n
	}
	assert.Equal(t, 25, total)

	src.Fail = true
	_, err := f.Step(ctx)
	assert.Error(t, err, "source failure")

	// A new Follower, as after a restart, resumes after the last stored
	// position.
	src.Add(3)
	restarted := OpenLog(t, store).Follow("emr", src, audit.FollowerConfig{})
	n, err := restarted.Step(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	var want []int64
	for i := range 28 {
		want = append(want, int64(i+1))
	}
	assert.Equal(t, want, positions(t, store), "every event once, in order")

	records, err := store.Scan(ctx, 0, 1)
	require.NoError(t, err)
	require.Len(t, records, 1)
	first := records[0]
	assert.Equal(t, audit.ActionCreate, first.Action)
	assert.Equal(t, "Observation/o1/_history/1", first.What)
	assert.Equal(t, "clinician", first.Agent.Who)
	assert.Equal(t, "p1", first.Patient)

	rep, err := log.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())
}

func testFollowerPatients(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	store := newStore(t)
	log := OpenLog(t, store)
	src := &Events{}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	src.AddEvent(audit.Event{Topic: "emr.resource.created", Type: "Observation", ID: "o1", Version: 1,
		Author: "clinician", Time: at, Method: "create", Patients: []string{"p1", "p2"}})
	src.AddEvent(audit.Event{Topic: "emr.resource.deleted", Type: "Condition", ID: "c1", Version: 2,
		Author: "admin", Time: at, Method: "delete", Patients: []string{"p3"}})
	src.AddEvent(audit.Event{Topic: "emr.resource.created", Type: "Practitioner", ID: "pr1", Version: 1,
		Author: "admin", Time: at, Method: "create"})
	f := log.Follow("emr", src, audit.FollowerConfig{})
	n, err := f.Step(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "one entry per patient, and one for the event without a patient")
	assert.Equal(t, []int64{1, 1, 2, 3}, positions(t, store))

	for _, patient := range []string{"p1", "p2"} {
		page, err := log.Access(ctx, audit.AccessQuery{Patient: patient})
		require.NoError(t, err)
		require.Len(t, page.Entries, 1, patient)
		assert.Equal(t, "Observation/o1/_history/1", page.Entries[0].What, patient)
	}
	page, err := log.Access(ctx, audit.AccessQuery{Patient: "p3"})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "the deletion is in the patient's access log")
	assert.Equal(t, audit.ActionDelete, page.Entries[0].Action)
	assert.Equal(t, "Condition/c1/_history/2", page.Entries[0].What)

	n, err = f.Step(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second step appends nothing")
	rep, err := log.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())
}

func testConcurrentFollowers(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	store := newStore(t)
	src := &Events{}
	src.Add(120)
	var wg sync.WaitGroup
	for range 3 {
		f := OpenLog(t, store).Follow("emr", src, audit.FollowerConfig{Batch: 7})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := f.Step(ctx)
				if err != nil || n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	got := positions(t, store)
	assert.Len(t, got, 120, "no event appended twice")
	for i, p := range got {
		if !assert.Equal(t, int64(i+1), p) {
			break
		}
	}
}

func testAccessLog(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	log := OpenLog(t, newStore(t))
	Fill(t, log, 9) // p0 gets entries 1, 3, 5, 7, 9

	page, err := log.Access(ctx, audit.AccessQuery{Patient: "p0", Count: 2})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2)
	assert.Equal(t, int64(9), page.Entries[0].Seq, "newest first")
	assert.Equal(t, int64(7), page.Entries[1].Seq)
	assert.Equal(t, "user-2", page.Entries[0].Agent.Who)

	var seqs []int64
	for page.Next != 0 {
		page, err = log.Access(ctx, audit.AccessQuery{Patient: "p0", Count: 2, Before: page.Next})
		require.NoError(t, err)
		for _, e := range page.Entries {
			seqs = append(seqs, e.Seq)
		}
	}
	assert.Equal(t, []int64{5, 3, 1}, seqs)

	page, err = log.Access(ctx, audit.AccessQuery{Patient: "nobody"})
	require.NoError(t, err)
	assert.Empty(t, page.Entries)
	_, err = log.Access(ctx, audit.AccessQuery{})
	assert.ErrorIs(t, err, audit.ErrInvalid)

	data, err := audit.AuditEventJSON(newestAccess(t, log))
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(data, &ev))
	assert.Equal(t, "AuditEvent", ev["resourceType"])
	assert.Equal(t, "R", ev["action"])
	assert.Contains(t, string(data), `"reference":"Patient/p0"`)
	assert.Contains(t, string(data), `"address":"127.0.0.1"`)
}

func newestAccess(t *testing.T, log *audit.Log) audit.Record {
	t.Helper()
	page, err := log.Access(context.Background(), audit.AccessQuery{Patient: "p0", Count: 1})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	return page.Entries[0]
}

func testCheckpoint(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	store := newStore(t)
	log := OpenLog(t, store)
	_, err := log.Checkpoint(ctx)
	assert.ErrorIs(t, err, audit.ErrNotFound, "empty log")

	Fill(t, log, 20)
	cp, err := log.Checkpoint(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(20), cp.Seq)
	Fill(t, log, 5)

	_, public := log.PublicKey()
	rep, err := audit.CheckCheckpoint(ctx, cp, public, store)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "%v", rep.Err())
	assert.Equal(t, int64(20), rep.Checked)

	var file bytes.Buffer
	require.NoError(t, audit.WriteCheckpoint(&file, cp))
	read, err := audit.ReadCheckpoint(&file)
	require.NoError(t, err)
	assert.Equal(t, cp, read)

	var exported bytes.Buffer
	n, err := audit.Export(ctx, store, cp.Seq, &exported)
	require.NoError(t, err)
	assert.Equal(t, int64(20), n)
	offline, err := audit.ReadExport(bytes.NewReader(exported.Bytes()))
	require.NoError(t, err)
	rep, err = audit.CheckCheckpoint(ctx, read, nil, offline)
	require.NoError(t, err)
	assert.True(t, rep.OK(), "exported log: %v", rep.Err())

	forged := cp
	forged.Seq = 19
	_, err = audit.CheckCheckpoint(ctx, forged, public, store)
	assert.ErrorIs(t, err, audit.ErrTampered, "changed checkpoint")

	other := OpenLog(t, newStore(t))
	_, otherKey := other.PublicKey()
	_, err = audit.CheckCheckpoint(ctx, cp, otherKey, store)
	assert.ErrorIs(t, err, audit.ErrTampered, "untrusted key")

	// An exported log with an edited entry fails the checkpoint.
	edited := bytes.Replace(exported.Bytes(), []byte(`"who":"user-1"`), []byte(`"who":"user-9"`), 1)
	offline, err = audit.ReadExport(bytes.NewReader(edited))
	require.NoError(t, err)
	rep, err = audit.CheckCheckpoint(ctx, read, public, offline)
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, int64(2), rep.Problem.Seq)
	assert.Equal(t, audit.Edited, rep.Problem.Kind)

	// So does one cut short.
	lines := bytes.SplitAfter(exported.Bytes(), []byte("\n"))
	offline, err = audit.ReadExport(bytes.NewReader(bytes.Join(lines[:15], nil)))
	require.NoError(t, err)
	rep, err = audit.CheckCheckpoint(ctx, read, public, offline)
	require.NoError(t, err)
	require.False(t, rep.OK())
	assert.Equal(t, audit.Removed, rep.Problem.Kind)
	assert.Equal(t, int64(16), rep.Problem.Seq)
}

func testSigningKey(t *testing.T, newStore NewStore) {
	store := newStore(t)
	firstID, first := OpenLog(t, store).PublicKey()
	secondID, second := OpenLog(t, store).PublicKey()
	assert.Equal(t, firstID, secondID)
	assert.True(t, first.Equal(second), "the key is kept in the store")
}

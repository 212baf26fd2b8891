package emrtest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

const writers = 16

// runWriters calls write(i) for each i in [0, writers) on its own goroutine
// and returns the errors, indexed by i, once all have returned.
func runWriters(write func(i int) error) []error {
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() { errs[i] = write(i) })
	}
	wg.Wait()
	return errs
}

func testConcurrency(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/concurrent")
	svc := newService(t, newStore)

	t.Run("updates make consecutive versions", func(t *testing.T) {
		errs := runWriters(func(i int) error {
			body := fmt.Sprintf(`{"resourceType":"Organization","name":"Org %d"}`, i)
			_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: "busy", Body: []byte(body)})
			return err
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		cur, err := svc.Read(ctx, "Organization", "busy")
		require.NoError(t, err)
		assert.Equal(t, int64(writers), cur.VersionID)
		page, err := svc.History(ctx, emr.HistoryQuery{Type: "Organization", ID: "busy", Count: 100})
		require.NoError(t, err)
		assert.Len(t, page.Versions, writers)
	})
	t.Run("if-match lets one writer win", func(t *testing.T) {
		put(t, svc, "Organization", "contended", `{"resourceType":"Organization","name":"start"}`)
		errs := runWriters(func(i int) error {
			body := fmt.Sprintf(`{"resourceType":"Organization","name":"writer %d"}`, i)
			_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: "contended", Body: []byte(body), IfMatch: 1})
			return err
		})
		wins, mismatches := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, emr.ErrVersionMismatch), errors.Is(err, emr.ErrConflict):
				mismatches++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		assert.Equal(t, 1, wins)
		assert.Equal(t, writers-1, mismatches)
	})
	t.Run("conditional creates make one resource", func(t *testing.T) {
		body := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient","identifier":[{"system":"http://example.org/mrn","value":"RACE-1"}]},
			 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=http://example.org/mrn|RACE-1"}}]}`)
		errs := runWriters(func(int) error {
			_, err := svc.ProcessBundle(ctx, body)
			return err
		})
		for _, err := range errs {
			if err != nil {
				assert.ErrorIs(t, err, emr.ErrConflict, "a loser may only see a conflict")
			}
		}
		assert.Len(t, searchIDs(t, svc, "Patient", "identifier=http://example.org/mrn|RACE-1"), 1)
	})
	t.Run("registrations of one identifier", func(t *testing.T) {
		errs := runWriters(func(i int) error {
			body := fmt.Sprintf(`{"resourceType":"Patient","name":[{"family":"Racer%c"}],"birthDate":"19%02d-01-01",
				"identifier":[{"system":"http://example.org/passport","value":"P-777"}]}`, 'a'+i, 10+i)
			_, err := svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(body), OverrideReason: "load test"})
			return err
		})
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.ErrorIs(t, err, emr.ErrConflict)
			}
		}
		assert.Equal(t, 1, ok)
		assert.Len(t, searchIDs(t, svc, "Patient", "identifier=http://example.org/passport|P-777"), 1)
	})
}

func testConcurrentTransactions(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/concurrent")
	svc := newService(t, newStore)

	t.Run("equivalent criteria make one resource", func(t *testing.T) {
		forms := []string{
			"identifier=http://t/o|V",
			"identifier=http%3A%2F%2Ft%2Fo%7CV",
			"identifier=http://t/o%7CV",
			"_count=1&identifier=http://t/o|V",
		}
		errs := runWriters(func(i int) error {
			body := `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Organization","identifier":[{"system":"http://t/o","value":"V"}]},
				 "request":{"method":"POST","url":"Organization","ifNoneExist":"` + forms[i%len(forms)] + `"}}]}`
			_, err := svc.ProcessBundle(ctx, []byte(body))
			return err
		})
		for _, err := range errs {
			assert.NoError(t, err)
		}
		assert.Len(t, searchIDs(t, svc, "Organization", "identifier=http://t/o|V"), 1)
	})
	t.Run("opposite lock orders all commit", func(t *testing.T) {
		errs := runWriters(func(i int) error {
			first, second := "lock-a", "lock-b"
			if i%2 == 1 {
				first, second = second, first
			}
			// Each writer sends its own content, so every write is a version.
			name := fmt.Sprintf(`"name":[{"family":"Writer%d"}]`, i)
			body := `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Patient","id":"` + first + `",` + name + `},"request":{"method":"PUT","url":"Patient/` + first + `"}},
				{"resource":{"resourceType":"Patient","id":"` + second + `",` + name + `},"request":{"method":"PUT","url":"Patient/` + second + `"}}]}`
			_, err := svc.ProcessBundle(ctx, []byte(body))
			return err
		})
		for _, err := range errs {
			assert.NoError(t, err, "a deadlock is retried, not returned")
		}
		a, err := svc.Read(ctx, "Patient", "lock-a")
		require.NoError(t, err)
		assert.Equal(t, int64(writers), a.VersionID)
	})
}

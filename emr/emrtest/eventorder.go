package emrtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testEventOrder checks that the outbox events of one transaction come in
// the order of its writes, with one event per write.
func testEventOrder(t *testing.T, newStore NewStore) {
	svc := newService(t, newStore)
	ctx := ctxFor("user/writer")
	const writes = 40
	entries := make([]string, writes)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"resource":{"resourceType":"Organization","name":"Ward %d"},
			"request":{"method":"POST","url":"Organization"}}`, i)
	}
	resp, err := svc.ProcessBundle(ctx, []byte(`{"resourceType":"Bundle","type":"transaction","entry":[`+
		strings.Join(entries, ",")+`]}`))
	require.NoError(t, err)
	require.Len(t, resp.Entries, writes)

	events, err := svc.Events(context.Background(), 0, 1000)
	require.NoError(t, err)
	require.Len(t, events, writes, "one event per write")
	for i, e := range events {
		assert.Equal(t, resp.Entries[i].Resource.ID, e.ID, "event %d", i)
		if i > 0 {
			assert.Greater(t, e.Position, events[i-1].Position)
		}
	}
}

package emrtest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func testHistory(t *testing.T, newStore NewStore) {
	ctx := ctxFor("user/bob")
	svc := newService(t, newStore)
	for i := 0; i < 3; i++ {
		body := fmt.Sprintf(`{"resourceType":"Organization","name":"Org %d"}`, i)
		_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Organization", ID: "org-1", Body: []byte(body)})
		require.NoError(t, err)
	}
	_, err := svc.Create(ctx, "Patient", []byte(`{"resourceType":"Patient"}`))
	require.NoError(t, err)
	_, err = svc.Delete(ctx, "Organization", "org-1", 0)
	require.NoError(t, err)

	page, err := svc.History(ctx, emr.HistoryQuery{Type: "Organization", ID: "org-1"})
	require.NoError(t, err)
	require.Len(t, page.Versions, 4)
	for i, v := range page.Versions {
		assert.Equal(t, int64(4-i), v.VersionID, "newest first")
	}
	assert.True(t, page.Versions[0].Deleted)

	typ, err := svc.History(ctx, emr.HistoryQuery{Type: "Patient"})
	require.NoError(t, err)
	assert.Len(t, typ.Versions, 1)

	// Page through the whole system's history two versions at a time.
	var seen []string
	q := emr.HistoryQuery{Count: 2}
	for {
		p, err := svc.History(ctx, q)
		require.NoError(t, err)
		for _, v := range p.Versions {
			seen = append(seen, fmt.Sprintf("%s/%s/%d", v.Type, v.ID, v.VersionID))
		}
		if p.Next == 0 {
			break
		}
		q.Before = p.Next
	}
	assert.Equal(t, []string{"Organization/org-1/4", seen[1], "Organization/org-1/3", "Organization/org-1/2", "Organization/org-1/1"}, seen)
	assert.Contains(t, seen[1], "Patient/")
}

// Package emrtest is the conformance suite of emr.Store: every backend runs
// the same cases through an emr.Service and must give the same results,
// concurrency cases included. Outside backends can run it too:
//
//	func TestConformance(t *testing.T) {
//		emrtest.Run(t, func(t *testing.T) emr.Store { return newMyStore(t) })
//	}
package emrtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

// NewStore opens an empty, migrated store for one test.
type NewStore func(t *testing.T) emr.Store

// Run runs every area of the suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("versions", func(t *testing.T) { testVersions(t, newStore) })
	t.Run("taken id", func(t *testing.T) { testTakenID(t, newStore) })
	t.Run("unknown elements", func(t *testing.T) { testUnknownElements(t, newStore) })
	t.Run("unchanged update", func(t *testing.T) { testUnchangedUpdate(t, newStore) })
	t.Run("history", func(t *testing.T) { testHistory(t, newStore) })
	t.Run("search", func(t *testing.T) { testSearch(t, newStore) })
	t.Run("search limits", func(t *testing.T) { testSearchLimits(t, newStore) })
	t.Run("sort and include", func(t *testing.T) { testSortAndInclude(t, newStore) })
	t.Run("keyset paging", func(t *testing.T) { testKeysetPaging(t, newStore) })
	t.Run("chains and modifiers", func(t *testing.T) { testChainsAndModifiers(t, newStore) })
	t.Run("search features", func(t *testing.T) { testSearchFeatures(t, newStore) })
	t.Run("import", func(t *testing.T) { testImport(t, newStore) })
	t.Run("everything", func(t *testing.T) { testEverything(t, newStore) })
	t.Run("export", func(t *testing.T) { testExport(t, newStore) })
	t.Run("bundle", func(t *testing.T) { testBundle(t, newStore) })
	t.Run("bundle rules", func(t *testing.T) { testBundleRules(t, newStore) })
	t.Run("bundle patch", func(t *testing.T) { testBundlePatch(t, newStore) })
	t.Run("conditional and patch", func(t *testing.T) { testConditionalAndPatch(t, newStore) })
	t.Run("registration", func(t *testing.T) { testRegistration(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
	t.Run("concurrent transactions", func(t *testing.T) { testConcurrentTransactions(t, newStore) })
	t.Run("access reads", func(t *testing.T) { testAccessReads(t, newStore) })
	t.Run("access writes", func(t *testing.T) { testAccessWrites(t, newStore) })
	t.Run("write events", func(t *testing.T) { testWriteEvents(t, newStore) })
	t.Run("event order", func(t *testing.T) { testEventOrder(t, newStore) })
}

// fakeClock advances one second on every reading, so versions get distinct
// and predictable times.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func newService(t *testing.T, newStore NewStore) *emr.Service {
	t.Helper()
	svc, err := emr.NewService(newStore(t), emr.Config{})
	require.NoError(t, err)
	return svc
}

func ctxFor(actor string) context.Context {
	return emr.ContextWithActor(context.Background(), actor)
}

// object decodes JSON keeping numbers' lexical form.
func object(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func meta(t *testing.T, data []byte) map[string]any {
	t.Helper()
	m, _ := object(t, data)["meta"].(map[string]any)
	return m
}

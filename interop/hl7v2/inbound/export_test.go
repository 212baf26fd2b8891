package inbound

// QueuedForTest returns the messages waiting in g, for tests that need
// a batch to form before they let the running one finish.
func QueuedForTest(g *GroupCommit) int { return g.queued() }

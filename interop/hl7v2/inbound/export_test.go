package inbound

import "github.com/nexus-health-360/nexus/interop/hl7v2"

// QueuedForTest returns the messages waiting in g, for tests that need
// a batch to form before they let the running one finish.
func QueuedForTest(g *GroupCommit) int { return g.queued() }

// LaneForTest returns the lane of a message from app and facility among
// n lanes.
func LaneForTest(app, facility string, n int) int {
	return laneOf(senderKey(&hl7v2.Header{SendingApplication: app, SendingFacility: facility}), n)
}

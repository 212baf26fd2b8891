package main

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/storage"
)

// coverageBatch is the number of audit entries or outbox events read at a
// time by checkOutboxCoverage.
const coverageBatch = 1000

// checkOutboxCoverage checks that every event of the clinical record's
// outbox up to the highest position the audit log covers has an entry.
// The Follower appends the events in position order and skips none, so a
// missing one means entries were removed, even when the chain was rebuilt
// around the gap so that it verifies. It returns an error wrapping
// audit.ErrTampered naming the first uncovered position.
func checkOutboxCoverage(ctx context.Context, db *storage.DB) error {
	// NOTE: only the clinical record stream is checked, not scheduling.
	const stream = "emr"
	covered := map[int64]bool{}
	var highest, after int64
	for {
		records, err := auditStore(db).Scan(ctx, after, coverageBatch)
		if err != nil {
			return fmt.Errorf("audit verify: read entries after %d: %w", after, err)
		}
		for _, r := range records {
			if r.Stream == stream {
				covered[r.Position] = true
				highest = max(highest, r.Position)
			}
			after = r.Seq
		}
		if len(records) < coverageBatch {
			break
		}
	}

	var position int64
	for position < highest {
		events, err := emrStore(db).Events(ctx, position, coverageBatch)
		if err != nil {
			return fmt.Errorf("audit verify: read %s outbox after %d: %w", stream, position, err)
		}
		for _, e := range events {
			if e.Position > highest {
				return nil
			}
			if !covered[e.Position] {
				return fmt.Errorf("audit: %s outbox event %d has no audit entry, but later events do: entries were removed: %w",
					stream, e.Position, audit.ErrTampered)
			}
			position = e.Position
		}
		if len(events) < coverageBatch {
			break
		}
	}
	return nil
}

package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "audit-example-")
	defer os.RemoveAll(dir)
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "example.db"), storage.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		fmt.Println(err)
		return
	}
	store := sqlstore.New(db)
	log, err := audit.Open(ctx, store, audit.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}

	err = log.Record(ctx, audit.Entry{
		Recorded: time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC),
		Type:     audit.TypeRest, Subtype: "read", Action: audit.ActionRead, Outcome: audit.OutcomeSuccess,
		Agent:   audit.Agent{Who: "dr-lee", Address: "10.0.0.7"},
		Patient: "example", What: "Patient/example",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, _ := log.Verify(ctx)
	fmt.Println("verified:", rep.OK(), "entries:", rep.Checked)

	page, _ := log.Access(ctx, audit.AccessQuery{Patient: "example"})
	for _, e := range page.Entries {
		fmt.Println(e.Recorded.Format(time.RFC3339), e.Agent.Who, e.Subtype, e.What)
	}

	cp, _ := log.Checkpoint(ctx)
	checked, err := audit.CheckCheckpoint(ctx, cp, nil, store)
	fmt.Println("checkpoint at", cp.Seq, "verifies:", err == nil && checked.OK())
	// Output:
	// verified: true entries: 1
	// 2026-05-04T10:30:00Z dr-lee read Patient/example
	// checkpoint at 1 verifies: true
}

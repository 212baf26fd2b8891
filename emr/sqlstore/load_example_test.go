package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// ExampleStore_Load loads two patients in one call, with the index rows
// that search reads, and finds one of them by family name.
func ExampleStore_Load() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "emr-load-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "nexus.db"), storage.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		panic(err)
	}
	store := sqlstore.New(db)

	registry := searchparam.R4()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	var puts []emr.Put
	for i, family := range []string{"Tester", "Example"} {
		tree := map[string]any{
			"resourceType": "Patient",
			"id":           fmt.Sprintf("load-%d", i),
			"name":         []any{map[string]any{"family": family}},
		}
		id := tree["id"].(string)
		tree["meta"] = map[string]any{"versionId": "1", "lastUpdated": now.Format(time.RFC3339)}
		body, err := json.Marshal(tree)
		if err != nil {
			panic(err)
		}
		// The caller builds the index rows, as emr.Service does on a
		// write. Search reads _id and _lastUpdated from the resource row.
		entries, err := registry.Extract("Patient", tree)
		if err != nil {
			panic(err)
		}
		var index []searchparam.Entry
		for _, e := range entries {
			if e.Param != "_id" && e.Param != "_lastUpdated" {
				index = append(index, e)
			}
		}
		puts = append(puts, emr.Put{
			Resource: emr.Resource{Type: "Patient", ID: id, VersionID: 1, LastUpdated: now,
				Body: body, Author: "system/loader", Method: "create"},
			Index:    index,
			Patients: []string{id},
		})
	}
	if err := store.Load(ctx, puts); err != nil {
		panic(err)
	}

	svc, err := emr.NewService(store, emr.Config{})
	if err != nil {
		panic(err)
	}
	res, err := svc.Search(ctx, "Patient", url.Values{"family": {"exam"}})
	if err != nil {
		panic(err)
	}
	for _, r := range res.Resources {
		fmt.Println(r.Type, r.ID, r.VersionID)
	}
	// Output:
	// Patient load-1 1
}

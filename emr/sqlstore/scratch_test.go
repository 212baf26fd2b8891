package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestScratchImport(t *testing.T) {
	db := storagetest.SQLite(t)
	db.Migrate(context.Background(), sqlstore.Migrations())
	svc, _ := emr.NewService(sqlstore.New(db), emr.Config{})
	files, _ := filepath.Glob("/work/shared/data/synthea-r4/*.json")
	start := time.Now()
	total := emr.ImportResult{Created: map[string]int{}, Updated: map[string]int{}, Unchanged: map[string]int{}}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		r, err := svc.ImportBundle(context.Background(), b)
		if err != nil {
			t.Fatal(f, err)
		}
		total.Add(r)
	}
	n := 0
	for _, v := range total.Created { n += v }
	for _, v := range total.Updated { n += v }
	for _, v := range total.Unchanged { n += v }
	el := time.Since(start)
	t.Logf("%d resources in %s = %.0f/s created=%v updated=%v", n, el, float64(n)/el.Seconds(), total.Created, total.Updated)
}

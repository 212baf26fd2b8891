package emr_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

func ExampleService_WriteBatch() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "writebatch")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "nexus.db"), storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		log.Fatal(err)
	}
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	if err != nil {
		log.Fatal(err)
	}

	create := func(body string, fail error) emr.BatchUnit {
		return func(ctx context.Context, tx *emr.Service) error {
			if _, err := tx.Create(ctx, "Patient", []byte(body)); err != nil {
				return err
			}
			return fail
		}
	}
	errs, err := svc.WriteBatch(ctx, []emr.BatchUnit{
		create(`{"resourceType":"Patient","gender":"female"}`, nil),
		create(`{"resourceType":"Patient","gender":"male"}`, errors.New("rejected after writing")),
		create(`{"resourceType":"Patient","gender":"other"}`, nil),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(errs[0], errs[1], errs[2])
	// Output: <nil> rejected after writing <nil>
}

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// openService opens the database, checks its schema and returns the
// clinical record service on it. An empty database is migrated; a database
// with an older schema is rejected, so that an operator applies the
// migrations knowingly with `nexusd migrate`.
func openService(ctx context.Context, dsn string, cfg emr.Config) (*storage.DB, *emr.Service, error) {
	db, err := storage.Open(ctx, dsn, storage.Options{})
	if err != nil {
		return nil, nil, err
	}
	if err := db.CheckSchema(ctx, schema()...); err != nil {
		db.Close()
		if errors.Is(err, storage.ErrSchemaOutdated) {
			return nil, nil, fmt.Errorf("%w; run `nexusd migrate --db ...` with the same --db value first", err)
		}
		return nil, nil, err
	}
	svc, err := emr.NewService(sqlstore.New(db), cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, svc, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/scheduling"
	schedsql "github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// isEmpty reports whether no migration of nexusd's stores was applied.
func isEmpty(ctx context.Context, db *storage.DB) (bool, error) {
	for _, set := range schema() {
		v, err := db.SchemaVersion(ctx, set.Component)
		if err != nil {
			return false, err
		}
		if v > 0 {
			return false, nil
		}
	}
	return true, nil
}

// openService opens the database, checks its schema and returns the
// clinical record service on it. An empty database is migrated; a database
// with an older schema is rejected, so that an operator applies the
// migrations knowingly with `nexusd migrate`. The master key comes from
// NEXUS_MASTER_KEY or NEXUS_MASTER_KEY_FILE.
func openService(ctx context.Context, dsn string, cfg emr.Config) (*storage.DB, *emr.Service, error) {
	return openServiceKeys(ctx, dsn, cfg, masterKeyFromEnv())
}

// openServiceKeys is openService with the master key from keys. The key
// ring is set on the DB before the stores are created, and a database with
// encrypted data fails to open without its master key.
func openServiceKeys(ctx context.Context, dsn string, cfg emr.Config, keys dataKeys) (*storage.DB, *emr.Service, error) {
	cfg = cfg.WithDefaults()
	db, err := storage.Open(ctx, dsn, storage.Options{})
	if err != nil {
		return nil, nil, err
	}
	fresh, err := isEmpty(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if fresh {
		cfg.Logger.Warn("the database has no schema yet: creating a new, empty clinical record", "db", string(db.Dialect), "path", db.Path)
	}
	if err := db.CheckSchema(ctx, schema()...); err != nil {
		db.Close()
		if errors.Is(err, storage.ErrSchemaOutdated) {
			return nil, nil, fmt.Errorf("%w; run `nexusd migrate --db ...` with the same --db value first", err)
		}
		return nil, nil, err
	}
	if _, err := protectDB(ctx, db, keys, cfg.Logger); err != nil {
		db.Close()
		return nil, nil, err
	}
	if db.Hasher != nil && cfg.CursorKey == nil {
		// With a master key, paging cursors are signed with a key derived
		// from it, so every process on the database accepts them and no
		// one without the key can forge one.
		cfg.CursorKey = []byte(db.Hasher.Hash("emr-search-cursor", "v1"))
	}
	svc, err := emr.NewService(sqlstore.New(db), cfg)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, svc, nil
}

// openScheduling returns the scheduling service on db, planning in the
// facility's time zone.
func openScheduling(db *storage.DB, zone string, log *slog.Logger) (*scheduling.Service, error) {
	svc, err := scheduling.NewService(schedsql.New(db), scheduling.Config{TimeZone: zone, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return svc, nil
}

// schedulingBackend turns a nil service into a nil interface, so the FHIR
// handler treats a missing scheduling service as absent.
func schedulingBackend(svc *scheduling.Service) fhir.SchedulingService {
	if svc == nil {
		return nil
	}
	return svc
}

package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations is one component's embedded schema history. FS holds one folder
// per dialect ("sqlite", "postgres"), each with files named
// NNNN_description.up.sql and NNNN_description.down.sql. Both folders carry
// the same numbers, so a schema version means the same thing on each backend.
type Migrations struct {
	// Component names the owner of the tables, such as "emr".
	Component string
	FS        fs.FS
}

// Migration is one numbered step.
type Migration struct {
	Version int
	Name    string
	Up      string
	Down    string
}

// ErrSchemaOutdated reports a database whose schema is older than the code.
var ErrSchemaOutdated = errors.New("database schema is out of date")

// ErrSchemaNewer reports a database migrated by a newer build.
var ErrSchemaNewer = errors.New("database schema is newer than this build")

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	component TEXT NOT NULL,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	applied_at TEXT NOT NULL,
	PRIMARY KEY (component, version)
)`

// Load reads the migrations of dialect d, sorted by version.
func (m Migrations) Load(d Dialect) ([]Migration, error) {
	dir := string(d)
	entries, err := fs.ReadDir(m.FS, dir)
	if err != nil {
		return nil, fmt.Errorf("storage: read %s migrations of %s: %w", d, m.Component, err)
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		name := e.Name()
		var direction string
		switch {
		case strings.HasSuffix(name, ".up.sql"):
			direction = "up"
		case strings.HasSuffix(name, ".down.sql"):
			direction = "down"
		default:
			continue
		}
		num, rest, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("storage: migration file %s/%s: name must start with a positive number and an underscore", dir, name)
		}
		body, err := fs.ReadFile(m.FS, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("storage: read migration %s/%s: %w", dir, name, err)
		}
		mig := byVersion[version]
		if mig == nil {
			mig = &Migration{Version: version, Name: strings.TrimSuffix(strings.TrimSuffix(rest, ".up.sql"), ".down.sql")}
			byVersion[version] = mig
		}
		if direction == "up" {
			mig.Up = string(body)
		} else {
			mig.Down = string(body)
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, mig := range byVersion {
		if mig.Up == "" {
			return nil, fmt.Errorf("storage: migration %d of %s (%s) has no up file", mig.Version, m.Component, d)
		}
		out = append(out, *mig)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, mig := range out {
		if mig.Version != i+1 {
			return nil, fmt.Errorf("storage: migrations of %s (%s) skip from %d to %d", m.Component, d, i, mig.Version)
		}
	}
	return out, nil
}

// SchemaVersion returns the highest applied migration of component, 0 when
// none is.
func (db *DB) SchemaVersion(ctx context.Context, component string) (int, error) {
	if _, err := db.Writer.ExecContext(ctx, migrationsTable); err != nil {
		return 0, fmt.Errorf("storage: create schema_migrations: %w", err)
	}
	var v int
	err := db.Writer.GetContext(ctx, &v, db.Rebind(
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE component = ?`), component)
	if err != nil {
		return 0, fmt.Errorf("storage: read schema version of %s: %w", component, err)
	}
	return v, nil
}

// Migrate applies every pending up migration of each set, each in its own
// transaction together with its record in schema_migrations.
func (db *DB) Migrate(ctx context.Context, sets ...Migrations) error {
	for _, set := range sets {
		migs, err := set.Load(db.Dialect)
		if err != nil {
			return err
		}
		current, err := db.SchemaVersion(ctx, set.Component)
		if err != nil {
			return err
		}
		if current > len(migs) {
			return fmt.Errorf("storage: %s is at version %d, this build knows %d: %w", set.Component, current, len(migs), ErrSchemaNewer)
		}
		for _, mig := range migs[current:] {
			if err := db.apply(ctx, set.Component, mig); err != nil {
				return err
			}
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, component string, mig Migration) error {
	tx, err := db.Writer.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: begin migration %d of %s: %w", mig.Version, component, err)
	}
	defer tx.Rollback()
	if db.Dialect == Postgres {
		// Serialises concurrent migrators of one database.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7311)`); err != nil {
			return fmt.Errorf("storage: lock for migration: %w", err)
		}
		var done int
		if err := tx.GetContext(ctx, &done, `SELECT COUNT(*) FROM schema_migrations WHERE component = $1 AND version = $2`, component, mig.Version); err != nil {
			return fmt.Errorf("storage: check migration %d of %s: %w", mig.Version, component, err)
		}
		if done > 0 {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, mig.Up); err != nil {
		return fmt.Errorf("storage: apply migration %d (%s) of %s: %w", mig.Version, mig.Name, component, err)
	}
	_, err = tx.ExecContext(ctx, db.Rebind(
		`INSERT INTO schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)`),
		component, mig.Version, mig.Name, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("storage: record migration %d of %s: %w", mig.Version, component, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit migration %d of %s: %w", mig.Version, component, err)
	}
	return nil
}

// MigrateDown reverts the migrations of set above version target, newest
// first.
func (db *DB) MigrateDown(ctx context.Context, set Migrations, target int) error {
	migs, err := set.Load(db.Dialect)
	if err != nil {
		return err
	}
	current, err := db.SchemaVersion(ctx, set.Component)
	if err != nil {
		return err
	}
	for v := current; v > target; v-- {
		mig := migs[v-1]
		if mig.Down == "" {
			return fmt.Errorf("storage: migration %d of %s has no down file", v, set.Component)
		}
		tx, err := db.Writer.BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("storage: begin revert of %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, mig.Down); err != nil {
			tx.Rollback()
			return fmt.Errorf("storage: revert migration %d (%s) of %s: %w", v, mig.Name, set.Component, err)
		}
		if _, err := tx.ExecContext(ctx, db.Rebind(`DELETE FROM schema_migrations WHERE component = ? AND version = ?`), set.Component, v); err != nil {
			tx.Rollback()
			return fmt.Errorf("storage: unrecord migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("storage: commit revert of %d: %w", v, err)
		}
	}
	return nil
}

// CheckSchema returns nil when every set is fully migrated. A database on
// which no set has been applied yet is migrated here, because there is no
// data to protect. A database with some but not all migrations applied gets
// an error wrapping ErrSchemaOutdated, and the caller should tell the
// operator to run `nexusd migrate`.
func (db *DB) CheckSchema(ctx context.Context, sets ...Migrations) error {
	fresh := true
	for _, set := range sets {
		v, err := db.SchemaVersion(ctx, set.Component)
		if err != nil {
			return err
		}
		if v > 0 {
			fresh = false
		}
	}
	if fresh {
		return db.Migrate(ctx, sets...)
	}
	for _, set := range sets {
		migs, err := set.Load(db.Dialect)
		if err != nil {
			return err
		}
		v, err := db.SchemaVersion(ctx, set.Component)
		if err != nil {
			return err
		}
		switch {
		case v < len(migs):
			return fmt.Errorf("storage: %s schema is at version %d of %d: %w", set.Component, v, len(migs), ErrSchemaOutdated)
		case v > len(migs):
			return fmt.Errorf("storage: %s schema is at version %d, this build knows %d: %w", set.Component, v, len(migs), ErrSchemaNewer)
		}
	}
	return nil
}

// EmbeddedMigrations returns the migrations of component kept in the
// folder dir of an embedded file system, such as a //go:embed migrations
// variable. It panics when dir is missing, which is a build defect.
func EmbeddedMigrations(component string, files fs.FS, dir string) Migrations {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(fmt.Sprintf("storage: embedded migrations of %s: %v", component, err))
	}
	return Migrations{Component: component, FS: sub}
}

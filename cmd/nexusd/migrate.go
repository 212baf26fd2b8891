package main

import (
	"fmt"
	"log/slog"

	"github.com/urfave/cli/v2"

	billsql "github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	schedsql "github.com/nexus-health-360/nexus/scheduling/sqlstore"
	auditsql "github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/security/keyring"
	secsql "github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// schema lists the migrations of every store nexusd runs.
func schema() []storage.Migrations {
	return []storage.Migrations{sqlstore.Migrations(), schedsql.Migrations(), keyring.Migrations(), auditsql.Migrations(), secsql.Migrations(), billsql.Migrations()}
}

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply pending database migrations",
		Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
		Action: func(c *cli.Context) error {
			db, err := storage.Open(c.Context, c.String("db"), storage.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(c.Context, schema()...); err != nil {
				return err
			}
			// With a master key, migrate creates the key ring or checks the
			// key against it.
			keys := masterKeyFrom(c)
			if master, err := keys.load(); err != nil {
				return err
			} else if master != nil {
				if _, err := protectDB(c.Context, db, keys, slog.New(slog.DiscardHandler)); err != nil {
					return err
				}
				fmt.Fprintln(c.App.Writer, "encryption at rest is on")
			}
			for _, set := range schema() {
				v, err := db.SchemaVersion(c.Context, set.Component)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "%s schema at version %d\n", set.Component, v)
			}
			return nil
		},
	}
}

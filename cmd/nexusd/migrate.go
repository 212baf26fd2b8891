package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr/sqlstore"
	schedsql "github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// schema lists the migrations of every store nexusd runs.
func schema() []storage.Migrations {
	return []storage.Migrations{sqlstore.Migrations(), schedsql.Migrations()}
}

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "apply pending database migrations",
		Flags: []cli.Flag{dbFlag()},
		Action: func(c *cli.Context) error {
			db, err := storage.Open(c.Context, c.String("db"), storage.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Migrate(c.Context, schema()...); err != nil {
				return err
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

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/cmd/nexusd/demodata"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/storage"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "create a fresh database with synthetic demo patients and serve it",
		Description: "Creates a new SQLite database (in a temporary folder unless --db names a file that does not\n" +
			"exist yet), loads the synthetic Synthea patients built into nexusd, and serves the FHIR API.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "db", EnvVars: []string{"NEXUS_DEMO_DB"},
				Usage: "database for the demo; must not exist yet (default: a new file in a temporary folder)"},
			masterKeyFlag(),
		}, serveFlags()...),
		Action: func(c *cli.Context) (err error) {
			log, err := newLogger(c)
			if err != nil {
				return err
			}
			if err := checkListenAddr(c.String("addr"), c.Bool(exposeFlag)); err != nil {
				return err
			}
			mllpOpts, err := mllpOptionsFromFlags(c)
			if err != nil {
				return err
			}
			// created is the SQLite file of --db, which this run creates.
			// A start that fails before the demo serves removes it, so
			// that the same --db works on the next run.
			created := ""
			dsn := c.String("db")
			if dsn == "" {
				dir, err := os.MkdirTemp("", "nexus-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				dsn = "sqlite:" + filepath.Join(dir, "demo.db")
			} else if path, ok := sqlitePath(dsn); ok {
				if _, err := os.Stat(path); err == nil {
					return fmt.Errorf("demo: %s already exists; the demo needs a fresh database", path)
				}
				created = path
			}
			// Binding before the database is created makes a busy or
			// invalid address fail at once, with no file left behind.
			listeners, err := bindListeners(listenAddrs{
				http: c.String("addr"), debug: c.String("debug-addr"), mllp: mllpOpts.addr,
			})
			if err != nil {
				return err
			}
			defer listeners.close()
			// Deferred before db.Close, so that it runs after it.
			defer func() {
				if err != nil && created != "" {
					removeSQLiteFiles(created, log)
				}
			}()
			db, svc, err := openServiceKeys(c.Context, dsn, emr.Config{Logger: slog.New(slog.DiscardHandler)}, masterKeyFrom(c))
			if err != nil {
				return err
			}
			defer db.Close()
			sched, err := openScheduling(db, c.String("timezone"), log)
			if err != nil {
				return err
			}
			ctx := emr.ContextWithActor(c.Context, "system/nexusd-demo")
			files, err := fs.Glob(demodata.Bundles, "*.json")
			if err != nil {
				return err
			}
			loaded := 0
			for _, f := range files {
				data, err := fs.ReadFile(demodata.Bundles, f)
				if err != nil {
					return err
				}
				res, err := svc.ImportBundle(ctx, data)
				if err != nil {
					return fmt.Errorf("demo: load %s: %w", f, err)
				}
				for _, n := range res.Created {
					loaded += n
				}
			}
			patients, err := svc.Search(ctx, "Patient", url.Values{"_count": {"100"}})
			if err != nil {
				return err
			}
			var patientIDs []string
			for _, p := range patients.Resources {
				patientIDs = append(patientIDs, p.ID)
			}
			if err := loadDemoSchedules(ctx, sched, time.Now(), patientIDs); err != nil {
				return fmt.Errorf("demo: load schedules: %w", err)
			}
			bill, err := openBilling(db, svc, log)
			if err != nil {
				return err
			}
			billed, err := loadDemoBilling(ctx, bill, svc, patientIDs)
			if err != nil {
				return fmt.Errorf("demo: load billing: %w", err)
			}
			ready := make(chan string, 1)
			go func() {
				addr, ok := <-ready
				if ok {
					fmt.Fprintf(c.App.Writer, "Nexus demo: %d synthetic patients, %d resources in %s\n", len(files), loaded, dsn)
					fmt.Fprintf(c.App.Writer, "FHIR API: http://%s/fhir  (try http://%s/fhir/Patient)\n", addr, addr)
					fmt.Fprintf(c.App.Writer, "Billing: %d fee schedule items, %d issued invoices, a %s claim (try http://%s/fhir/Invoice)\n",
						billed.items, billed.invoices, billed.claimStatus, addr)
				}
			}()
			auditLog, stopAudit, err := startAudit(c.Context, db, svc, sched, log)
			if err != nil {
				return err
			}
			defer stopAudit()
			// The demo data is in place, so an error from here on keeps
			// the database.
			created = ""
			return serve(c.Context, serveOptions{
				addr: c.String("addr"), baseURL: c.String("base-url"), shutdown: c.Duration("shutdown-timeout"),
				debugAddr: c.String("debug-addr"), db: db, svc: svc, log: log, ready: ready, mllp: mllpOpts,
				sched: sched, audit: auditLog, billing: bill, listeners: listeners,
			})
		},
	}
}

// removeSQLiteFiles removes the SQLite database at path with its
// write-ahead log and shared-memory files. It logs what it cannot remove.
func removeSQLiteFiles(path string, log *slog.Logger) {
	for _, file := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			log.Warn("demo: removing the database of the failed start failed", "path", file, "err", err)
		}
	}
}

func sqlitePath(dsn string) (string, bool) {
	dialect, path, err := storage.ParseDSN(dsn)
	return path, err == nil && dialect == storage.SQLite
}

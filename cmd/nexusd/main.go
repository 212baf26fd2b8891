// Command nexusd is the Nexus Health 360 reference server: it serves the
// clinical record over FHIR R4, receives HL7 v2 over MLLP, imports FHIR
// data and HL7 v2 message files and manages the database schema. Run `nexusd help` for the commands.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "nexusd:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "nexusd",
		Usage: "Nexus Health 360 hospital information system server",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-level", Value: "info", EnvVars: []string{"NEXUS_LOG_LEVEL"},
				Usage: "minimum log level: debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"NEXUS_LOG_FORMAT"},
				Usage: "log format: text or json"},
		},
		Commands: append([]*cli.Command{
			serveCommand(),
			migrateCommand(),
			importCommand(),
			demoCommand(),
			exportCommand(),
			hl7Command(),
		}, registeredCommands()...),
	}
}

func dbFlag() cli.Flag {
	return &cli.StringFlag{Name: "db", Value: storage.DefaultDSN, EnvVars: []string{"NEXUS_DB"},
		Usage: "database: sqlite:PATH or postgres://USER@HOST/DB"}
}

func newLogger(c *cli.Context) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", c.String("log-level"))
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.String("log-format") {
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: use text or json", c.String("log-format"))
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "export the clinical record as FHIR Bulk Data NDJSON files",
		Description: "Writes one TYPE.ndjson file per resource type into --out, with the current version of\n" +
			"each resource. --patient limits it to patient compartments.",
		Flags: []cli.Flag{
			dbFlag(),
			masterKeyFlag(),
			&cli.StringFlag{Name: "out", Required: true, Usage: "folder for the NDJSON files; it must be empty or not exist"},
			&cli.StringFlag{Name: "type", Usage: "comma-separated resource types (default: all)"},
			&cli.StringFlag{Name: "since", Usage: "only resources changed at or after this FHIR instant, such as 2024-01-01T00:00:00Z"},
			&cli.StringSliceFlag{Name: "patient", Usage: "export this patient's compartment (repeatable); 'all' for every patient"},
		},
		Action: func(c *cli.Context) error {
			log, err := newLogger(c)
			if err != nil {
				return err
			}
			params := emr.ExportParams{}
			if t := c.String("type"); t != "" {
				params.Types = strings.Split(t, ",")
			}
			if s := c.String("since"); s != "" {
				since, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return fmt.Errorf("export: --since must be an instant such as 2024-01-01T00:00:00Z")
				}
				params.Since = since
			}
			for _, p := range c.StringSlice("patient") {
				if p == "all" {
					params.PatientLevel = true
					continue
				}
				params.Patients = append(params.Patients, strings.TrimPrefix(p, "Patient/"))
			}
			out := c.String("out")
			if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
				return fmt.Errorf("export: %s is not empty", out)
			} else if err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("export: %w", err)
			}
			if err := os.MkdirAll(out, 0o750); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			db, svc, err := openServiceKeys(c.Context, c.String("db"), emr.Config{Logger: log}, masterKeyFrom(c))
			if err != nil {
				return err
			}
			defer db.Close()
			var files []*os.File
			var buffers []*bufio.Writer
			open := func(typ string) (io.Writer, error) {
				f, err := os.OpenFile(filepath.Join(out, typ+".ndjson"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
				if err != nil {
					return nil, err
				}
				files = append(files, f)
				w := bufio.NewWriterSize(f, 1<<20)
				buffers = append(buffers, w)
				return w, nil
			}
			start := time.Now()
			counts, exportErr := svc.Export(c.Context, params, open)
			for i, w := range buffers {
				if err := w.Flush(); err != nil && exportErr == nil {
					exportErr = err
				}
				if err := files[i].Close(); err != nil && exportErr == nil {
					exportErr = err
				}
			}
			if exportErr != nil {
				return fmt.Errorf("export: %w", exportErr)
			}
			types := make([]string, 0, len(counts))
			total := 0
			for t, n := range counts {
				types = append(types, t)
				total += n
			}
			sort.Strings(types)
			for _, t := range types {
				fmt.Fprintf(c.App.Writer, "%s.ndjson\t%d\n", t, counts[t])
			}
			elapsed := time.Since(start)
			fmt.Fprintf(c.App.Writer, "%d resources in %s (%.0f resources/s)\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
			return nil
		},
	}
}

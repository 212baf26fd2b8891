package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/security/audit"
	auditsql "github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

func emrStore(db *storage.DB) *sqlstore.Store { return sqlstore.New(db) }

func auditStore(db *storage.DB) *auditsql.Store { return auditsql.New(db) }

// openChecked opens the database and checks that its schema is current.
func openChecked(ctx context.Context, dsn string) (*storage.DB, error) {
	db, err := storage.Open(ctx, dsn, storage.Options{})
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx, schema()...); err != nil {
		db.Close()
		if errors.Is(err, storage.ErrSchemaOutdated) {
			return nil, fmt.Errorf("%w; run `nexusd migrate --db ...` with the same --db value first", err)
		}
		return nil, err
	}
	return db, nil
}

// openAudit returns the audit log on db. protectDB must have run first, so
// that the signing key is sealed when the database is encrypted.
func openAudit(ctx context.Context, db *storage.DB, log *slog.Logger) (*audit.Log, error) {
	return audit.Open(ctx, auditStore(db), audit.Config{Logger: log})
}

// emrEvents reads the clinical record's outbox for the audit Follower.
type emrEvents struct{ svc *emr.Service }

func (s emrEvents) Events(ctx context.Context, after int64, limit int) ([]audit.Event, error) {
	events, err := s.svc.Events(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]audit.Event, len(events))
	for i, e := range events {
		var data struct {
			Method string `json:"method"`
			// Patients is nil in events written before emr recorded the
			// compartment patients of each version.
			Patients []string `json:"patients"`
		}
		json.Unmarshal(e.Data, &data)
		patients := data.Patients
		if patients == nil {
			if id := s.patientOf(ctx, e); id != "" {
				patients = []string{id}
			}
		}
		out[i] = audit.Event{Position: e.Position, Topic: e.Topic, Type: e.Type, ID: e.ID, Version: e.Version,
			Author: e.Author, Time: e.Time, Method: data.Method, Patients: patients}
	}
	return out, nil
}

// patientOf returns the patient whose record an event changed, for
// events without a patients list: the resource itself for a Patient,
// else the patient its subject or patient element references. A deletion
// has no body, so it returns "" for one.
func (s emrEvents) patientOf(ctx context.Context, e emr.Event) string {
	if e.Type == "Patient" {
		return e.ID
	}
	if e.Version == 0 {
		return ""
	}
	res, err := s.svc.VRead(ctx, e.Type, e.ID, e.Version)
	if err != nil || res.Body == nil {
		return ""
	}
	var body struct {
		Subject *struct{ Reference string } `json:"subject"`
		Patient *struct{ Reference string } `json:"patient"`
	}
	if json.Unmarshal(res.Body, &body) != nil {
		return ""
	}
	for _, ref := range []*struct{ Reference string }{body.Subject, body.Patient} {
		if ref != nil && strings.HasPrefix(ref.Reference, "Patient/") {
			return strings.TrimPrefix(ref.Reference, "Patient/")
		}
	}
	return ""
}

// schedulingEvents reads the scheduling outbox for the audit Follower.
type schedulingEvents struct{ svc *scheduling.Service }

func (s schedulingEvents) Events(ctx context.Context, after int64, limit int) ([]audit.Event, error) {
	events, err := s.svc.Events(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]audit.Event, len(events))
	for i, e := range events {
		var data struct {
			Actor        string   `json:"actor"`
			Participants []string `json:"participants"`
		}
		json.Unmarshal(e.Data, &data)
		ev := audit.Event{Position: e.Position, Topic: e.Type, Time: e.Time, Author: data.Actor}
		if e.AppointmentID != "" {
			ev.Type, ev.ID, ev.Version = "Appointment", e.AppointmentID, e.Version
		}
		for _, p := range data.Participants {
			if id, ok := strings.CutPrefix(p, "Patient/"); ok && !slices.Contains(ev.Patients, id) {
				ev.Patients = append(ev.Patients, id)
			}
		}
		out[i] = ev
	}
	return out, nil
}

// startAudit starts the audit Followers of the clinical record and
// scheduling outboxes and, when the database is encrypted, the background
// key reload and rewrap. They run until ctx ends or stop is called. It
// returns the audit log for the request paths. Call stop before closing
// db, because a follower that finds the database closed logs an error.
func startAudit(ctx context.Context, db *storage.DB, svc *emr.Service, sched *scheduling.Service,
	logger *slog.Logger) (log *audit.Log, stop func(), err error) {
	log, err = openAudit(ctx, db, logger)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { log.Follow("emr", emrEvents{svc: svc}, audit.FollowerConfig{}).Run(ctx) })
	if sched != nil {
		wg.Go(func() { log.Follow("scheduling", schedulingEvents{svc: sched}, audit.FollowerConfig{}).Run(ctx) })
	}
	if ring := ringOf(db); ring != nil {
		wg.Go(func() { ring.RunBackground(ctx, rewrappers(db)...) })
	}
	stop = func() {
		cancel()
		wg.Wait()
	}
	return log, stop, nil
}

// openAuditAdmin opens the database and audit log for an audit command.
func openAuditAdmin(c *cli.Context) (*storage.DB, *audit.Log, error) {
	return openAuditFor(c, true)
}

// openAuditFor opens the database and audit log for an audit command.
// Without create, a database without an audit signing key is an error
// instead of getting a new, empty log, so that verify never passes a log
// whose key, entries and head were all removed.
func openAuditFor(c *cli.Context, create bool) (*storage.DB, *audit.Log, error) {
	logger, err := newLogger(c)
	if err != nil {
		return nil, nil, err
	}
	db, err := openChecked(c.Context, c.String("db"))
	if err != nil {
		return nil, nil, err
	}
	if _, err := protectDB(c.Context, db, masterKeyFrom(c), logger); err != nil {
		db.Close()
		return nil, nil, err
	}
	if !create {
		if _, err := auditStore(db).SigningKey(c.Context); errors.Is(err, audit.ErrNotFound) {
			db.Close()
			return nil, nil, fmt.Errorf("the database has no audit signing key: `nexusd serve` never opened its audit log, "+
				"or the key was removed with the entries: %w", audit.ErrNotFound)
		}
	}
	log, err := openAudit(c.Context, db, logger)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, log, nil
}

func init() {
	registerCommand(auditCommand)
}

func auditCommand() *cli.Command {
	dbFlags := []cli.Flag{dbFlag(), masterKeyFlag()}
	return &cli.Command{
		Name:  "audit",
		Usage: "verify the audit log, export signed checkpoints and list who accessed a patient's record",
		Subcommands: []*cli.Command{
			{
				Name:  "verify",
				Usage: "check every entry's hash, link and MAC and that every clinical record outbox event the log reached has an entry (non-zero exit status at the first problem)",
				Flags: dbFlags,
				Action: func(c *cli.Context) error {
					db, log, err := openAuditFor(c, false)
					if err != nil {
						return err
					}
					defer db.Close()
					rep, err := log.Verify(c.Context)
					if err != nil {
						return err
					}
					if err := rep.Err(); err != nil {
						return err
					}
					if err := checkOutboxCoverage(c.Context, db); err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "audit log verified: %d entries\n", rep.Checked)
					return nil
				},
			},
			{
				Name:  "checkpoint",
				Usage: "sign the current head of the audit log and write it, with the public key, to a JSON file",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "out", Required: true, Usage: "checkpoint file to write, which must not exist yet"},
					&cli.StringFlag{Name: "export", Usage: "also write the entries up to the checkpoint to this NDJSON file"},
				}, dbFlags...),
				Action: runCheckpoint,
			},
			{
				Name:  "check",
				Usage: "check a checkpoint file against the database or an exported log, without the private key",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "checkpoint", Required: true, Usage: "checkpoint file from `nexusd audit checkpoint`"},
					&cli.StringFlag{Name: "log", Usage: "exported NDJSON log to check instead of the database"},
					&cli.StringFlag{Name: "public-key", Usage: "base64 Ed25519 public key the checkpoint must be signed with (default: the key in the file)"},
				}, dbFlags...),
				Action: runCheck,
			},
			{
				Name:  "access",
				Usage: "list who read, searched, changed or exported a patient's record, newest first",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "patient", Required: true, Usage: "patient id"},
					&cli.IntFlag{Name: "count", Value: 50, Usage: "maximum number of entries"},
					&cli.StringFlag{Name: "format", Value: "text", Usage: "text, or fhir for one AuditEvent JSON a line"},
				}, dbFlags...),
				Action: runAccess,
			},
		},
	}
}

func runCheckpoint(c *cli.Context) error {
	db, log, err := openAuditAdmin(c)
	if err != nil {
		return err
	}
	defer db.Close()

	cp, err := log.Checkpoint(c.Context)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(c.String("out"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	if err := audit.WriteCheckpoint(f, cp); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}

	if path := c.String("export"); path != "" {
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("audit checkpoint: %w", err)
		}
		n, err := audit.Export(c.Context, auditStore(db), cp.Seq, out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "exported %d entries to %s\n", n, path)
	}
	fmt.Fprintf(c.App.Writer, "checkpoint at entry %d signed by key %s written to %s\n", cp.Seq, cp.KeyID, c.String("out"))
	return nil
}

func runCheck(c *cli.Context) error {
	f, err := os.Open(c.String("checkpoint"))
	if err != nil {
		return fmt.Errorf("audit check: %w", err)
	}
	cp, err := audit.ReadCheckpoint(f)
	f.Close()
	if err != nil {
		return err
	}
	var trusted ed25519.PublicKey
	if text := c.String("public-key"); text != "" {
		key, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return fmt.Errorf("audit check: --public-key must be a base64 Ed25519 public key of %d bytes", ed25519.PublicKeySize)
		}
		trusted = key
	}

	var src audit.Scanner
	if path := c.String("log"); path != "" {
		lf, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("audit check: %w", err)
		}
		exported, err := audit.ReadExport(lf)
		lf.Close()
		if err != nil {
			return err
		}
		src = exported
	} else {
		db, err := openChecked(c.Context, c.String("db"))
		if err != nil {
			return err
		}
		defer db.Close()
		src = auditStore(db)
	}

	rep, err := audit.CheckCheckpoint(c.Context, cp, trusted, src)
	if err != nil {
		return err
	}
	if err := rep.Err(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "checkpoint at entry %d holds: %d entries verified\n", cp.Seq, rep.Checked)
	return nil
}

func runAccess(c *cli.Context) error {
	format := c.String("format")
	if format != "text" && format != "fhir" {
		return fmt.Errorf("audit access: invalid --format %q: use text or fhir", format)
	}
	db, log, err := openAuditAdmin(c)
	if err != nil {
		return err
	}
	defer db.Close()
	page, err := log.Access(c.Context, audit.AccessQuery{Patient: strings.TrimPrefix(c.String("patient"), "Patient/"), Count: c.Int("count")})
	if err != nil {
		return err
	}
	for _, e := range page.Entries {
		if format == "fhir" {
			data, err := audit.AuditEventJSON(e)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, string(data))
			continue
		}
		what := e.What
		if e.Query != "" {
			what = strings.TrimSpace(what + " " + e.Query)
		}
		fmt.Fprintf(c.App.Writer, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Recorded.Format(time.RFC3339), e.Agent.Who,
			e.Agent.Address, e.Subtype, outcomeText(e.Outcome), what)
	}
	return nil
}

func outcomeText(o audit.Outcome) string {
	if o == audit.OutcomeSuccess {
		return "success"
	}
	return "failure " + string(o)
}

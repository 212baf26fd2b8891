// Command embedemr shows how another Go application embeds the Nexus
// clinical record on SQLite: it registers a patient, records an encounter
// and an observation, and searches them.
//
//	go run ./examples/embedemr [-db sqlite:PATH]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

func main() {
	dsn := flag.String("db", "", "database (default: a new SQLite file in a temporary folder)")
	flag.Parse()
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "embedemr-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(dir)
		*dsn = "sqlite:" + filepath.Join(dir, "clinic.db")
	}
	if err := run(context.Background(), *dsn, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embedemr:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dsn string, out io.Writer) error {
	db, err := storage.Open(ctx, dsn, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		return err
	}
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{MRNPrefix: "CLN"})
	if err != nil {
		return err
	}
	ctx = emr.ContextWithActor(ctx, "user/front-desk")

	reg, err := svc.RegisterPatient(ctx, emr.RegisterParams{Patient: []byte(`{
		"resourceType": "Patient",
		"name": [{"family": "Example", "given": ["Robin"]}],
		"gender": "other",
		"birthDate": "1990-04-12"
	}`)})
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	fmt.Fprintf(out, "registered patient with MRN %s\n", reg.MRN)
	patientRef := "Patient/" + reg.Patient.ID

	enc, err := svc.Create(ctx, "Encounter", []byte(`{
		"resourceType": "Encounter",
		"status": "finished",
		"class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
		"subject": {"reference": "`+patientRef+`"},
		"period": {"start": "2026-03-02T09:00:00+01:00", "end": "2026-03-02T09:20:00+01:00"}
	}`))
	if err != nil {
		return fmt.Errorf("record encounter: %w", err)
	}
	fmt.Fprintln(out, "recorded an ambulatory encounter")

	_, err = svc.Create(ctx, "Observation", []byte(`{
		"resourceType": "Observation",
		"status": "final",
		"category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
		"code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
		"subject": {"reference": "`+patientRef+`"},
		"encounter": {"reference": "Encounter/`+enc.ID+`"},
		"effectiveDateTime": "2026-03-02T09:05:00+01:00",
		"valueQuantity": {"value": 72, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}
	}`))
	if err != nil {
		return fmt.Errorf("record observation: %w", err)
	}
	fmt.Fprintln(out, "recorded a heart rate of 72/min")

	found, err := svc.Search(ctx, "Observation", url.Values{
		"subject": {patientRef},
		"code":    {"http://loinc.org|8867-4"},
		"date":    {"ge2026-03-02"},
	})
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	fmt.Fprintf(out, "heart rate observations since 2026-03-02: %d\n", len(found.Resources))

	byName, err := svc.Search(ctx, "Patient", url.Values{"name": {"exam"}, "birthdate": {"1990"}})
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	fmt.Fprintf(out, "patients named Exam* born in 1990: %d\n", len(byName.Resources))
	return nil
}

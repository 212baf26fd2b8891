// Command benchgen writes synthetic FHIR Patients and Observations as
// NDJSON for load benchmarks, and wrk scripts that read and search them.
//
//	go run ./internal/benchgen -n 100000 [-observations 1000000] -out /tmp/bench
//
// It writes patients-*.ndjson and observations-*.ndjson (import them with
// nexusd import), read.lua (patients by id), search.lua (patients by family
// and birth date) and observations.lua (observations by patient, code and
// date).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

var (
	families = []string{"Tester", "Example", "Sample", "Dummy", "Fixture", "Mock", "Synthetic", "Placeholder"}
	givens   = []string{"Ava", "Ben", "Cleo", "Dario", "Emil", "Faye", "Gus", "Hana", "Ike", "Kai", "Lina"}
)

func main() {
	n := flag.Int("n", 100000, "number of patients")
	out := flag.String("out", ".", "output folder")
	perFile := flag.Int("per-file", 5000, "resources per NDJSON file")
	observations := flag.Int("observations", 0, "number of Observations, spread over the patients")
	flag.Parse()
	if err := run(*n, *perFile, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
	if err := writeObservations(*observations, *n, *perFile, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

func run(n, perFile int, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var f *os.File
	var w *bufio.Writer
	closeFile := func() error {
		if f == nil {
			return nil
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Close()
	}
	for i := 0; i < n; i++ {
		if i%perFile == 0 {
			if err := closeFile(); err != nil {
				return err
			}
			var err error
			f, err = os.Create(filepath.Join(out, fmt.Sprintf("patients-%04d.ndjson", i/perFile)))
			if err != nil {
				return err
			}
			w = bufio.NewWriter(f)
		}
		p := map[string]any{
			"resourceType": "Patient",
			"id":           fmt.Sprintf("bench-%06d", i),
			"identifier":   []any{map[string]any{"system": "urn:bench:mrn", "value": fmt.Sprintf("B%07d", i)}},
			"name": []any{map[string]any{
				"family": families[rng.IntN(len(families))],
				"given":  []any{givens[rng.IntN(len(givens))]},
			}},
			"gender":    []string{"male", "female", "other"}[rng.IntN(3)],
			"birthDate": fmt.Sprintf("%04d-%02d-%02d", 1930+rng.IntN(90), 1+rng.IntN(12), 1+rng.IntN(28)),
			"address":   []any{map[string]any{"city": "Springfield", "postalCode": fmt.Sprintf("%05d", rng.IntN(99999))}},
		}
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := closeFile(); err != nil {
		return err
	}
	lua := fmt.Sprintf(`-- Reads random patients by id.
math.randomseed(42)
request = function()
  return wrk.format("GET", string.format("/fhir/Patient/bench-%%06d", math.random(0, %d)))
end
`, n-1)
	if err := os.WriteFile(filepath.Join(out, "read.lua"), []byte(lua), 0o644); err != nil {
		return err
	}
	search := `-- Searches patients by family name and birth date.
math.randomseed(7)
local families = {"Tester", "Example", "Sample", "Dummy", "Fixture", "Mock", "Synthetic", "Placeholder"}
request = function()
  return wrk.format("GET", string.format("/fhir/Patient?family=%s&birthdate=%04d-%02d-%02d",
    families[math.random(1, #families)], 1930 + math.random(0, 89), math.random(1, 12), math.random(1, 28)))
end
`
	return os.WriteFile(filepath.Join(out, "search.lua"), []byte(search), 0o644)
}

// loinc lists vital-sign codes the synthetic observations use.
var loinc = []string{"8867-4", "8480-6", "8462-4", "8310-5", "9279-1", "29463-7", "8302-2", "2708-6"}

// writeObservations writes n Observations over the given number of
// patients, with codes from loinc and dates over 2020 to 2024, and a wrk
// script that searches them by patient, code and date.
func writeObservations(n, patients, perFile int, out string) error {
	if n == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var f *os.File
	var w *bufio.Writer
	for i := 0; i < n; i++ {
		if i%perFile == 0 {
			if f != nil {
				if err := w.Flush(); err != nil {
					return err
				}
				f.Close()
			}
			var err error
			f, err = os.Create(filepath.Join(out, fmt.Sprintf("observations-%04d.ndjson", i/perFile)))
			if err != nil {
				return err
			}
			w = bufio.NewWriter(f)
		}
		day := rng.IntN(5 * 365)
		o := map[string]any{
			"resourceType": "Observation",
			"id":           fmt.Sprintf("bench-obs-%07d", i),
			"status":       "final",
			"code": map[string]any{"coding": []any{map[string]any{
				"system": "http://loinc.org", "code": loinc[rng.IntN(len(loinc))],
			}}},
			"subject":           map[string]any{"reference": fmt.Sprintf("Patient/bench-%06d", rng.IntN(patients))},
			"effectiveDateTime": dateAfter2020(day),
			"valueQuantity":     map[string]any{"value": json.Number(fmt.Sprintf("%d.%d", 40+rng.IntN(120), rng.IntN(10))), "unit": "1", "system": "http://unitsofmeasure.org", "code": "1"},
		}
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f.Close()
	lua := fmt.Sprintf(`-- Searches observations by patient, code and year.
math.randomseed(11)
local codes = {"8867-4", "8480-6", "8462-4", "8310-5", "9279-1", "29463-7", "8302-2", "2708-6"}
request = function()
  return wrk.format("GET", string.format("/fhir/Observation?patient=Patient/bench-%%06d&code=http://loinc.org|%%s&date=ge%%d-01-01",
    math.random(0, %d), codes[math.random(1, #codes)], math.random(2020, 2024)))
end
`, patients-1)
	return os.WriteFile(filepath.Join(out, "observations.lua"), []byte(lua), 0o644)
}

func dateAfter2020(days int) string {
	t := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC).AddDate(0, 0, days)
	return t.Format(time.RFC3339)
}

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
	"os"
	"path/filepath"

	"github.com/nexus-health-360/nexus/internal/benchdata"
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
	rng := benchdata.PatientSource()
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
		p := benchdata.Patient(rng, i)
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

// writeObservations writes n Observations over the given number of
// patients, with codes from loinc and dates over 2020 to 2024, and a wrk
// script that searches them by patient, code and date.
func writeObservations(n, patients, perFile int, out string) error {
	if n == 0 {
		return nil
	}
	rng := benchdata.ObservationSource()
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
		o := benchdata.Observation(rng, i, patients)
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

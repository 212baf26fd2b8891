// Command benchgen writes synthetic FHIR Patients as NDJSON for load
// benchmarks, and a wrk script that reads them by id in random order.
//
//	go run ./internal/benchgen -n 100000 -out /tmp/bench
//
// It writes patients.ndjson (import it with nexusd import) and read.lua.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

var (
	families = []string{"Tester", "Example", "Sample", "Dummy", "Fixture", "Mock", "Synthetic", "Placeholder"}
	givens   = []string{"Ava", "Ben", "Cleo", "Dario", "Emil", "Faye", "Gus", "Hana", "Ike", "Kai", "Lina"}
)

func main() {
	n := flag.Int("n", 100000, "number of patients")
	out := flag.String("out", ".", "output folder")
	perFile := flag.Int("per-file", 5000, "patients per NDJSON file; each file is one import transaction")
	flag.Parse()
	if err := run(*n, *perFile, *out); err != nil {
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
	return os.WriteFile(filepath.Join(out, "read.lua"), []byte(lua), 0o644)
}

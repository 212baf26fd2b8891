// Package benchdata generates the synthetic Patients and Observations of
// the load benchmarks, so the NDJSON files of internal/benchgen and the Go
// search benchmarks hold the same resources. Each generator is
// deterministic: the same index and the same random source in the same
// state give the same resource. The data is invented and names no real
// person.
package benchdata

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Families are the family names of the synthetic patients, each given to
// about an eighth of them.
var Families = []string{"Tester", "Example", "Sample", "Dummy", "Fixture", "Mock", "Synthetic", "Placeholder"}

var givens = []string{"Ava", "Ben", "Cleo", "Dario", "Emil", "Faye", "Gus", "Hana", "Ike", "Kai", "Lina"}

// LOINC lists the vital-sign codes of the synthetic observations, each
// used by about an eighth of them.
var LOINC = []string{"8867-4", "8480-6", "8462-4", "8310-5", "9279-1", "29463-7", "8302-2", "2708-6"}

// PatientSource returns the random source that Patient draws from for a
// run of patients 0, 1, 2 and so on.
func PatientSource() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

// ObservationSource returns the random source of Observation.
func ObservationSource() *rand.Rand { return rand.New(rand.NewPCG(3, 4)) }

// PatientID is the id of patient i.
func PatientID(i int) string { return fmt.Sprintf("bench-%06d", i) }

// Patient returns patient i: an identifier, one name, a gender, a birth
// date from 1930 to 2019 and an address.
func Patient(rng *rand.Rand, i int) map[string]any {
	return map[string]any{
		"resourceType": "Patient",
		"id":           PatientID(i),
		"identifier":   []any{map[string]any{"system": "urn:bench:mrn", "value": fmt.Sprintf("B%07d", i)}},
		"name": []any{map[string]any{
			"family": Families[rng.IntN(len(Families))],
			"given":  []any{givens[rng.IntN(len(givens))]},
		}},
		"gender":    []string{"male", "female", "other"}[rng.IntN(3)],
		"birthDate": fmt.Sprintf("%04d-%02d-%02d", 1930+rng.IntN(90), 1+rng.IntN(12), 1+rng.IntN(28)),
		"address":   []any{map[string]any{"city": "Springfield", "postalCode": fmt.Sprintf("%05d", rng.IntN(99999))}},
	}
}

// Observation returns observation i of a random one of patients: a LOINC
// code from LOINC, a date from 2020 to 2024 and a quantity.
func Observation(rng *rand.Rand, i, patients int) map[string]any {
	day := rng.IntN(5 * 365)
	return map[string]any{
		"resourceType": "Observation",
		"id":           fmt.Sprintf("bench-obs-%07d", i),
		"status":       "final",
		"code": map[string]any{"coding": []any{map[string]any{
			"system": "http://loinc.org", "code": LOINC[rng.IntN(len(LOINC))],
		}}},
		"subject":           map[string]any{"reference": "Patient/" + PatientID(rng.IntN(patients))},
		"effectiveDateTime": dateAfter2020(day),
		"valueQuantity": map[string]any{
			"value": json.Number(fmt.Sprintf("%d.%d", 40+rng.IntN(120), rng.IntN(10))),
			"unit":  "1", "system": "http://unitsofmeasure.org", "code": "1",
		},
	}
}

func dateAfter2020(days int) string {
	t := time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC).AddDate(0, 0, days)
	return t.Format(time.RFC3339)
}

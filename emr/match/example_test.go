package match_test

import (
	"fmt"

	"github.com/nexus-health-360/nexus/emr/match"
)

func ExampleCompare() {
	existing := match.Person{
		Names:     []match.Name{{Family: "Smith", Given: []string{"Catherine"}}},
		BirthDate: "1980-03-04",
		Sex:       "female",
		Phones:    []string{"+1 217 555 0142"},
	}
	incoming := match.Person{
		Names:     []match.Name{{Family: "Smyth", Given: []string{"Kathryn"}}},
		BirthDate: "1980-03-04",
		Sex:       "female",
		Phones:    []string{"(217) 555-0142"},
	}

	result := match.Compare(existing, incoming, match.Config{})
	fmt.Printf("score %.3f, duplicate %t\n", result.Score, result.AboveThreshold)
	for _, f := range result.Fields {
		fmt.Printf("%s %s %+.1f\n", f.Field, f.Kind, f.Weight)
	}
	// Output:
	// score 0.991, duplicate true
	// name phonetic +7.5
	// birthDate exact +14.5
	// sex exact +1.0
	// phone exact +5.9
}

func ExampleCompare_twins() {
	sister := match.Person{
		Names:     []match.Name{{Family: "Whitaker", Given: []string{"Emma"}}},
		BirthDate: "2015-06-01",
		Sex:       "female",
		Addresses: []match.Address{{Lines: []string{"12 Orchard Lane"}, PostalCode: "62704"}},
	}
	brother := sister
	brother.Names = []match.Name{{Family: "Whitaker", Given: []string{"Jacob"}}}
	brother.Sex = "male"

	result := match.Compare(sister, brother, match.Config{})
	fmt.Printf("score %.3f, duplicate %t\n", result.Score, result.AboveThreshold)
	// Output:
	// score 0.065, duplicate false
}

func ExampleFromPatient() {
	patient := map[string]any{
		"resourceType": "Patient",
		"name":         []any{map[string]any{"family": "Müller", "given": []any{"José"}}},
		"birthDate":    "1961-11",
		"gender":       "male",
		"telecom":      []any{map[string]any{"system": "phone", "value": "030 1234567"}},
	}
	p := match.FromPatient(patient)
	fmt.Println(p.Names[0].Family, p.Names[0].Given, p.BirthDate, p.Sex, p.Phones)
	// Output:
	// Müller [José] 1961-11 male [030 1234567]
}

func ExampleConfig_Validate() {
	cfg := match.Config{Threshold: 0.95}.WithDefaults()
	fmt.Println(cfg.Validate())

	cfg.Phone.Exact.M = 2
	fmt.Println(cfg.Validate())
	// Output:
	// <nil>
	// match: invalid config: Phone.Exact.M is 2, want a probability in (0, 1]
}

package searchparam_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

func ExampleRegistry_Extract() {
	dec := json.NewDecoder(strings.NewReader(`{
		"resourceType": "Patient",
		"id": "p1",
		"name": [{"family": "Παπαδοπούλου", "given": ["Zoë"]}],
		"birthDate": "1973-06"
	}`))
	dec.UseNumber()
	var patient map[string]any
	if err := dec.Decode(&patient); err != nil {
		panic(err)
	}
	entries, err := searchparam.R4().Extract("Patient", patient)
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		switch e.Param {
		case "family", "given":
			fmt.Printf("%s %s %s\n", e.Param, e.Text, e.Exact)
		case "birthdate":
			fmt.Printf("%s [%d, %d)\n", e.Param, e.DateLo, e.DateHi)
		}
	}
	// Output:
	// birthdate [107740800000000, 110332800000000)
	// family παπαδοπουλου Παπαδοπούλου
	// given zoe Zoë
}

func ExampleRegistry_Lookup() {
	def, ok := searchparam.R4().Lookup("Observation", "patient")
	fmt.Println(ok, def.Type, def.Expression, def.Targets)
	// Output: true reference Observation.subject.where(resolve() is Patient) [Patient]
}

func ExampleFoldString() {
	fmt.Println(searchparam.FoldString("ΠΑΠΑΔΟΠΟΎΛΟΥ"), searchparam.FoldString("Zoe\u0308"))
	// Output: παπαδοπουλου zoe
}

func ExampleParseDate() {
	lo, hi, err := searchparam.ParseDate("2012-09-10T15:29:24+02:00")
	fmt.Println(lo, hi, err)
	// Output: 1347283764000000 1347283765000000 <nil>
}

func ExampleParseNumber() {
	v, lo, hi, err := searchparam.ParseNumber("140.0")
	fmt.Println(v, lo, hi, err)
	// Output: 140 139.95 140.05 <nil>
}

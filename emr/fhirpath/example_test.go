package fhirpath_test

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
)

func ExampleCompile() {
	dec := json.NewDecoder(strings.NewReader(`{
		"resourceType": "Observation",
		"subject": {"reference": "Patient/p1"},
		"valueQuantity": {"value": 140.0, "unit": "cm"}
	}`))
	dec.UseNumber()
	var observation map[string]any
	if err := dec.Decode(&observation); err != nil {
		panic(err)
	}

	value := fhirpath.MustCompile("Observation.value.ofType(Quantity)")
	nodes, err := value.Evaluate(observation)
	if err != nil {
		panic(err)
	}
	fmt.Println(nodes[0].Type, nodes[0].Value.(map[string]any)["value"])

	patient, err := fhirpath.Compile("Observation.subject.where(resolve() is Patient).reference")
	if err != nil {
		panic(err)
	}
	nodes, err = patient.Evaluate(observation)
	if err != nil {
		panic(err)
	}
	fmt.Println(nodes[0].Value)
	// Output:
	// Quantity 140.0
	// Patient/p1
}

func ExampleParseReference() {
	resourceType, id, version, ok := fhirpath.ParseReference("http://example.org/fhir/Patient/p1/_history/2")
	fmt.Println(resourceType, id, version, ok)
	// Output: Patient p1 2 true
}

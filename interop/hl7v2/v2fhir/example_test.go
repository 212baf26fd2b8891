package v2fhir_test

import (
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

func ExampleConvert() {
	message := strings.Join([]string{
		`MSH|^~\&|ADTSYS|HOSP|EHR|HOSP|20240301101500-0500||ADT^A01^ADT_A01|CTRL0001|P|2.5`,
		`EVN|A01|20240301101500-0500`,
		`PID|1||100001^^^HOSP^MR||TESTER^AVA||19800101|F`,
		`PV1|1|I|4E^401^2^HOSP||||1234^DOCTOR^DANA^^^^^^HOSP||||||||||||V100^^^HOSP^VN|||||||||||||||||||||||||20240301100000-0500`,
	}, "\r") + "\r"
	msg, err := hl7v2.Parse([]byte(message), hl7v2.ParseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := v2fhir.Convert(msg, v2fhir.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Event, plan.Key.ControlID, plan.ResourceTypes())
	// Output: ADT^A01 CTRL0001 [Patient Practitioner Encounter]
}

package hl7v2_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

var exampleMessage = strings.Join([]string{
	`MSH|^~\&|ADTSYS|HOSP|LABSYS|LAB|20240301101500-0500||ADT^A01|CTRL0001|P|2.5`,
	`PID|1||100001^^^HOSP^MR~200002^^^STATE^SS||TESTER^AVA||19800101|F`,
}, "\r") + "\r"

func ExampleParse() {
	msg, err := hl7v2.Parse([]byte(exampleMessage), hl7v2.ParseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ids, _ := msg.Count("PID-3")
	fmt.Println(msg.Get("MSH-9"), msg.Get("PID-5.1"), ids, msg.Get("PID-3[2].4"))
	// Output: ADT^A01 TESTER 2 STATE
}

func ExampleParse_lenient() {
	lf := strings.ReplaceAll(exampleMessage, "\r", "\n")
	_, err := hl7v2.Parse([]byte(lf), hl7v2.ParseOptions{})
	fmt.Println(hl7v2.Errors(err)[0].Kind)

	msg, err := hl7v2.Parse([]byte(lf), hl7v2.ParseOptions{Lenient: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := msg.Encode(hl7v2.WriteOptions{})
	fmt.Println(len(msg.Segments()), strings.Count(string(out), "\r"))
	// Output:
	// segment terminator
	// 2 2
}

func ExampleMessage_Set() {
	msg, _ := hl7v2.Parse([]byte(exampleMessage), hl7v2.ParseOptions{})
	_ = msg.Set("PID-5.2", "AVA & MAE")
	_ = msg.SetNull("PID-7")
	out, _ := msg.Encode(hl7v2.WriteOptions{})
	fmt.Println(strings.Split(string(out), "\r")[1])
	// Output: PID|1||100001^^^HOSP^MR~200002^^^STATE^SS||TESTER^AVA \T\ MAE||""|F
}

func ExampleMessage_Lookup() {
	msg, _ := hl7v2.Parse([]byte(exampleMessage), hl7v2.ParseOptions{})
	for _, path := range []string{"PID-5", "PID-4", "PID-30"} {
		v, _ := msg.Lookup(path)
		fmt.Printf("%s %s %q\n", path, v.State, v.Raw)
	}
	// Output:
	// PID-5 valued "TESTER^AVA"
	// PID-4 empty ""
	// PID-30 absent ""
}

func ExampleParseDateTime() {
	dt, _ := hl7v2.ParseDateTime("20240311140114.1234+0800", false)
	fhir, _ := dt.FHIR()
	fmt.Println(dt.Precision == hl7v2.PrecisionFraction, fhir)

	local, _ := hl7v2.ParseDateTime("202403130900", false)
	_, err := local.FHIR()
	fmt.Println(err)
	completed, _ := local.Complete(time.FixedZone("", -6*3600))
	fhir, _ = completed.FHIR()
	fmt.Println(fhir)
	// Output:
	// true 2024-03-11T14:01:14.1234+08:00
	// hl7v2: timestamp has no offset and no default time zone is configured
	// 2024-03-13T09:00:00-06:00
}

func ExampleBuildACK() {
	header, _ := hl7v2.ParseHeader([]byte(exampleMessage))
	now := time.Date(2024, 3, 1, 10, 15, 1, 0, time.FixedZone("", -5*3600))
	errs := []*hl7v2.ParseError{{Kind: hl7v2.KindDataType, SegmentID: "PID", Occurrence: 1, Field: 7}}
	ack, _ := hl7v2.BuildACK(header, hl7v2.AckError, errs, now, "ACK0001")
	for _, segment := range strings.Split(strings.TrimSuffix(string(ack), "\r"), "\r") {
		fmt.Println(segment)
	}
	// Output:
	// MSH|^~\&|LABSYS|LAB|ADTSYS|HOSP|20240301101501-0500||ACK^A01^ACK|ACK0001|P|2.5
	// MSA|AE|CTRL0001
	// ERR||PID^1^7|102^Data type error^HL70357|E
}

func ExampleParseFile() {
	second := strings.ReplaceAll(exampleMessage, "CTRL0001", "CTRL0002")
	file, err := hl7v2.ParseFile([]byte(exampleMessage+second), hl7v2.ParseOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range file.Messages() {
		fmt.Println(m.Get("MSH-10"))
	}
	// Output:
	// CTRL0001
	// CTRL0002
}

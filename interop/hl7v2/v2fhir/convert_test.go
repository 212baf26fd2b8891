package v2fhir_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

// supportedEvents are the message types Convert maps.
var supportedEvents = map[string]bool{
	"ADT^A01": true, "ADT^A02": true, "ADT^A03": true, "ADT^A04": true, "ADT^A05": true,
	"ADT^A06": true, "ADT^A07": true, "ADT^A08": true, "ADT^A11": true, "ADT^A12": true,
	"ADT^A13": true, "ADT^A28": true, "ADT^A31": true, "ADT^A40": true, "ORU^R01": true,
}

func TestConvertTestdataMessages(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		"../testdata/microsoft-fhir-converter/ADT*", "../testdata/microsoft-fhir-converter/*ORU*",
		"../testdata/hapi-hl7v2/*", "../testdata/efferent-hl7-dotnetcore/*", "../testdata/rethinkhealth-hl7v2/*/*",
	} {
		matches, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, matches...)
	}
	require.NotEmpty(t, files)
	// expectedFailures are fixtures that cannot be mapped, with the
	// location of the error.
	expectedFailures := map[string]string{
		"edge-empty-segments.hl7": "PID-3", // a PID without any identifier
	}
	converted := 0
	for _, path := range files {
		if strings.Contains(filepath.Base(path), "invalid-") {
			continue
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		file, err := hl7v2.ParseFile(data, hl7v2.ParseOptions{Lenient: true})
		require.NoError(t, err, path)
		for i, msg := range file.Messages() {
			hdr := msg.Header()
			event := hdr.MessageCode + "^" + hdr.TriggerEvent
			if !supportedEvents[event] {
				continue
			}
			plan, err := v2fhir.Convert(msg, v2fhir.Options{DefaultZone: time.UTC})
			if location, ok := expectedFailures[filepath.Base(path)]; ok {
				var list v2fhir.ErrorList
				if assert.True(t, errors.As(err, &list), "%s fails", path) {
					assert.Equal(t, location, list[0].Location())
				}
				continue
			}
			if assert.NoError(t, err, "%s message %d (%s)", path, i+1, event) {
				assert.True(t, json.Valid(plan.Bundle), "%s: bundle is valid JSON", path)
				converted++
			}
		}
	}
	assert.Greater(t, converted, 30, "messages converted")
}

func readMessage(t *testing.T, path string) *hl7v2.Message {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	msg, err := hl7v2.Parse(data, hl7v2.ParseOptions{Lenient: true})
	require.NoError(t, err)
	return msg
}

func TestConvertTestdataADTFields(t *testing.T) {
	msg := readMessage(t, "../testdata/microsoft-fhir-converter/ADT-A01-01.hl7")
	plan, err := v2fhir.Convert(msg, v2fhir.Options{})
	require.NoError(t, err)

	patient := resource(t, plan, "Patient")
	assert.Equal(t, "male", patient["gender"])
	assert.Equal(t, "1988-08-18", patient["birthDate"])
	names := patient["name"].([]any)
	require.Len(t, names, 2)
	assert.Equal(t, "EVERYMAN", names[0].(map[string]any)["family"])
	assert.Equal(t, "official", names[1].(map[string]any)["use"])
	ids := patient["identifier"].([]any)
	require.Len(t, ids, 2)
	assert.Equal(t, "PATID1234", ids[0].(map[string]any)["value"])

	encounter := resource(t, plan, "Encounter")
	assert.Equal(t, "in-progress", encounter["status"])
	assert.Equal(t, "PRENC", encounter["class"].(map[string]any)["code"])
	assert.Equal(t, "2015-02-08T11:34:19+01:10", encounter["period"].(map[string]any)["start"])
	assert.Equal(t, "Patient?"+plan.Entries[0].Criteria, encounter["subject"].(map[string]any)["reference"])
}

func TestConvertTestdataORUFields(t *testing.T) {
	msg := readMessage(t, "../testdata/microsoft-fhir-converter/LAB-ORU-1.hl7")
	plan, err := v2fhir.Convert(msg, v2fhir.Options{})
	require.NoError(t, err)

	observations := resources(t, plan, "Observation")
	require.Len(t, observations, 10)
	erythrocytes := observations[1]
	assert.Equal(t, json.Number("4.06"), erythrocytes["valueQuantity"].(map[string]any)["value"])
	assert.Equal(t, "tera.l-1", erythrocytes["valueQuantity"].(map[string]any)["unit"])
	assert.Equal(t, "preliminary", erythrocytes["status"])
	assert.Equal(t, "2014-10-06T06:27:00+07:00", erythrocytes["effectiveDateTime"])

	reports := resources(t, plan, "DiagnosticReport")
	require.Len(t, reports, 2)
	assert.Len(t, reports[0]["result"], 5)
	assert.Equal(t, "final", reports[0]["status"])
	assert.Equal(t, "82503246", reports[0]["identifier"].([]any)[0].(map[string]any)["value"])
}

func TestConvertPR1EscapesDecodedOnce(t *testing.T) {
	plan := convert(t, message(
		`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^A08^ADT_A01|CTRL0001|P|2.5`,
		`PID|1||800008^^^HOSP^MR||TESTER^LIV||19700101|F`,
		`PR1|1||29881^KNEE SCOPE \T\ MENISCECTOMY^C4|ARTHROSCOPY \T\ DEBRIDEMENT|20240307120000-0500`,
	), v2fhir.Options{})
	procedure := resource(t, plan, "Procedure")
	code := procedure["code"].(map[string]any)
	coding := code["coding"].([]any)[0].(map[string]any)
	assert.Equal(t, "KNEE SCOPE & MENISCECTOMY", coding["display"])
	assert.Equal(t, "http://www.ama-assn.org/go/cpt", coding["system"])
	assert.Equal(t, "ARTHROSCOPY & DEBRIDEMENT", code["text"])
	assert.Equal(t, "2024-03-07T12:00:00-05:00", procedure["performedDateTime"])
	assert.Contains(t, string(plan.Bundle), `"KNEE SCOPE & MENISCECTOMY"`)
}

func TestConvertSkipsEmptyIdentifierRepetitions(t *testing.T) {
	plan := convert(t, message(
		`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^A08^ADT_A01|CTRL0002|P|2.5`,
		`PID|1|~|900009^^^HOSP^MR~~910009^^^STATE^SS||TESTER^HANA||""|F`,
	), v2fhir.Options{})
	patient := resource(t, plan, "Patient")
	ids := patient["identifier"].([]any)
	require.Len(t, ids, 2)
	assert.Equal(t, "900009", ids[0].(map[string]any)["value"])
	assert.Equal(t, "urn:nexus-health-360:hl7v2:aa:HOSP", ids[0].(map[string]any)["system"])
	assert.Equal(t, "910009", ids[1].(map[string]any)["value"])
	assert.NotContains(t, patient, "birthDate")
	assert.Equal(t, []string{"birthDate"}, plan.Entries[0].Clear)
}

func TestConvertIdentifierSystemOption(t *testing.T) {
	plan := convert(t, message(
		`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^A28|CTRL0003|P|2.5`,
		`PID|1||900009^^^HOSP^MR~910009^^^2.16.840.1.113883.4.1^SS~920009||TESTER^HANA`,
	), v2fhir.Options{IdentifierSystem: func(a string) string { return "urn:test:" + a }})
	ids := resource(t, plan, "Patient")["identifier"].([]any)
	require.Len(t, ids, 3)
	assert.Equal(t, "urn:test:HOSP", ids[0].(map[string]any)["system"])
	assert.Equal(t, "urn:test:2.16.840.1.113883.4.1", ids[1].(map[string]any)["system"])
	assert.Equal(t, "urn:test:HOSP", ids[2].(map[string]any)["system"], "sending facility stands in for a missing authority")
	assert.Equal(t, "urn:oid:2.16.840.1.113883.4.1", v2fhir.DefaultIdentifierSystem("2.16.840.1.113883.4.1"))
}

const covidMessage = `MSH|^~\&|LIS|LABFAC|PH|STATE|20240313092805-0600||ORU^R01|CTRL0011|P|2.5.1` + "\r" +
	`PID|1||130013^^^LABFAC^MR||TESTER^KAI||19880808|M` + "\r" +
	`OBR|1||SPEC13|94500-6^SARS-CoV-2 RNA^LN|||202403130900` + "\r" +
	`OBX|1|CWE|94500-6^SARS-CoV-2 RNA^LN||260385009^Negative^SCT||||||F|||202403130900|||||20240313091500` + "\r"

func TestConvertTimeZones(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	tests := []struct {
		name      string
		text      string
		zone      *time.Location
		effective string
	}{
		{"default zone completes the time", covidMessage, tokyo, "2024-03-13T09:00:00+09:00"},
		{"MSH-7 offset completes the time", covidMessage, nil, "2024-03-13T09:00:00-06:00"},
		{"sent offset is kept", strings.Replace(covidMessage, "|||202403130900|||||", "|||20240313090000-0400|||||", 1),
			tokyo, "2024-03-13T09:00:00-04:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := convert(t, tt.text, v2fhir.Options{DefaultZone: tt.zone})
			obs := resource(t, plan, "Observation")
			assert.Equal(t, tt.effective, obs["effectiveDateTime"])
			value := obs["valueCodeableConcept"].(map[string]any)["coding"].([]any)[0].(map[string]any)
			assert.Equal(t, "260385009", value["code"])
			assert.Equal(t, "http://snomed.info/sct", value["system"])
			report := resource(t, plan, "DiagnosticReport")
			assert.Equal(t, tt.effective[:10], report["effectiveDateTime"].(string)[:10])
		})
	}
}

func TestConvertTimeWithoutAnyZoneFails(t *testing.T) {
	text := strings.Replace(covidMessage, "20240313092805-0600", "20240313092805", 1)
	_, err := v2fhir.Convert(parse(t, text), v2fhir.Options{})
	require.Error(t, err)
	var list v2fhir.ErrorList
	require.True(t, errors.As(err, &list))
	var locations []string
	for _, e := range list {
		assert.Equal(t, v2fhir.CodeDataType, e.Code)
		assert.Equal(t, "the time has no UTC offset, MSH-7 has none either, and the receiver has no default time zone",
			e.Message, "ERR-7 names no Go option")
		locations = append(locations, e.Location())
	}
	assert.Contains(t, locations, "OBX-14.1")
	assert.Contains(t, locations, "OBR-7.1")
	acks := list.ParseErrors()
	require.Len(t, acks, 2)
	assert.Equal(t, "OBX", acks[0].SegmentID)
	assert.Equal(t, 14, acks[0].Field)
	assert.Equal(t, hl7v2.KindDataType, acks[0].Kind)
}

const pcdMessage = `MSH|^~\&|MONGW^0011223344556677^EUI-64|ICU|||20240311140114.1234+0800||ORU^R01^ORU_R01|CTRL0009|P|2.6|||AL|NE||UNICODE UTF-8` + "\r" +
	`PID|||110011^^^HOSP^PI||TESTER^IKE` + "\r" +
	`OBR|1|ORD9^MONGW|FIL9^MONGW|182777000^monitoring of patient^SCT|||20240311135800.0000+0800` + "\r" +
	`OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20240311140000.1234+0800||||0011223344556677^^0011223344556677^EUI-64` + "\r"

func TestConvertPCD01VitalSign(t *testing.T) {
	plan := convert(t, pcdMessage, v2fhir.Options{})
	obs := resource(t, plan, "Observation")
	assert.Equal(t, "2024-03-11T14:00:00.1234+08:00", obs["effectiveDateTime"])
	quantity := obs["valueQuantity"].(map[string]any)
	assert.Equal(t, json.Number("97"), quantity["value"])
	assert.Equal(t, "%", quantity["code"])
	assert.Equal(t, "http://unitsofmeasure.org", quantity["system"])
	assert.Equal(t, "preliminary", obs["status"])

	var codes []string
	for _, c := range obs["code"].(map[string]any)["coding"].([]any) {
		m := c.(map[string]any)
		codes = append(codes, m["system"].(string)+"|"+m["code"].(string))
	}
	assert.Equal(t, []string{"urn:iso:std:iso:11073:10101|150456", "http://loinc.org|59408-5", "http://loinc.org|2708-6"}, codes)
	category := obs["category"].([]any)[0].(map[string]any)["coding"].([]any)[0].(map[string]any)
	assert.Equal(t, "vital-signs", category["code"])

	device := resource(t, plan, "Device")
	id := device["identifier"].([]any)[0].(map[string]any)
	assert.Equal(t, "0011223344556677", id["value"])
	assert.Equal(t, "urn:nexus-health-360:hl7v2:eui-64", id["system"])
	assert.Contains(t, obs["device"].(map[string]any)["reference"], "Device?identifier=")
}

func TestConvertSexCodes(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		gender any
	}{
		{"male", "M", "male"},
		{"female", "F", "female"},
		{"other", "O", "other"},
		{"unknown", "U", "unknown"},
		{"ambiguous", "A", "other"},
		{"not applicable", "N", "other"},
		{"lowercase", "f", "female"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := convert(t, message(
				`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^A28|CTRL0004|P|2.5`,
				`PID|1||900009^^^HOSP^MR||TESTER^HANA||19700101|`+tt.code,
			), v2fhir.Options{})
			assert.Equal(t, tt.gender, resource(t, plan, "Patient")["gender"])
		})
	}
}

func TestConvertEncounterClassAndStatus(t *testing.T) {
	tests := []struct {
		name   string
		event  string
		class  string
		code   string
		status string
	}{
		{"inpatient admit", "A01", "I", "IMP", "in-progress"},
		{"outpatient registration", "A04", "O", "AMB", "in-progress"},
		{"emergency transfer", "A02", "E", "EMER", "in-progress"},
		{"pre-admit", "A05", "P", "PRENC", "planned"},
		{"discharge", "A03", "I", "IMP", "finished"},
		{"cancel admit", "A11", "I", "IMP", "cancelled"},
		{"cancel discharge", "A13", "I", "IMP", "in-progress"},
		{"missing class", "A01", "", "U", "in-progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := convert(t, message(
				`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^`+tt.event+`|CTRL0005|P|2.5`,
				`PID|1||900009^^^HOSP^MR||TESTER^HANA`,
				`PV1|1|`+tt.class+`|4E^401^2|||||||||||||||||V500^^^HOSP^VN`,
			), v2fhir.Options{})
			encounter := resource(t, plan, "Encounter")
			assert.Equal(t, tt.code, encounter["class"].(map[string]any)["code"])
			assert.Equal(t, tt.status, encounter["status"])
			location := encounter["location"].([]any)[0].(map[string]any)["location"].(map[string]any)
			assert.Equal(t, "4E 401 2", location["display"])
		})
	}
}

func TestConvertObservationValues(t *testing.T) {
	tests := []struct {
		name  string
		obx   string
		key   string
		value string
	}{
		{"decimal kept as sent", `OBX|1|NM|8480-6^Systolic^LN||140.0|mm[Hg]^^UCUM|||||F`, "valueQuantity",
			`{"code":"mm[Hg]","system":"http://unitsofmeasure.org","unit":"mm[Hg]","value":140.0}`},
		{"leading plus and point", `OBX|1|NM|X^X^L||+.50|||||F`, "valueQuantity", `{"value":0.50}`},
		{"comparator", `OBX|1|SN|X^X^L||<^10|mg/dL|||||F`, "valueQuantity", `{"comparator":"<","unit":"mg/dL","value":10}`},
		{"range", `OBX|1|SN|X^X^L||^1^-^5|||||F`, "valueRange", `{"high":{"value":5},"low":{"value":1}}`},
		{"ratio", `OBX|1|SN|X^X^L||^1^:^128|||||F`, "valueRatio", `{"denominator":{"value":128},"numerator":{"value":1}}`},
		{"text with escapes", `OBX|1|TX|X^X^L||A \T\ B\.br\C|||||F`, "valueString", `"A & B\nC"`},
		{"formatted text with backslash", `OBX|1|FT|X^X^L||C:\E\temp|||||F`, "valueString", `"C:\\temp"`},
		{"reference range", `OBX|1|NM|X^X^L||5|mg|1.5-7.0||||F`, "referenceRange",
			`[{"high":{"unit":"mg","value":7.0},"low":{"unit":"mg","value":1.5}}]`},
		{"reference range as text", `OBX|1|NM|X^X^L||5|mg|<7||||F`, "referenceRange", `[{"text":"<7"}]`},
		{"interpretation", `OBX|1|NM|X^X^L||5|mg||H~zz|||F`, "interpretation",
			`[{"coding":[{"code":"H","system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"}]},` +
				`{"coding":[{"code":"zz","system":"http://terminology.hl7.org/CodeSystem/v2-0078"}]}]`},
		{"corrected status", `OBX|1|ST|X^X^L||ok||||||C`, "status", `"corrected"`},
		{"cancelled status", `OBX|1|ST|X^X^L||ok||||||X`, "status", `"cancelled"`},
		{"unsupported value type", `OBX|1|ED|X^X^L||^TEXT^^Base64^AAAA|||||F`, "dataAbsentReason",
			`{"coding":[{"code":"unsupported","system":"http://terminology.hl7.org/CodeSystem/data-absent-reason"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := convert(t, message(
				`MSH|^~\&|LIS|LAB|EHR|HOSP|20240307130000-0500||ORU^R01|CTRL0006|P|2.5`,
				`PID|1||900009^^^HOSP^MR||TESTER^HANA`,
				`OBR|1||F100^LIS|X^X^L|||20240307120000-0500`,
				tt.obx,
			), v2fhir.Options{})
			obs := resource(t, plan, "Observation")
			var got strings.Builder
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			require.NoError(t, enc.Encode(obs[tt.key]))
			assert.Equal(t, tt.value, strings.TrimSpace(got.String()))
			assert.True(t, json.Valid(plan.Bundle))
		})
	}
}

func TestConvertRejectsUnsupportedMessages(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		code     string
		location string
	}{
		{"message type", message(`MSH|^~\&|A|B|C|D|20240307130000-0500||SIU^S12|C1|P|2.5`, `PID|1||1^^^H`), v2fhir.CodeUnsupportedMessage, "MSH-9"},
		{"ADT event", message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ADT^A99|C1|P|2.5`, `PID|1||1^^^H`), v2fhir.CodeUnsupportedEvent, "MSH-9"},
		{"missing patient id", message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ADT^A28|C1|P|2.5`, `PID|1||`), v2fhir.CodeRequiredField, "PID-3"},
		{"invalid number", message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ORU^R01|C1|P|2.5`, `PID|1||1^^^H`,
			`OBR|1||F1|X^X^L`, `OBX|1|NM|X^X^L||abc`), v2fhir.CodeDataType, "OBX-5"},
		{"missing MRG", message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ADT^A40|C1|P|2.5`, `PID|1||1^^^H`), v2fhir.CodeSegmentSequence, "MRG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v2fhir.Convert(parse(t, tt.text), v2fhir.Options{})
			var list v2fhir.ErrorList
			require.True(t, errors.As(err, &list), "error %v", err)
			require.Len(t, list, 1)
			assert.Equal(t, tt.code, list[0].Code)
			assert.Equal(t, tt.location, list[0].Location())
		})
	}
}

func TestConvertWarnsAboutSkippedSegments(t *testing.T) {
	plan := convert(t, message(
		`MSH|^~\&|A|B|C|D|20240307130000-0500||ADT^A01|C1|P|2.5`,
		`PID|1||1^^^H`,
	), v2fhir.Options{})
	assert.Equal(t, []string{"Patient"}, plan.ResourceTypes())
	require.Len(t, plan.Warnings, 1)
	assert.Equal(t, "PV1", plan.Warnings[0].Location())

	plan = convert(t, message(
		`MSH|^~\&|A|B|C|D|20240307130000-0500||ORU^R01|C1|P|2.5`,
		`PID|1||1^^^H`, `OBR|1||F1|X^X^L`, `OBX|1|ED|||^TEXT^^Base64^AAAA`,
	), v2fhir.Options{})
	assert.Equal(t, []string{"Patient", "DiagnosticReport"}, plan.ResourceTypes())
	require.Len(t, plan.Warnings, 1)
	assert.Equal(t, "OBX-3", plan.Warnings[0].Location())
}

func TestConvertErrorsHoldNoPatientData(t *testing.T) {
	const name, record = "ZYXWVUTS", "REC987654"
	texts := []string{
		message(`MSH|^~\&|A|B|C|D|20240307130000||ORU^R01|C1|P|2.5`, `PID|1||`+record+`^^^H||`+name+`^ALICE||1970`,
			`OBR|1||`+record+`|X^`+name+`^L|||202403071200`, `OBX|1|NM|X^`+name+`^L||`+name+`|||||F|||202403071200`),
		message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ORU^R01|C1|P|2.5`, `PID|1||`+record+`^^^H||`+name,
			`OBR|1||F1|X^X^L|||`+record, `OBX|1|SN|X^X^L||`+name+`^`+record+`|||||F|||`+name),
		message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ADT^A01|C1|P|2.5`, `PID|1||^^^`+record+`||`+name+`||`+record),
		message(`MSH|^~\&|A|B|C|D|20240307130000-0500||ADT^A40|C1|P|2.5`, `PID|1||`+record+`^^^H||`+name, `MRG|^^^`+record),
	}
	for i, text := range texts {
		_, err := v2fhir.Convert(parse(t, text), v2fhir.Options{})
		require.Error(t, err, "message %d", i+1)
		assert.NotContains(t, err.Error(), name, "message %d", i+1)
		assert.NotContains(t, err.Error(), record, "message %d", i+1)
		var list v2fhir.ErrorList
		require.True(t, errors.As(err, &list))
		for _, e := range list.ParseErrors() {
			assert.NotContains(t, e.Error(), name)
			assert.NotContains(t, e.Error(), record)
		}
	}
}

func TestConvertADTWithTwoPIDsFails(t *testing.T) {
	text := adt("A01", "CTRL0900", `PID|1||900001^^^HOSP^MR||TESTER^ONE`, `PID|2||900002^^^HOSP^MR||TESTER^TWO`)
	_, err := v2fhir.Convert(parse(t, text), v2fhir.Options{})
	var located *v2fhir.Error
	require.True(t, errors.As(err, &located), "error %v", err)
	assert.Equal(t, v2fhir.CodeSegmentSequence, located.Code)
	assert.Equal(t, "PID", located.SegmentID)
	assert.Equal(t, 2, located.Occurrence)
}

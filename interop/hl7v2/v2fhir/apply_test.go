package v2fhir_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

const adtHeader = `MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000-0500||ADT^%s|%s|P|2.5`

func adt(event, control string, segments ...string) string {
	header := strings.Replace(strings.Replace(adtHeader, "%s", event, 1), "%s", control, 1)
	return message(append([]string{header}, segments...)...)
}

func TestApplyNullClearsBirthDate(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A28", "CTRL0100", `PID|1||900009^^^HOSP^MR||TESTER^HANA||19700101|F`), v2fhir.Options{})
	stored := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900009")
	require.Len(t, stored, 1)
	require.Equal(t, "1970-01-01", decode(t, stored[0].Body)["birthDate"])

	res := applyText(t, svc, adt("A08", "CTRL0101", `PID|1|~|900009^^^HOSP^MR~~910009^^^STATE^SS||TESTER^HANA||""|F`), v2fhir.Options{})
	assert.Equal(t, 1, res.Updated)
	stored = search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900009")
	require.Len(t, stored, 1)
	patient := decode(t, stored[0].Body)
	assert.NotContains(t, patient, "birthDate")
	assert.Equal(t, "female", patient["gender"])
	assert.Len(t, patient["identifier"], 2)
}

func TestApplyEmptyFieldKeepsStoredValue(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A28", "CTRL0110", `PID|1||900019^^^HOSP^MR||TESTER^HANA||19700101|F`), v2fhir.Options{})
	res := applyText(t, svc, adt("A08", "CTRL0111", `PID|1||900019^^^HOSP^MR||TESTER^HANA`), v2fhir.Options{})
	assert.Equal(t, 1, res.Unchanged)
	stored := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900019")
	require.Len(t, stored, 1)
	assert.Equal(t, "1970-01-01", decode(t, stored[0].Body)["birthDate"])
	assert.Equal(t, 1, versions(t, svc, "Patient", stored[0].ID))
}

func TestApplyPCD01TwiceMakesOneVersion(t *testing.T) {
	svc := newService(t)
	first := applyText(t, svc, pcdMessage, v2fhir.Options{})
	assert.Equal(t, 4, first.Created, "Patient, DiagnosticReport, Observation and Device")
	second := applyText(t, svc, pcdMessage, v2fhir.Options{})
	assert.Equal(t, 0, second.Created)
	assert.Equal(t, 0, second.Updated)

	observations := search(t, svc, "Observation", "code=http://loinc.org|59408-5")
	require.Len(t, observations, 1)
	assert.Equal(t, 1, versions(t, svc, "Observation", observations[0].ID))
	obs := decode(t, observations[0].Body)
	assert.Equal(t, "2024-03-11T14:00:00.1234+08:00", obs["effectiveDateTime"])
	devices := search(t, svc, "Device", "identifier=urn:nexus-health-360:hl7v2:eui-64|0011223344556677")
	require.Len(t, devices, 1)
	assert.Equal(t, "Device/"+devices[0].ID, obs["device"].(map[string]any)["reference"])
	patients := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|110011")
	require.Len(t, patients, 1)
	assert.Equal(t, "Patient/"+patients[0].ID, obs["subject"].(map[string]any)["reference"])
}

func TestApplyKeepsDecimalLexicalForm(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, message(
		`MSH|^~\&|LIS|LAB|EHR|HOSP|20240307130000-0500||ORU^R01|CTRL0200|P|2.5`,
		`PID|1||900029^^^HOSP^MR||TESTER^HANA`,
		`OBR|1||F200^LIS|8480-6^Systolic^LN|||20240307120000-0500`,
		`OBX|1|NM|8480-6^Systolic^LN||140.0|mm[Hg]^^UCUM|||||F`,
	), v2fhir.Options{})
	observations := search(t, svc, "Observation", "code=http://loinc.org|8480-6")
	require.Len(t, observations, 1)
	assert.Contains(t, string(observations[0].Body), `"value":140.0`)
	assert.Contains(t, string(observations[0].Body), `"vital-signs"`)
}

func TestApplyUnicodeNamesSearchable(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, message(
		`MSH|^~\&|ADT|HOSP|EHR|HOSP|20240307130000+0200||ADT^A28|CTRL0300|P|2.5|||||GRC|UNICODE UTF-8`,
		`PID|1||900039^^^HOSP^MR||ΠΑΠΑΔΟΠΟΎΛΟΥ^ΕΛΈΝΗ~Müller^Zoë||19800101|F`,
	), v2fhir.Options{})
	for _, query := range []string{"family=παπαδοπουλου", "family=muller"} {
		found := search(t, svc, "Patient", query)
		require.Len(t, found, 1, query)
		names := decode(t, found[0].Body)["name"].([]any)
		require.Len(t, names, 2)
		assert.Equal(t, "ΠΑΠΑΔΟΠΟΎΛΟΥ", names[0].(map[string]any)["family"])
		assert.Equal(t, []any{"ΕΛΈΝΗ"}, names[0].(map[string]any)["given"])
		assert.Equal(t, "Müller", names[1].(map[string]any)["family"])
		assert.Equal(t, []any{"Zoë"}, names[1].(map[string]any)["given"])
	}
}

const visitPID = `PID|1||900049^^^HOSP^MR||TESTER^OTTO||19600101|M`

func visitPV1(class, location, discharge string) string {
	return `PV1|1|` + class + `|` + location + `||||1234^DOCTOR^DANA^^^^^^HOSP||||||||||||V900^^^HOSP^VN` +
		strings.Repeat("|", 25) + `20240301080000-0500|` + discharge
}

func encounterFor(t *testing.T, svc *emr.Service) (emr.Resource, map[string]any) {
	t.Helper()
	found := search(t, svc, "Encounter", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|V900")
	require.Len(t, found, 1)
	return found[0], decode(t, found[0].Body)
}

func TestApplyAdmitThenDischarge(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A01", "CTRL0400", visitPID, visitPV1("I", "4E^401^1", "")), v2fhir.Options{})
	res, enc := encounterFor(t, svc)
	assert.Equal(t, "in-progress", enc["status"])
	assert.Equal(t, "IMP", enc["class"].(map[string]any)["code"])
	practitioners := search(t, svc, "Practitioner", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|1234")
	require.Len(t, practitioners, 1)
	participant := enc["participant"].([]any)[0].(map[string]any)
	assert.Equal(t, "Practitioner/"+practitioners[0].ID, participant["individual"].(map[string]any)["reference"])

	applyText(t, svc, adt("A03", "CTRL0401", visitPID, visitPV1("I", "4E^401^1", "20240305120000-0500")), v2fhir.Options{})
	res2, enc := encounterFor(t, svc)
	assert.Equal(t, res.ID, res2.ID)
	assert.Equal(t, "finished", enc["status"])
	period := enc["period"].(map[string]any)
	assert.Equal(t, "2024-03-01T08:00:00-05:00", period["start"])
	assert.Equal(t, "2024-03-05T12:00:00-05:00", period["end"])
	assert.Equal(t, "completed", enc["location"].([]any)[0].(map[string]any)["status"])
	assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID))

	again := applyText(t, svc, adt("A03", "CTRL0401", visitPID, visitPV1("I", "4E^401^1", "20240305120000-0500")), v2fhir.Options{})
	assert.Equal(t, 0, again.Created+again.Updated)
	assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID))

	applyText(t, svc, adt("A13", "CTRL0402", visitPID, visitPV1("I", "4E^401^1", "")), v2fhir.Options{})
	_, enc = encounterFor(t, svc)
	assert.Equal(t, "in-progress", enc["status"])
	assert.NotContains(t, enc["period"], "end")
	assert.Equal(t, "active", enc["location"].([]any)[0].(map[string]any)["status"])
}

func TestApplyCancelAdmit(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A01", "CTRL0500", visitPID, visitPV1("I", "4E^401^1", "")), v2fhir.Options{})
	applyText(t, svc, adt("A11", "CTRL0501", visitPID, visitPV1("I", "4E^401^1", "")), v2fhir.Options{})
	res, enc := encounterFor(t, svc)
	assert.Equal(t, "cancelled", enc["status"])
	assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID))
}

func TestApplyCancelTransferRestoresLocation(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A01", "CTRL0600", visitPID, visitPV1("I", "4E^401^1", "")), v2fhir.Options{})
	applyText(t, svc, adt("A02", "CTRL0601", visitPID, visitPV1("I", "ICU^7^2", "")), v2fhir.Options{})
	_, enc := encounterFor(t, svc)
	locations := enc["location"].([]any)
	require.Len(t, locations, 2)
	assert.Equal(t, "completed", locations[0].(map[string]any)["status"])
	assert.Equal(t, "ICU 7 2", locations[1].(map[string]any)["location"].(map[string]any)["display"])
	assert.Equal(t, "active", locations[1].(map[string]any)["status"])

	applyText(t, svc, adt("A12", "CTRL0602", visitPID, visitPV1("I", "4E^401^1", "")), v2fhir.Options{})
	_, enc = encounterFor(t, svc)
	locations = enc["location"].([]any)
	require.Len(t, locations, 1)
	assert.Equal(t, "4E 401 1", locations[0].(map[string]any)["location"].(map[string]any)["display"])
	assert.Equal(t, "active", locations[0].(map[string]any)["status"])
	assert.Equal(t, "in-progress", enc["status"])
}

func TestApplyMergePatients(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A28", "CTRL0700", `PID|1||700001^^^HOSP^MR||TESTER^MIA||19900101|F`), v2fhir.Options{})
	applyText(t, svc, adt("A28", "CTRL0701", `PID|1||700002^^^HOSP^MR||TESTER^MIA||19900101|F`), v2fhir.Options{})
	merge := adt("A40", "CTRL0702", `PID|1||700002^^^HOSP^MR||TESTER^MIA||19900101|F`, `MRG|700001^^^HOSP^MR`)
	res := applyText(t, svc, merge, v2fhir.Options{})
	require.Len(t, res.Merged, 1)

	source := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|700001")
	target := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|700002")
	require.Len(t, source, 1)
	require.Len(t, target, 1)
	link := decode(t, source[0].Body)["link"].([]any)[0].(map[string]any)
	assert.Equal(t, "replaced-by", link["type"])
	assert.Equal(t, "Patient/"+target[0].ID, link["other"].(map[string]any)["reference"])
	assert.Equal(t, emr.MergeParams{Source: source[0].ID, Target: target[0].ID, Reason: res.Merged[0].Reason}, res.Merged[0])

	again := applyText(t, svc, merge, v2fhir.Options{})
	assert.Empty(t, again.Merged, "a resent A40 merges nothing")

	// A later message with the retired identifier writes to the survivor.
	later := applyText(t, svc, message(
		`MSH|^~\&|LIS|LAB|EHR|HOSP|20240307130000-0500||ORU^R01|CTRL0703|P|2.5`,
		`PID|1||700001^^^HOSP^MR||TESTER^MIA`,
		`OBR|1||F700^LIS|X^X^L|||20240307120000-0500`,
		`OBX|1|ST|X^X^L||ok||||||F`,
	), v2fhir.Options{})
	assert.Equal(t, 2, later.Created)
	obs := search(t, svc, "Observation", "subject=Patient/"+target[0].ID)
	assert.Len(t, obs, 1)
}

func TestApplyMergeUnknownSourceIsLocated(t *testing.T) {
	svc := newService(t)
	plan := convert(t, adt("A40", "CTRL0800", `PID|1||800002^^^HOSP^MR||TESTER^MIA`, `MRG|800001^^^HOSP^MR`), v2fhir.Options{})
	_, err := v2fhir.Apply(context.Background(), svc, plan)
	var located *v2fhir.Error
	require.True(t, errors.As(err, &located), "error %v", err)
	assert.Equal(t, v2fhir.CodeUnknownKey, located.Code)
	assert.Equal(t, "MRG-1", located.Location())
	assert.NotContains(t, err.Error(), "800001")
	assert.Empty(t, search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|800002"),
		"a rejected merge stores nothing")
}

func TestApplyResentORUCreatesNothing(t *testing.T) {
	svc := newService(t)
	first := applyText(t, svc, covidMessage, v2fhir.Options{})
	assert.Equal(t, 3, first.Created)
	second := applyText(t, svc, covidMessage, v2fhir.Options{})
	assert.Equal(t, 0, second.Created)
	assert.Equal(t, 0, second.Updated)
	assert.Equal(t, 3, second.Unchanged)
	for i := range first.Resources {
		assert.Equal(t, first.Resources[i].ID, second.Resources[i].ID)
		assert.Equal(t, first.Resources[i].Version, second.Resources[i].Version)
	}

	corrected := strings.Replace(covidMessage, "||||||F|||", "||||||C|||", 1)
	third := applyText(t, svc, corrected, v2fhir.Options{})
	assert.Equal(t, 1, third.Updated, "a correction updates the one Observation")
	assert.Len(t, search(t, svc, "Observation", "code=http://loinc.org|94500-6"), 1)
}

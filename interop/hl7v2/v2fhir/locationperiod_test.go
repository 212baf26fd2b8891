package v2fhir_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

// event is an EVN segment with the event's time in EVN-6.
func event(code, at string) string {
	return `EVN|` + code + `|` + at + `||||` + at
}

// locationAt returns the status, period start and period end of
// Encounter.location[i].
func locationAt(t *testing.T, enc map[string]any, i int) (status, start, end any) {
	t.Helper()
	locations, _ := enc["location"].([]any)
	require.Greater(t, len(locations), i, "Encounter.location has entry %d", i)
	location := locations[i].(map[string]any)
	period, _ := location["period"].(map[string]any)
	return location["status"], period["start"], period["end"]
}

func TestApplyLocationPeriods(t *testing.T) {
	svc := newService(t)
	ward, icu := visitPV1("I", "4E^401^1", ""), visitPV1("I", "ICU^7^2", "")
	apply := func(code, control, at, pv1 string) map[string]any {
		applyText(t, svc, adt(code, control, event(code, at), visitPID, pv1), v2fhir.Options{})
		_, enc := encounterFor(t, svc)
		return enc
	}

	enc := apply("A01", "LOC1", "20240301080000-0500", ward)
	status, start, end := locationAt(t, enc, 0)
	assert.Equal(t, "active", status)
	assert.Equal(t, "2024-03-01T08:00:00-05:00", start, "the stay starts at the admission")
	assert.Nil(t, end)

	enc = apply("A08", "LOC2", "20240301100000-0500", ward)
	_, start, _ = locationAt(t, enc, 0)
	assert.Equal(t, "2024-03-01T08:00:00-05:00", start, "an update keeps when the stay began")

	enc = apply("A02", "LOC3", "20240302090000-0500", icu)
	status, _, end = locationAt(t, enc, 0)
	assert.Equal(t, "completed", status)
	assert.Equal(t, "2024-03-02T09:00:00-05:00", end, "the ward stay ends at the transfer")
	status, start, end = locationAt(t, enc, 1)
	assert.Equal(t, "active", status)
	assert.Equal(t, "2024-03-02T09:00:00-05:00", start, "the ICU stay starts at the transfer")
	assert.Nil(t, end)

	enc = apply("A12", "LOC4", "20240302093000-0500", ward)
	require.Len(t, enc["location"], 1, "the cancelled transfer leaves the ward stay only")
	status, start, end = locationAt(t, enc, 0)
	assert.Equal(t, "active", status)
	assert.Equal(t, "2024-03-01T08:00:00-05:00", start)
	assert.Nil(t, end, "the ward stay goes on")

	enc = apply("A03", "LOC5", "20240305120000-0500", visitPV1("I", "4E^401^1", "20240305120000-0500"))
	status, _, end = locationAt(t, enc, 0)
	assert.Equal(t, "completed", status)
	assert.Equal(t, "2024-03-05T12:00:00-05:00", end, "the stay ends at the discharge")

	enc = apply("A08", "LOC6", "20240306080000-0500", ward)
	status, _, end = locationAt(t, enc, 0)
	assert.Equal(t, "completed", status, "an update of a finished visit leaves its location completed")
	assert.Equal(t, "2024-03-05T12:00:00-05:00", end)
}

func TestApplyCancelAdmitReleasesLocation(t *testing.T) {
	svc := newService(t)
	ward := visitPV1("I", "4E^401^1", "")
	applyText(t, svc, adt("A01", "REL1", event("A01", "20240301080000-0500"), visitPID, ward), v2fhir.Options{})
	applyText(t, svc, adt("A11", "REL2", event("A11", "20240301083000-0500"), visitPID, ward), v2fhir.Options{})
	_, enc := encounterFor(t, svc)
	assert.Equal(t, "cancelled", enc["status"])
	require.Len(t, enc["location"], 1)
	status, _, end := locationAt(t, enc, 0)
	assert.Equal(t, "completed", status, "a cancelled admission holds no bed")
	assert.Equal(t, "2024-03-01T08:30:00-05:00", end)
}

func TestApplyCancelTransferWithoutTransfer(t *testing.T) {
	svc := newService(t)
	applyText(t, svc, adt("A01", "NOT1", event("A01", "20240301080000-0500"), visitPID, visitPV1("I", "4E^401^1", "")),
		v2fhir.Options{})
	applyText(t, svc, adt("A12", "NOT2", event("A12", "20240301090000-0500"), visitPID, visitPV1("I", "ICU^7^2", "")),
		v2fhir.Options{})
	_, enc := encounterFor(t, svc)
	require.Len(t, enc["location"], 2, "the admission's location stays in the history")
	status, start, end := locationAt(t, enc, 0)
	assert.Equal(t, "completed", status)
	assert.Equal(t, "2024-03-01T08:00:00-05:00", start)
	assert.Equal(t, "2024-03-01T09:00:00-05:00", end)
	status, _, _ = locationAt(t, enc, 1)
	assert.Equal(t, "active", status, "the sent location is the current one")
}

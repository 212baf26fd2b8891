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
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// timedADT returns an ADT message about visitPID whose event time is at,
// sent in field "EVN-6", "EVN-2" or "MSH-7". The other fields of the
// message carry no time.
func timedADT(event, control, field, at, pv1 string) string {
	sent := "20240307130000-0500"
	evn := "EVN|" + event
	switch field {
	case "EVN-6":
		evn += "|||||" + at
	case "EVN-2":
		evn += "|" + at
	case "MSH-7":
		sent = at
	}
	header := `MSH|^~\&|ADT|HOSP|EHR|HOSP|` + sent + `||ADT^` + event + `|` + control + `|P|2.5`
	return message(header, evn, visitPID, pv1)
}

// stayPV1 returns the PV1 of visit V900 at location with PV1-44 admit
// and PV1-45 discharge, either of which may be empty.
func stayPV1(location, admit, discharge string) string {
	return `PV1|1|I|` + location + `||||||||||||||||V900^^^HOSP^VN` + strings.Repeat("|", 25) + admit + `|` + discharge
}

// process converts and applies a message and returns the error of
// whichever step fails.
func process(t *testing.T, svc *emr.Service, text string) error {
	t.Helper()
	plan, err := v2fhir.Convert(parse(t, text), v2fhir.Options{})
	if err != nil {
		return err
	}
	_, err = v2fhir.Apply(context.Background(), svc, plan)
	return err
}

// requirePeriodError checks that err is the located error of a period
// that would end before it starts, at field ("PV1-45").
func requirePeriodError(t *testing.T, err error, field string) *v2fhir.Error {
	t.Helper()
	require.Error(t, err)
	var located *v2fhir.Error
	require.True(t, errors.As(err, &located), "the error is located: %v", err)
	assert.Equal(t, v2fhir.CodeInternal, located.Code)
	assert.Equal(t, field, located.Location())
	assert.Contains(t, located.Message, "would end before it starts")
	assert.Equal(t, "207", located.ParseError().HL7Code())
	assert.NotContains(t, err.Error(), "900049", "no record number in the error")
	assert.NotContains(t, err.Error(), "TESTER", "no name in the error")
	return located
}

func TestConvertPeriodPrecisions(t *testing.T) {
	tests := []struct {
		name         string
		admit, leave string
		inverted     bool
	}{
		{"same second", "20240301080000-0500", "20240301080000-0500", false},
		{"one second early", "20240301080001-0500", "20240301080000-0500", true},
		{"same instant, other offset", "20240301080000-0500", "20240301140000+0100", false},
		{"earlier instant, other offset", "20240301080000-0500", "20240301135959+0100", true},
		{"later local hour, earlier instant", "20240301080000-0500", "20240301120000+0000", true},
		{"end date of the start day", "20240301080000-0500", "20240301", false},
		{"end date of the day before", "20240301080000-0500", "20240229", true},
		{"start date, end in the day before UTC", "20240302", "20240301100000+0000", false},
		{"start date, end before it in every zone", "20240302", "20240301095959+0000", true},
		{"end month of the start day", "20240315", "202403", false},
		{"end month before", "20240315", "202402", true},
		{"end year of the start", "20240315", "2024", false},
		{"end second covers start fraction", "20240301080000.5-0500", "20240301080000-0500", false},
		{"end fraction before start fraction", "20240301080000.5-0500", "20240301080000.4-0500", true},
		{"minutes written with zero seconds", "20240301080030-0500", "202403010800-0500", true},
		{"end minute after start", "202403010800-0500", "202403010801-0500", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := adt("A03", "PRC1", `EVN|A03`, visitPID, stayPV1("4E^401^1", tt.admit, tt.leave))
			_, err := v2fhir.Convert(parse(t, text), v2fhir.Options{})
			if !tt.inverted {
				assert.NoError(t, err)
				return
			}
			requirePeriodError(t, err, "PV1-45")
		})
	}
}

// TestApplyPeriodInOneMessage sends an A03 whose own start and end are
// inverted, after an A01 of the same visit, and checks that the A03
// changes nothing.
func TestApplyPeriodInOneMessage(t *testing.T) {
	tests := []struct {
		name, pv1, field string
	}{
		{"PV1-45 before PV1-44", stayPV1("4E^401^1", "20240301080000-0500", "20240301070000-0500"), "PV1-45"},
		{"event time before PV1-44", stayPV1("4E^401^1", "20240301080000-0500", ""), "EVN-6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				require.NoError(t, process(t, svc, timedADT("A01", "ONE1", "EVN-6", "20240301080000-0500",
					stayPV1("4E^401^1", "", ""))))
				res, before := encounterFor(t, svc)

				err := process(t, svc, timedADT("A03", "ONE2", "EVN-6", "20240301070000-0500", tt.pv1))
				requirePeriodError(t, err, tt.field)

				_, after := encounterFor(t, svc)
				assert.Equal(t, 1, versions(t, svc, "Encounter", res.ID), "nothing was written")
				assert.Equal(t, before, after)
			})
		})
	}
}

// TestApplyDischargeBeforeAdmit sends an A03 whose event time is before
// the stored admission, with the event time in each field that can give
// it. The error names that field, and the A03 writes nothing.
func TestApplyDischargeBeforeAdmit(t *testing.T) {
	for _, field := range []string{"EVN-6", "EVN-2", "MSH-7"} {
		t.Run(field, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				ward := stayPV1("4E^401^1", "", "")
				require.NoError(t, process(t, svc, timedADT("A01", "DBA1", field, "20240301080000-0500", ward)))
				res, before := encounterFor(t, svc)

				err := process(t, svc, timedADT("A03", "DBA2", field, "20240301070000-0500", ward))
				located := requirePeriodError(t, err, field)
				assert.Contains(t, located.Message, "earlier than the stored start")
				assert.True(t, errors.Is(err, emr.ErrInvalid), "the error wraps emr.ErrInvalid")

				_, after := encounterFor(t, svc)
				assert.Equal(t, 1, versions(t, svc, "Encounter", res.ID), "nothing was written")
				assert.Equal(t, before, after)
				assert.Equal(t, "in-progress", after["status"])
			})
		})
	}
}

// TestApplyDischargeDeliveredFirst sends the A03 of a visit before its
// A01. An A01 of an earlier time completes the period, and one of a
// later time fails at the field of its start.
func TestApplyDischargeDeliveredFirst(t *testing.T) {
	ward := stayPV1("4E^401^1", "", "")
	t.Run("admit earlier", func(t *testing.T) {
		storagetest.Each(t, func(t *testing.T, db *storage.DB) {
			svc := serviceOn(t, db)
			require.NoError(t, process(t, svc, timedADT("A03", "DDF1", "EVN-6", "20240301170000-0500", ward)))
			require.NoError(t, process(t, svc, timedADT("A01", "DDF2", "EVN-6", "20240301080000-0500", ward)))
			_, enc := encounterFor(t, svc)
			period := enc["period"].(map[string]any)
			assert.Equal(t, "2024-03-01T08:00:00-05:00", period["start"])
			assert.Equal(t, "2024-03-01T17:00:00-05:00", period["end"])
		})
	})
	t.Run("admit later", func(t *testing.T) {
		storagetest.Each(t, func(t *testing.T, db *storage.DB) {
			svc := serviceOn(t, db)
			require.NoError(t, process(t, svc, timedADT("A03", "DDF3", "EVN-6", "20240301070000-0500", ward)))
			res, before := encounterFor(t, svc)

			admit := stayPV1("4E^401^1", "20240301080000-0500", "")
			err := process(t, svc, timedADT("A01", "DDF4", "EVN-6", "20240301080000-0500", admit))
			located := requirePeriodError(t, err, "PV1-44")
			assert.Contains(t, located.Message, "later than the stored end")

			_, after := encounterFor(t, svc)
			assert.Equal(t, 1, versions(t, svc, "Encounter", res.ID), "nothing was written")
			assert.Equal(t, before, after)
		})
	})
}

// TestApplyTransfersOutOfOrder moves a patient from the ward to the ICU
// at 10:00 and then sends a transfer of 09:00, which would end the ICU
// stay before it began. Later messages that give no such period apply.
func TestApplyTransfersOutOfOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		ward, icu, stepDown := stayPV1("4E^401^1", "", ""), stayPV1("ICU^7^2", "", ""), stayPV1("SDU^3^1", "", "")
		require.NoError(t, process(t, svc, timedADT("A01", "TOO1", "EVN-6", "20240301080000-0500", ward)))
		require.NoError(t, process(t, svc, timedADT("A02", "TOO2", "EVN-6", "20240301100000-0500", icu)))
		res, before := encounterFor(t, svc)
		require.Equal(t, 2, versions(t, svc, "Encounter", res.ID))

		err := process(t, svc, timedADT("A02", "TOO3", "EVN-2", "20240301090000-0500", stepDown))
		located := requirePeriodError(t, err, "EVN-2")
		assert.Contains(t, located.Message, "Encounter.location")
		_, after := encounterFor(t, svc)
		assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID), "nothing was written")
		assert.Equal(t, before, after)

		err = process(t, svc, timedADT("A03", "TOO4", "EVN-6", "20240301093000-0500", icu))
		requirePeriodError(t, err, "EVN-6")
		assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID), "nothing was written")

		// A late transfer to the current location keeps the stay as it is.
		require.NoError(t, process(t, svc, timedADT("A02", "TOO5", "EVN-6", "20240301093000-0500", icu)))
		assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID))

		require.NoError(t, process(t, svc, timedADT("A02", "TOO6", "EVN-6", "20240301110000-0500", stepDown)))
		_, enc := encounterFor(t, svc)
		require.Len(t, enc["location"], 3)
		status, start, end := locationAt(t, enc, 1)
		assert.Equal(t, "completed", status)
		assert.Equal(t, "2024-03-01T10:00:00-05:00", start)
		assert.Equal(t, "2024-03-01T11:00:00-05:00", end)
	})
}

// TestApplyKeepsStoredInvertedPeriod stores an Encounter whose period and
// location period end before they start, as the clinical record accepts,
// and checks that an update of the visit that leaves them as stored
// applies.
func TestApplyKeepsStoredInvertedPeriod(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		require.NoError(t, process(t, svc, adt("A28", "KSI1", visitPID)))
		patients := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|900049")
		require.Len(t, patients, 1)
		body := `{"resourceType":"Encounter","status":"finished",
			"identifier":[{"system":"urn:nexus-health-360:hl7v2:aa:HOSP","value":"V900"}],
			"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
			"subject":{"reference":"Patient/` + patients[0].ID + `"},
			"period":{"start":"2024-03-01T08:00:00-05:00","end":"2024-03-01T07:00:00-05:00"},
			"location":[{"location":{"display":"4E 401 1","identifier":{
				"system":"urn:nexus-health-360:hl7v2:aa:HOSP:location","value":"4E^401^1"}},
				"status":"completed",
				"period":{"start":"2024-03-01T08:00:00-05:00","end":"2024-03-01T07:00:00-05:00"}}]}`
		_, err := svc.Create(context.Background(), "Encounter", []byte(body))
		require.NoError(t, err)

		pv1 := strings.Replace(stayPV1("4E^401^1", "", ""), "|I|", "|O|", 1)
		require.NoError(t, process(t, svc, timedADT("A08", "KSI2", "EVN-6", "20240302090000-0500", pv1)))
		res, enc := encounterFor(t, svc)
		assert.Equal(t, 2, versions(t, svc, "Encounter", res.ID), "the update applied")
		assert.Equal(t, "AMB", enc["class"].(map[string]any)["code"])
	})
}

package v2fhir_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// storedPatient returns the one stored Patient with the HOSP record number
// mrn and its body.
func storedPatient(t *testing.T, svc *emr.Service, mrn string) (emr.Resource, map[string]any) {
	t.Helper()
	found := search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|"+mrn)
	require.Len(t, found, 1, "patients with record number %s", mrn)
	return found[0], decode(t, found[0].Body)
}

// TestApplyMergeUnknownTarget sends an A40 whose PID-3 names no stored
// patient. An A40 merges into an existing patient, so Apply must reject
// it at PID-3 with code 204 and write nothing.
func TestApplyMergeUnknownTarget(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		applyText(t, svc, adt("A04", "CTRL1000", `PID|1||M5^^^HOSP^MR||TESTER^MIA||19900101|F`), v2fhir.Options{})
		before, _ := storedPatient(t, svc, "M5")

		plan := convert(t, adt("A40", "CTRL1001",
			`PID|1||M9^^^HOSP^MR||TESTER^MIA||19900101|F`, `MRG|M5^^^HOSP^MR`), v2fhir.Options{})
		res, err := v2fhir.Apply(context.Background(), svc, plan)
		require.Error(t, err)
		assert.Nil(t, res)

		var located *v2fhir.Error
		require.True(t, errors.As(err, &located), "the error is located: %v", err)
		assert.Equal(t, v2fhir.CodeUnknownKey, located.Code)
		assert.Equal(t, "PID-3", located.Location())
		assert.True(t, errors.Is(err, emr.ErrNotFound), "the cause stays in the chain")
		assert.NotContains(t, err.Error(), "M9")
		assert.NotContains(t, err.Error(), "M5")

		assert.Empty(t, search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|M9"),
			"the surviving patient is not created")
		assert.Len(t, search(t, svc, "Patient", ""), 1)
		after, body := storedPatient(t, svc, "M5")
		assert.Equal(t, before.VersionID, after.VersionID, "the prior patient is not changed")
		assert.NotContains(t, body, "link")
		assert.Equal(t, 1, versions(t, svc, "Patient", after.ID))
	})
}

// TestApplyMergeSamePatient sends A40 messages whose MRG-1 names the
// patient of PID-3, by the same identifier or by another one of that
// patient. Apply must reject them at MRG-1 with code 207 and write nothing,
// not even the changed name of PID-5.
func TestApplyMergeSamePatient(t *testing.T) {
	tests := []struct {
		name string
		pid  string
		mrg  string
	}{
		{"same identifier", `PID|1||M5^^^HOSP^MR||RENAMED^MIA||19900101|F`, `MRG|M5^^^HOSP^MR`},
		{"other identifier", `PID|1||S5^^^STATE^SS||RENAMED^MIA||19900101|F`, `MRG|M5^^^HOSP^MR`},
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		applyText(t, svc, adt("A04", "CTRL1100",
			`PID|1||M5^^^HOSP^MR~S5^^^STATE^SS||TESTER^MIA||19900101|F`), v2fhir.Options{})
		before, _ := storedPatient(t, svc, "M5")

		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				plan := convert(t, adt("A40", "CTRL1101", tt.pid, tt.mrg), v2fhir.Options{})
				res, err := v2fhir.Apply(context.Background(), svc, plan)
				require.Error(t, err)
				assert.Nil(t, res)

				var located *v2fhir.Error
				require.True(t, errors.As(err, &located), "the error is located: %v", err)
				assert.Equal(t, v2fhir.CodeInternal, located.Code)
				assert.Equal(t, "MRG-1", located.Location())
				assert.Equal(t, "207", located.ParseError().HL7Code(), "the ACK's ERR-3")
				assert.True(t, errors.Is(err, emr.ErrInvalid), "the error wraps emr.ErrInvalid")
				assert.NotContains(t, err.Error(), "M5")
				assert.NotContains(t, err.Error(), "RENAMED")

				assert.Len(t, search(t, svc, "Patient", ""), 1)
				after, body := storedPatient(t, svc, "M5")
				assert.Equal(t, before.VersionID, after.VersionID, "the patient is not changed")
				assert.Equal(t, 1, versions(t, svc, "Patient", after.ID))
				assert.NotContains(t, body, "link")
				assert.Equal(t, "TESTER", body["name"].([]any)[0].(map[string]any)["family"])
			})
		}
	})
}

// TestApplyAfterMergeUpdatesSurvivor sends an A08 that still names the
// record number of a patient merged into another one. Its data must
// reach the surviving patient, whose identifiers stay as they were.
func TestApplyAfterMergeUpdatesSurvivor(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		applyText(t, svc, adt("A04", "CTRL1200", `PID|1||M1^^^HOSP^MR||TESTER^MIA||19900101|F`), v2fhir.Options{})
		applyText(t, svc, adt("A04", "CTRL1201", `PID|1||M2^^^HOSP^MR||TESTER^MIA||19900101|F`), v2fhir.Options{})
		applyText(t, svc, adt("A40", "CTRL1202", `PID|1||M2^^^HOSP^MR||TESTER^MIA||19900101|F`, `MRG|M1^^^HOSP^MR`),
			v2fhir.Options{})
		merged, _ := storedPatient(t, svc, "M1")

		applyText(t, svc, adt("A08", "CTRL1203", `PID|1||M1^^^HOSP^MR||RENAMED^MIA||19900101|F`), v2fhir.Options{})

		_, survivor := storedPatient(t, svc, "M2")
		names, _ := survivor["name"].([]any)
		require.NotEmpty(t, names)
		assert.Equal(t, "RENAMED", names[0].(map[string]any)["family"], "the survivor takes the new name")
		identifiers, _ := survivor["identifier"].([]any)
		assert.Len(t, identifiers, 1, "the survivor does not take the merged record number")
		after, _ := storedPatient(t, svc, "M1")
		assert.Equal(t, merged.VersionID, after.VersionID, "the merged patient is not changed")
		assert.Len(t, search(t, svc, "Patient", ""), 2, "no patient is created")
	})
}

// TestApplyRejectsRecordOfAnotherPatient sends messages that reuse a
// visit number or a lab order number of one patient for another. Each
// must fail at the field of that number and leave the first patient's
// record as it was.
func TestApplyRejectsRecordOfAnotherPatient(t *testing.T) {
	visit := func(control, pid, ward string) string {
		return adt("A01", control, pid, `PV1|1|I|`+ward+`||||||||||||||||V-SHARED^^^HOSP^VN`)
	}
	result := func(control, pid, value string) string {
		return message(
			`MSH|^~\&|LAB|HOSP|EHR|HOSP|20240307130000-0500||ORU^R01^ORU_R01|`+control+`|P|2.5`,
			pid,
			`OBR|1|PLACER-1|FILLER-SHARED|2345-7^Glucose^LN|||20240307110000-0500|||||||||||||||20240307115000-0500|||F`,
			`OBX|1|NM|2345-7^Glucose^LN||`+value+`|mg/dL^mg/dL^UCUM|70-99||||F|||20240307110000-0500`)
	}
	first := `PID|1||M1^^^HOSP^MR||FIRST^ANN||19800101|F`
	second := `PID|1||M2^^^HOSP^MR||SECOND^BEA||19800101|F`
	tests := []struct {
		name, before, after, typ, location string
	}{
		{"visit number", visit("OWN1", first, "W1"), visit("OWN2", second, "W9"), "Encounter", "PV1-19"},
		// The result row is checked before its report.
		{"order number", result("OWN3", first, "90"), result("OWN4", second, "300"), "DiagnosticReport", "OBX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				applyText(t, svc, tt.before, v2fhir.Options{})
				stored := search(t, svc, tt.typ, "")
				require.Len(t, stored, 1)

				_, err := v2fhir.Apply(context.Background(), svc, convert(t, tt.after, v2fhir.Options{}))
				require.Error(t, err)
				var located *v2fhir.Error
				require.True(t, errors.As(err, &located), "the error is located: %v", err)
				assert.Equal(t, v2fhir.CodeDuplicateKey, located.Code)
				assert.Equal(t, tt.location, located.Location())
				assert.NotContains(t, err.Error(), "SECOND")

				after := search(t, svc, tt.typ, "")
				require.Len(t, after, 1)
				assert.Equal(t, stored[0].VersionID, after[0].VersionID, "the first patient's record is unchanged")
				assert.Empty(t, search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|M2"),
					"the second patient is not created either")
			})
		})
	}
}

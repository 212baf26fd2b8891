package v2fhir_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// idCounts are PID-3 repetition counts past the 64 values of one search.
var idCounts = []int{65, 200}

// manyIDs returns n medical record numbers of authority HOSP as PID-3
// repetitions, MRN000 first.
func manyIDs(n int) string {
	reps := make([]string, n)
	for i := range reps {
		reps[i] = mrn(i) + "^^^HOSP^MR"
	}
	return strings.Join(reps, "~")
}

func mrn(i int) string { return fmt.Sprintf("MRN%03d", i) }

// patientsWith returns the stored patients that hold MRN i.
func patientsWith(t *testing.T, svc *emr.Service, i int) []emr.Resource {
	t.Helper()
	return search(t, svc, "Patient", "identifier=urn:nexus-health-360:hl7v2:aa:HOSP|"+mrn(i))
}

func TestManyIdentifiersCreate(t *testing.T) {
	for _, n := range idCounts {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				pid := `PID|1||` + manyIDs(n) + `||TESTER^OTTO||19600101|M`
				res := applyText(t, svc, adt("A28", "MID1", pid), v2fhir.Options{})
				assert.Equal(t, 1, res.Created)

				stored := patientsWith(t, svc, n-1)
				require.Len(t, stored, 1, "the last identifier finds the patient")
				assert.Len(t, decode(t, stored[0].Body)["identifier"], n)

				again := applyText(t, svc, adt("A28", "MID2", pid), v2fhir.Options{})
				assert.Equal(t, 1, again.Unchanged, "a resend changes nothing")
				assert.Equal(t, 1, versions(t, svc, "Patient", stored[0].ID))

				result := applyText(t, svc, message(
					`MSH|^~\&|LIS|HOSP|EHR|HOSP|20240310090000-0500||ORU^R01|MID3|P|2.5.1`, pid,
					`OBR|1|PL7001^EHR|LAB7001^LIS|2345-7^Glucose^LN|||20240310080000-0500`,
					`OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L^^UCUM|||||F`,
				), v2fhir.Options{})
				assert.Equal(t, 2, result.Created, "the Observation and DiagnosticReport")
				observations := search(t, svc, "Observation", "")
				require.Len(t, observations, 1)
				subject := decode(t, observations[0].Body)["subject"].(map[string]any)
				assert.Equal(t, "Patient/"+stored[0].ID, subject["reference"])
			})
		})
	}
}

// TestManyIdentifiersFindLast stores a patient by the last identifier of
// PID-3 alone, which the first search does not name, and checks that the
// message updates that patient.
func TestManyIdentifiersFindLast(t *testing.T) {
	for _, n := range idCounts {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				applyText(t, svc, adt("A28", "MIL1", `PID|1||`+mrn(n-1)+`^^^HOSP^MR||TESTER^OTTO||19600101|M`),
					v2fhir.Options{})
				first := patientsWith(t, svc, n-1)
				require.Len(t, first, 1)

				res := applyText(t, svc, adt("A08", "MIL2", `PID|1||`+manyIDs(n)+`||TESTER^OTTO||19600101|M`),
					v2fhir.Options{})
				assert.Equal(t, 1, res.Updated)
				assert.Zero(t, res.Created)
				found := patientsWith(t, svc, 0)
				require.Len(t, found, 1)
				assert.Equal(t, first[0].ID, found[0].ID)
				assert.Len(t, decode(t, found[0].Body)["identifier"], n)
			})
		})
	}
}

// TestManyIdentifiersConflict sends a PID-3 whose first and last
// identifiers name two stored patients, which different searches find.
func TestManyIdentifiersConflict(t *testing.T) {
	for _, n := range idCounts {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				applyText(t, svc, adt("A28", "MIC1", `PID|1||`+mrn(0)+`^^^HOSP^MR||TESTER^ONE||19600101|F`),
					v2fhir.Options{})
				applyText(t, svc, adt("A28", "MIC2", `PID|1||`+mrn(n-1)+`^^^HOSP^MR||TESTER^TWO||19610101|F`),
					v2fhir.Options{})

				plan := convert(t, adt("A08", "MIC3", `PID|1||`+manyIDs(n)+`||TESTER^ONE||19600101|F`),
					v2fhir.Options{})
				_, err := v2fhir.Apply(context.Background(), svc, plan)
				var located *v2fhir.Error
				require.True(t, errors.As(err, &located), "the error is located: %v", err)
				assert.Equal(t, v2fhir.CodeDuplicateKey, located.Code)
				assert.Equal(t, "PID-3", located.Location())
				assert.True(t, errors.Is(err, emr.ErrPreconditionFailed))
				assert.NotContains(t, err.Error(), mrn(0))
				assert.NotContains(t, err.Error(), "TESTER")

				for _, i := range []int{0, n - 1} {
					stored := patientsWith(t, svc, i)
					require.Len(t, stored, 1)
					assert.Equal(t, 1, versions(t, svc, "Patient", stored[0].ID), "nothing was written")
				}
			})
		})
	}
}

// TestManyIdentifiersMerge merges a patient into one that PID-3 names
// by its last identifier only, with as many identifiers in MRG-1.
func TestManyIdentifiersMerge(t *testing.T) {
	for _, n := range idCounts {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				applyText(t, svc, adt("A28", "MIM1", `PID|1||`+mrn(n-1)+`^^^HOSP^MR||TESTER^OTTO||19600101|M`),
					v2fhir.Options{})
				applyText(t, svc, adt("A28", "MIM2", `PID|1||OLD1^^^HOSP^MR||TESTER^OTTO||19600101|M`),
					v2fhir.Options{})
				prior := make([]string, n)
				for i := range prior {
					prior[i] = fmt.Sprintf("PRIOR%03d^^^OTHER^MR", i)
				}
				prior[n-1] = "OLD1^^^HOSP^MR"

				res := applyText(t, svc, adt("A40", "MIM3", `PID|1||`+manyIDs(n)+`||TESTER^OTTO||19600101|M`,
					`MRG|`+strings.Join(prior, "~")), v2fhir.Options{})
				require.Len(t, res.Merged, 1)
				target := patientsWith(t, svc, 0)
				require.Len(t, target, 1)
				assert.Equal(t, target[0].ID, res.Merged[0].Target)
			})
		})
	}
}

// TestManyIdentifiersInBatch applies the messages in units of
// emr.Service.WriteBatch, as nexusd does, where each search also takes a
// lock and the conditional create reuses the first search's result.
func TestManyIdentifiersInBatch(t *testing.T) {
	for _, n := range idCounts {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				svc := serviceOn(t, db)
				pid := `PID|1||` + manyIDs(n) + `||TESTER^OTTO||19600101|M`
				var results []*v2fhir.Result
				var units []emr.BatchUnit
				for _, control := range []string{"MIB1", "MIB2"} {
					plan := convert(t, adt("A28", control, pid), v2fhir.Options{})
					units = append(units, func(ctx context.Context, batch *emr.Service) error {
						res, err := v2fhir.Apply(ctx, batch, plan)
						results = append(results, res)
						return err
					})
				}
				errs, err := svc.WriteBatch(context.Background(), units)
				require.NoError(t, err)
				for _, unitErr := range errs {
					assert.NoError(t, unitErr)
				}
				require.NotEmpty(t, results)
				assert.Equal(t, 1, results[len(results)-1].Unchanged, "the second unit finds the first's patient")

				stored := patientsWith(t, svc, n-1)
				require.Len(t, stored, 1)
				assert.Len(t, decode(t, stored[0].Body)["identifier"], n)
			})
		})
	}
}

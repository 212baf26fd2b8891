package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// patientWithIdentifiers returns a Patient with n distinct identifiers.
func patientWithIdentifiers(id string, n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Patient","id":"` + id + `","identifier":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"system":"urn:example:ids","value":"ID-%07d"}`, i)
	}
	sb.WriteString(`],"gender":"female"}`)
	return []byte(sb.String())
}

// BenchmarkRepeatedElements writes, with one update on SQLite, a Patient
// with n identifiers, up to emr.MaxRepeatedElements, so that a cost above
// linear in n shows as a growing time per identifier.
func BenchmarkRepeatedElements(b *testing.B) {
	for _, n := range []int{2500, 5000, 10000} {
		b.Run(fmt.Sprintf("identifiers=%d", n), func(b *testing.B) {
			db := storagetest.SQLite(b)
			ctx := emr.ContextWithActor(context.Background(), "bench")
			require.NoError(b, db.Migrate(ctx, sqlstore.Migrations()))
			svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
			require.NoError(b, err)
			body := patientWithIdentifiers("many", n)
			b.ResetTimer()
			for range b.N {
				_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "many", Body: body})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/identifier")
		})
	}
}

// patchAddingIdentifiers returns a FHIRPath Patch with n add operations,
// each adding one identifier to the Patient.
func patchAddingIdentifiers(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Parameters","parameter":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"operation","part":[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Patient"},`+
			`{"name":"name","valueString":"identifier"},{"name":"value","part":[{"name":"system","valueUri":"urn:example:ids"},`+
			`{"name":"value","valueString":"P-%07d"}]}]}`, i)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

// BenchmarkFHIRPathPatchAdds applies, on SQLite, one FHIRPath Patch of n
// add operations, up to emr.MaxPatchOperations, to a Patient that has no
// identifiers.
func BenchmarkFHIRPathPatchAdds(b *testing.B) {
	for _, n := range []int{250, 500, 1000} {
		b.Run(fmt.Sprintf("adds=%d", n), func(b *testing.B) {
			db := storagetest.SQLite(b)
			ctx := emr.ContextWithActor(context.Background(), "bench")
			require.NoError(b, db.Migrate(ctx, sqlstore.Migrations()))
			svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
			require.NoError(b, err)
			empty := []byte(`{"resourceType":"Patient","id":"many","gender":"female"}`)
			patch := patchAddingIdentifiers(n)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				_, _, err := svc.Update(ctx, emr.UpdateParams{Type: "Patient", ID: "many", Body: empty})
				require.NoError(b, err)
				b.StartTimer()
				_, err = svc.FHIRPathPatch(ctx, emr.FHIRPathPatchParams{Type: "Patient", ID: "many", Parameters: patch})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/add")
		})
	}
}

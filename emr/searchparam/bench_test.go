package searchparam_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// BenchmarkExtract extracts the index entries of every resource of the
// Synthea test bundle once per iteration.
func BenchmarkExtract(b *testing.B) {
	resources := loadBundle(b, true)
	reg := searchparam.R4()
	b.ReportAllocs()
	entries := 0
	for b.Loop() {
		for _, r := range resources {
			out, err := reg.Extract(r["resourceType"].(string), r)
			if err != nil {
				b.Fatal(err)
			}
			entries += len(out)
		}
	}
	seconds := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N*len(resources))/seconds, "resources/s")
	b.ReportMetric(float64(entries)/float64(b.N*len(resources)), "entries/resource")
}

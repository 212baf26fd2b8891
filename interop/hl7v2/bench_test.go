package hl7v2

import (
	"path/filepath"
	"testing"
)

// typicalADT is a 24-segment ADT^A01 of about 8.5 KB from the testdata.
func typicalADT(b *testing.B) []byte {
	return readTestdata(b, filepath.Join("testdata", "microsoft-fhir-converter", "ADT-A01-01.hl7"))
}

func BenchmarkParseADT(b *testing.B) {
	data := typicalADT(b)
	opts := ParseOptions{Lenient: true}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkEncodeADT(b *testing.B) {
	m, err := Parse(typicalADT(b), ParseOptions{Lenient: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Set("PID-5.1", "TESTER"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Encode(WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

package hl7v2

import (
	"runtime"
	"strings"
	"testing"
)

// parseTargetPerCore is the parse rate that a typical ADT^A01 of about
// 1 KB should reach on one core, in messages per second.
const parseTargetPerCore = 50000

// adt1K is a made-up ADT^A01 of 1,085 bytes with the segments of a common
// admission: MSH, EVN, PID with three identifiers and two names, PV1, two
// OBX and AL1.
var adt1K = strings.Join([]string{
	`MSH|^~\&|EPICADT|GENHOSP^2.16.840.1.113883.19.4.6^ISO|NEXUS|GENHOSP|20240301101500-0500||ADT^A01^ADT_A01|MSG20240301101500123|P|2.5.1|||AL|NE|USA||en`,
	`EVN|A01|20240301101500-0500||ADM|1234^ADMITTER^ALEX^^^^^^GENHOSP|20240301101000-0500`,
	`PID|1||MRN00481516^^^GENHOSP^MR~999-12-3456^^^USSSA^SS~ENC77001^^^GENHOSP^AN||BENCHMARK^JORDAN^Q^^MR^^L~BENCH^JORDY^^^^^N||19760412|M|||1200 Harbor View Rd^Apt 4B^Springfield^IL^62704^USA^H||^PRN^PH^^1^217^5550123~^NET^Internet^jordan.benchmark@example.org|^WPN^PH^^1^217^5550199|en^English^ISO639|M^Married^HL70002|CHR^Christian^HL70006|ACCT2024030101^^^GENHOSP^AN|||N^Not Hispanic or Latino^HL70189`,
	`PV1|1|I|4W^412^B^GENHOSP^^^^MED4W||||004777^ATTENDING^SAM^J^^DR^MD|005888^REFERRING^PAT^^^DR^MD||MED||||7|||004777^ATTENDING^SAM^J^^DR^MD|IP|VN20240301001^^^GENHOSP^VN|||||||||||||||||||||||||20240301101000-0500`,
	`OBX|1|NM|8302-2^Body height^LN||178|cm^centimeter^UCUM|||||F|||20240301100500-0500`,
	`OBX|2|NM|29463-7^Body weight^LN||82.5|kg^kilogram^UCUM|||||F|||20240301100500-0500`,
	`AL1|1|DA|70618^Penicillin^RXNORM|SV|Hives~Shortness of breath|20190615`,
}, "\r") + "\r"

// BenchmarkParseADT1K measures Parse on adt1K in one goroutine, so
// msgs/s/core is the single-core rate.
func BenchmarkParseADT1K(b *testing.B) {
	data := []byte(adt1K)
	opts := ParseOptions{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, opts); err != nil {
			b.Fatal(err)
		}
	}
	perCore := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(perCore, "msgs/s/core")
	b.ReportMetric(perCore/parseTargetPerCore, "x-target")
}

// BenchmarkParseADT1KParallel measures Parse on adt1K with GOMAXPROCS set
// to 2 and one goroutine per P, and divides the rate by 2 for msgs/s/core.
// On a machine with fewer than 2 free cores the per-core rate is lower
// than the single-goroutine one.
func BenchmarkParseADT1KParallel(b *testing.B) {
	const procs = 2
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	data := []byte(adt1K)
	opts := ParseOptions{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := Parse(data, opts); err != nil {
				b.Error(err)
				return
			}
		}
	})
	total := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(total, "msgs/s")
	b.ReportMetric(total/procs, "msgs/s/core")
	b.ReportMetric(total/procs/parseTargetPerCore, "x-target")
}

func TestADT1KIsTypicalSize(t *testing.T) {
	if n := len(adt1K); n < 900 || n > 1200 {
		t.Fatalf("adt1K is %d bytes, expected about 1 KB (900 to 1,200)", n)
	}
	m, err := Parse([]byte(adt1K), ParseOptions{})
	if err != nil {
		t.Fatalf("parse adt1K: %v", err)
	}
	if got := m.Get("MSH-10"); got != "MSG20240301101500123" {
		t.Errorf("MSH-10 = %q, expected MSG20240301101500123", got)
	}
	if got := m.Get("PID-3[2].1"); got != "999-12-3456" {
		t.Errorf("PID-3[2].1 = %q, expected 999-12-3456", got)
	}
}

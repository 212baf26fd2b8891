package hl7v2

import (
	"fmt"
	"strings"
	"testing"
)

// dumpTree renders every level of the tree with raw and decoded text, so
// two parses can be compared.
func dumpTree(m *Message) string {
	var b strings.Builder
	for _, s := range m.Segments() {
		fmt.Fprintf(&b, "%s\n", s.ID())
		for i := 1; i <= s.FieldCount(); i++ {
			f := s.Field(i)
			fmt.Fprintf(&b, " %d %q %q\n", i, f.Raw(), f.Text())
			for _, r := range f.Repetitions() {
				for _, c := range r.Components() {
					for _, sc := range c.Subcomponents() {
						fmt.Fprintf(&b, "   %q %q\n", sc.Raw(), sc.Text())
					}
				}
			}
		}
	}
	return b.String()
}

func FuzzParse(f *testing.F) {
	for _, path := range testdataFiles(f) {
		f.Add(readTestdata(f, path))
	}
	f.Add(crMessage(admitSegments...))
	f.Add(crMessage(resultSegments...))
	f.Add(crMessage(`MSH|^~&|A|B|C|D|20240306111100||ORM^O01|X|T|2.3`, `OBR|1|&x\`))
	// Batch envelopes, whole and cut short.
	f.Add(crMessage(`FHS|^~\&|A`, `BHS|^~\&|A`, `MSH|^~\&|A|B|C|D|20240306111100||ADT^A01|X|P|2.5`, `BTS|1`, `FTS|1`))
	f.Add([]byte("BHS"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lenient := range []bool{false, true} {
			opts := ParseOptions{Lenient: lenient}
			file, err := ParseFile(data, opts)
			_, _ = Parse(data, opts)
			_, _ = ParseHeader(data)
			if err != nil {
				continue
			}
			for _, m := range file.Messages() {
				out, err := m.Encode(WriteOptions{})
				if err != nil {
					t.Fatalf("encode of an accepted message failed: %v", err)
				}
				again, err := Parse(out, opts)
				if err != nil {
					t.Fatalf("re-parse of encoded message failed (lenient=%v): %v", lenient, err)
				}
				if dumpTree(m) != dumpTree(again) {
					t.Fatalf("tree changed after encode and re-parse (lenient=%v)", lenient)
				}
			}
		}
	})
}

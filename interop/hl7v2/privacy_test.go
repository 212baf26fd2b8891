package hl7v2

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrorsCarryNoPatientData feeds a fake name and record number through
// failing paths and checks that neither appears in any error or warning.
func TestErrorsCarryNoPatientData(t *testing.T) {
	t.Parallel()
	const name, mrn = "ZZFAKENAME", "MRN998877"
	msh := `MSH|^~\&|A|B|C|D|20240301101500||ADT^A01|X|P|2.5`
	inputs := map[string][]byte{
		"bad escape":        crMessage(msh, `PID|1||`+mrn+`\Q\||`+name+`\`),
		"bad segment id":    crMessage(msh, name+`|`+mrn),
		"charset":           crMessage(msh, "PID|1||"+mrn+"||"+name+"\xff"),
		"field limit":       crMessage(msh, "PID|1||"+mrn+"||"+name+strings.Repeat("X", 200)),
		"LF terminators":    []byte(msh + "\nPID|1||" + mrn + "||" + name + "\n"),
		"bad version":       crMessage(`MSH|^~\&|` + name + `|B|C|D|20240301101500||ADT^A01|X|P|` + name + `^` + mrn),
		"bad timestamp":     crMessage(`MSH|^~\&|A|B|C|D|`+mrn+`||ADT^A01|X|P|2.5`, "PID|1||"+mrn+"||"+name),
		"no MSH":            []byte("PID|1||" + mrn + "||" + name + "\r"),
		"FS before id":      crMessage(msh, "\x1c"+name+"|"+mrn),
		"no final CR":       []byte(msh + "\rPID|1||" + mrn + "||" + name),
		"blank line":        crMessage(msh, "", "PID|1||"+mrn+"\xff||"+name),
		"bad encoding char": crMessage(`MSH|^~A&|` + name + `|` + mrn),
	}
	check := func(t *testing.T, text string) {
		assert.NotContains(t, text, name)
		assert.NotContains(t, text, mrn)
	}
	for label, data := range inputs {
		t.Run(label, func(t *testing.T) {
			for _, lenient := range []bool{false, true} {
				opts := ParseOptions{Lenient: lenient, Limits: Limits{MaxFieldBytes: 100}}
				m, err := Parse(data, opts)
				if err != nil {
					check(t, err.Error())
					for _, e := range Errors(err) {
						check(t, e.Error())
					}
				}
				if m != nil {
					for _, w := range m.Warnings() {
						check(t, w.Error())
					}
					if header := m.Header(); header != nil {
						ack, err := BuildACK(header, AckError, Errors(err), time.Now(), "ACK1")
						if err == nil {
							msa := string(ack[strings.Index(string(ack), "\rMSA"):])
							check(t, msa)
						}
					}
				}
				_, err = ParseFile(data, opts)
				if err != nil {
					check(t, err.Error())
				}
			}
		})
	}

	m, err := Parse(crMessage(msh, "ORC|NW|1|||||^^^"+mrn), ParseOptions{})
	require.NoError(t, err)
	_, err = m.DateTime("ORC-7.4")
	require.Error(t, err)
	check(t, err.Error())
	_, err = ParseDateTime(mrn, false)
	require.Error(t, err)
	check(t, err.Error())
}

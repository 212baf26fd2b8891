package emr

import "golang.org/x/text/unicode/norm"

// nfc returns s in Unicode normalization form C, the form names are stored
// and compared in.
func nfc(s string) string { return norm.NFC.String(s) }

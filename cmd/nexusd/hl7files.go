package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// readMessages reads an HL7 v2 file and splits it into messages. Line ends
// are normalised to CR first, because files are often saved with LF or
// CRLF, while MLLP senders and the strict parser expect CR. A message
// starts at each segment that begins with "MSH" and a delimiter, as in
// hl7v2.ParseFile. Batch envelope segments (FHS, BHS, BTS, FTS) and blank
// lines are dropped, so the messages of a batch are handled one by one.
// Each message keeps its bytes otherwise, so that the receiver judges
// them as written.
func readMessages(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, hl7v2.DefaultMaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > hl7v2.DefaultMaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, hl7v2.DefaultMaxFileBytes)
	}
	messages := splitMessages(data)
	if len(messages) == 0 {
		return nil, fmt.Errorf("%s contains no MSH segment", path)
	}
	return messages, nil
}

func splitMessages(data []byte) [][]byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\r"))
	data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r"))
	var messages [][]byte
	var current []byte
	for _, segment := range bytes.Split(data, []byte("\r")) {
		switch {
		case len(bytes.TrimSpace(segment)) == 0:
			continue
		case hasSegmentID(segment, "MSH"):
			if current != nil {
				messages = append(messages, current)
			}
			current = append([]byte(nil), segment...)
			current = append(current, '\r')
		case hasSegmentID(segment, "FHS"), hasSegmentID(segment, "BHS"),
			hasSegmentID(segment, "BTS"), hasSegmentID(segment, "FTS"):
			if current != nil {
				messages = append(messages, current)
				current = nil
			}
		case current != nil:
			current = append(current, segment...)
			current = append(current, '\r')
		}
	}
	if current != nil {
		messages = append(messages, current)
	}
	return messages
}

// hasSegmentID reports whether segment starts with id and then a
// delimiter: a printable character that is not a letter or digit.
func hasSegmentID(segment []byte, id string) bool {
	if !bytes.HasPrefix(segment, []byte(id)) {
		return false
	}
	if len(segment) == len(id) {
		return id != "MSH"
	}
	c := segment[len(id)]
	alnum := (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
	return c > ' ' && c < 0x7f && !alnum
}

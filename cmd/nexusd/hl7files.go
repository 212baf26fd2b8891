package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// fileMessage is one message of an HL7 v2 file.
type fileMessage struct {
	// data is the message with CR after each segment.
	data []byte
	// lines are the line numbers in the file, from 1, of the segments of
	// data, in order.
	lines []int
}

// lineOf returns the line number in the file of the segment of m that
// contains byte offset i of m.data.
func (m fileMessage) lineOf(i int) int {
	return m.lines[bytes.Count(m.data[:i], []byte{'\r'})]
}

// readMessages reads an HL7 v2 file and splits it into messages. Line ends
// are normalised to CR first, because files are often saved with LF or
// CRLF, while MLLP senders and the strict parser expect CR. A message
// starts at each segment that begins with "MSH" and a delimiter, as in
// hl7v2.ParseFile. Batch envelope segments (FHS, BHS, BTS, FTS) and blank
// lines are dropped, so the messages of a batch are handled one by one.
// Each message keeps its bytes otherwise, so that the receiver judges
// them as written. Errors leave out the path, which callers print before
// them.
func readMessages(path string) ([]fileMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, readError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, hl7v2.DefaultMaxFileBytes+1))
	if err != nil {
		return nil, readError(err)
	}
	if len(data) > hl7v2.DefaultMaxFileBytes {
		return nil, fmt.Errorf("the file is larger than the maximum of %d bytes", hl7v2.DefaultMaxFileBytes)
	}
	messages := splitMessages(data)
	if len(messages) == 0 {
		return nil, errors.New("no HL7 v2 message found: the file contains no MSH segment")
	}
	return messages, nil
}

// readError drops the path from an error of os.Open or Read.
func readError(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	return fmt.Errorf("reading the file failed: %w", err)
}

func splitMessages(data []byte) []fileMessage {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\r"))
	data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r"))
	var messages []fileMessage
	var current *fileMessage
	for i, segment := range bytes.Split(data, []byte("\r")) {
		switch {
		case len(bytes.TrimSpace(segment)) == 0:
			continue
		case hasSegmentID(segment, "MSH"):
			if current != nil {
				messages = append(messages, *current)
			}
			current = &fileMessage{}
		case hasSegmentID(segment, "FHS"), hasSegmentID(segment, "BHS"),
			hasSegmentID(segment, "BTS"), hasSegmentID(segment, "FTS"):
			if current != nil {
				messages = append(messages, *current)
				current = nil
			}
			continue
		case current == nil:
			continue
		}
		current.data = append(current.data, segment...)
		current.data = append(current.data, '\r')
		current.lines = append(current.lines, i+1)
	}
	if current != nil {
		messages = append(messages, *current)
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

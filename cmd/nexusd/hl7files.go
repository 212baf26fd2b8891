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

// fileMessage is one message of an HL7 v2 file, or a run of text outside
// any message.
type fileMessage struct {
	// data is the message with CR after each segment.
	data []byte
	// lines are the line numbers in the file, from 1, of the segments of
	// data, in order.
	lines []int
	// outside, when set, explains why the lines are not part of a message.
	// Such text is reported and counted as failed, but never sent or
	// applied.
	outside string
}

// lineOf returns the line number in the file of the segment of m that
// contains byte offset i of m.data.
func (m fileMessage) lineOf(i int) int {
	return m.lines[bytes.Count(m.data[:i], []byte{'\r'})]
}

// lineRange returns the lines of m, such as "line 4" or "lines 4-6".
func (m fileMessage) lineRange() string {
	first, last := m.lines[0], m.lines[len(m.lines)-1]
	if first == last {
		return fmt.Sprintf("line %d", first)
	}
	return fmt.Sprintf("lines %d-%d", first, last)
}

// readMessages reads an HL7 v2 file and splits it into messages. Line ends
// are normalised to CR first, because files are often saved with LF or
// CRLF, while MLLP senders and the strict parser expect CR. A message
// starts at each segment that begins with "MSH" and a delimiter, as in
// hl7v2.ParseFile. Batch envelope segments (FHS, BHS, BTS, FTS) and the
// blank lines between messages are dropped, so the messages of a batch are
// handled one by one. Other text before the first MSH or after an envelope
// segment becomes an entry whose outside field is set, so that callers
// report it. Each message keeps its bytes otherwise, blank lines between
// its segments included, so that the receiver judges them as written.
// Errors leave out the path, which callers print before them.
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
	for _, m := range messages {
		if m.outside == "" {
			return messages, nil
		}
	}
	for _, m := range messages {
		if hasLowercaseMSH(m.data) {
			return nil, fmt.Errorf("no HL7 v2 message found: %s", m.outside)
		}
	}
	return nil, errors.New("no HL7 v2 message found: the file contains no MSH segment")
}

// readError drops the path from an error of os.Open or Read.
func readError(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	return fmt.Errorf("reading the file failed: %w", err)
}

// splitMessages splits the text of an HL7 v2 file as readMessages
// describes.
func splitMessages(data []byte) []fileMessage {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\r"))
	data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r"))
	var messages []fileMessage
	var current *fileMessage
	// blanks are the blank lines after the last segment of a message. They
	// belong to it only when another of its segments follows them.
	var blanks fileMessage
	// envelope names the last envelope segment and its line, such as "BTS
	// segment of line 6", for text that follows it outside a message.
	envelope := ""
	for i, segment := range bytes.Split(data, []byte("\r")) {
		line := i + 1
		switch {
		case len(bytes.TrimSpace(segment)) == 0:
			if current != nil && current.outside == "" {
				blanks.add(segment, line)
			}
			continue
		case hasSegmentID(segment, "MSH"):
			if current != nil {
				messages = append(messages, *current)
			}
			current = &fileMessage{}
		case isEnvelopeSegment(segment):
			if current != nil {
				messages = append(messages, *current)
				current = nil
			}
			blanks = fileMessage{}
			envelope = fmt.Sprintf("%s segment of line %d", segment[:3], line)
			continue
		case current == nil, hasLowercaseMSH(segment):
			// A lowercase "msh" line ends the message before it, which
			// it would otherwise join and break.
			if current != nil {
				messages = append(messages, *current)
			}
			current = &fileMessage{outside: outsideReason(segment, line, envelope)}
		default:
			current.data = append(current.data, blanks.data...)
			current.lines = append(current.lines, blanks.lines...)
		}
		blanks = fileMessage{}
		current.add(segment, line)
	}
	if current != nil {
		messages = append(messages, *current)
	}
	return messages
}

// add appends segment, which is on the given line of the file, to m.
func (m *fileMessage) add(segment []byte, line int) {
	m.data = append(m.data, segment...)
	m.data = append(m.data, '\r')
	m.lines = append(m.lines, line)
}

// outsideReason explains why segment, on the given line, starts text
// outside a message. envelope names the last envelope segment before it,
// or is empty.
func outsideReason(segment []byte, line int, envelope string) string {
	switch {
	case hasLowercaseMSH(segment):
		return fmt.Sprintf("line %d begins with %q, but a message starts only at a line that begins with "+
			"MSH in capitals and the field separator", line, segment[:3])
	case envelope != "":
		return "the text after the " + envelope + " is outside any message, because no MSH segment starts it"
	}
	return "the text before the first MSH segment is outside any message"
}

// hasLowercaseMSH reports whether segment begins with "MSH" in other than
// capitals and then a delimiter. Such a segment starts no message, because
// a message starts only at "MSH" in capitals.
func hasLowercaseMSH(segment []byte) bool {
	return len(segment) > 3 && bytes.EqualFold(segment[:3], []byte("MSH")) &&
		!bytes.HasPrefix(segment, []byte("MSH")) && isDelimiter(segment[3])
}

// isEnvelopeSegment reports whether segment is an FHS, BHS, BTS or FTS
// segment of a batch file.
func isEnvelopeSegment(segment []byte) bool {
	return hasSegmentID(segment, "FHS") || hasSegmentID(segment, "BHS") ||
		hasSegmentID(segment, "BTS") || hasSegmentID(segment, "FTS")
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
	return isDelimiter(segment[len(id)])
}

// isDelimiter reports whether c can be an HL7 v2 delimiter: a printable
// character that is not a letter or digit.
func isDelimiter(c byte) bool {
	alnum := (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
	return c > ' ' && c < 0x7f && !alnum
}

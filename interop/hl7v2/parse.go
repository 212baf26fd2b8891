package hl7v2

import (
	"bytes"
	"strconv"
)

// rawSegment is one segment's bytes without its terminator, with its byte
// offset in the input.
type rawSegment struct {
	data   []byte
	offset int
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse parses exactly one message. Input that holds several messages or
// batch segments (FHS, BHS, BTS, FTS) is rejected; use ParseFile for it.
//
// The error, when not nil, is an ErrorList of every error found, up to
// Limits.MaxErrors. The message is returned with it whenever an MSH segment
// was found, so that a caller can build a negative ACK; such a message may
// lack the segments that had errors and must not be processed further.
// Problems that lenient mode accepts are in Message.Warnings.
func Parse(data []byte, opts ParseOptions) (*Message, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	c := newCollector(opts)
	if len(data) > opts.Limits.MaxMessageBytes {
		c.add(limitError("MaxMessageBytes", len(data), opts.Limits.MaxMessageBytes, 0))
		return nil, c.result()
	}
	items := splitFile(data, c)
	var msg *Message
	var messages int
	for _, it := range items {
		if it.envelope != nil {
			c.add(&ParseError{
				Kind: KindMultipleMessages, SegmentID: string(it.envelope.data[:3]), Offset: it.envelope.offset,
				Message: "batch segment in a single message; use ParseFile for batches",
			})
			continue
		}
		messages++
		if messages == 1 {
			msg = parseMessage(it.segments, opts, c)
			continue
		}
		if messages == 2 {
			c.add(&ParseError{
				Kind: KindMultipleMessages, SegmentID: "MSH", Offset: it.segments[0].offset,
				Message: "input holds more than one message; use ParseFile",
			})
		}
	}
	if messages == 0 && !c.errs.HasKind(KindMissingMSH) {
		c.add(&ParseError{Kind: KindMissingMSH, Offset: 0, Message: "input has no MSH segment"})
	}
	if msg != nil {
		msg.warnings = c.warnings
	}
	return msg, c.result()
}

// limitError reports that size exceeded the limit named name.
func limitError(name string, size, limit, offset int) *ParseError {
	return &ParseError{
		Kind: KindLimit, Offset: offset, Limit: name,
		Message: "size " + strconv.Itoa(size) + " bytes exceeds limit " + name + " (" + strconv.Itoa(limit) + " bytes)",
	}
}

// fileItem is either one envelope segment (FHS, BHS, BTS, FTS) or the
// segments of one message.
type fileItem struct {
	envelope *rawSegment
	segments []rawSegment
}

// splitFile strips a byte order mark, splits data into segments and groups
// them into messages. A message starts only at a segment that begins with
// "MSH" and a delimiter character, so "MSH" inside a field is data.
func splitFile(data []byte, c *collector) []fileItem {
	base := 0
	if bytes.HasPrefix(data, utf8BOM) {
		if !c.lenient {
			c.add(&ParseError{Kind: KindByteOrderMark, Offset: 0, Message: "input starts with a UTF-8 byte order mark"})
		}
		data = data[len(utf8BOM):]
		base = len(utf8BOM)
	}
	segs := frame(data, base, c)
	// A message is a run of segments, so its segments are a slice of segs,
	// capped so that no append reaches the next message.
	items := make([]fileItem, 0, 1)
	open, start := -1, 0
	closeOpen := func(end int) {
		if open >= 0 {
			items[open].segments = segs[start:end:end]
			open = -1
		}
	}
	orphan := false
	for i, s := range segs {
		switch {
		case isMessageStart(s.data):
			closeOpen(i)
			items = append(items, fileItem{})
			open, start = len(items)-1, i
			orphan = false
		case isEnvelope(s.data):
			closeOpen(i)
			items = append(items, fileItem{envelope: &segs[i]})
			orphan = false
		case open >= 0:
		default:
			if !orphan {
				c.add(&ParseError{Kind: KindMissingMSH, Offset: s.offset, Message: "segment before any MSH segment"})
			}
			orphan = true
		}
	}
	closeOpen(len(segs))
	return items
}

func isMessageStart(b []byte) bool {
	return len(b) >= 4 && b[0] == 'M' && b[1] == 'S' && b[2] == 'H' && isDelimiterChar(b[3])
}

func isEnvelope(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	switch string(b[:3]) {
	case "FHS", "BHS", "BTS", "FTS":
		return len(b) == 3 || isDelimiterChar(b[3])
	}
	return false
}

// frame splits data into non-blank segments. Strict mode accepts only CR
// terminators and reports the first LF or CRLF once, then goes on with it
// as a terminator so that later errors are found too. Lenient mode ends a
// segment at CR or CRLF, and also at a lone LF when data has no lone CR
// (otherwise an LF is data), and skips blank lines.
func frame(data []byte, base int, c *collector) []rawSegment {
	lfEnds := !c.lenient || !hasLoneCR(data)
	segs := make([]rawSegment, 0, bytes.Count(data, []byte{'\r'})+1)
	var pendingBlank []int
	reported := false

	emit := func(seg []byte, offset int) {
		if isBlank(seg) {
			if !c.lenient {
				c.add(&ParseError{Kind: KindEmptySegment, Offset: offset, Message: "empty segment"})
				return
			}
			pendingBlank = append(pendingBlank, offset)
			return
		}
		if len(pendingBlank) > 0 && !isMessageStart(seg) && !isEnvelope(seg) && len(segs) > 0 {
			for _, off := range pendingBlank {
				c.add(&ParseError{Kind: KindEmptySegment, Severity: SeverityWarning, Offset: off, Message: "blank line inside a message ignored"})
			}
		}
		pendingBlank = pendingBlank[:0]
		segs = append(segs, rawSegment{data: seg, offset: offset})
	}

	// badTerminator reports the first segment ended by LF or CRLF, with its
	// id and position so the ACK's ERR-2 can locate it.
	badTerminator := func(offset int, what string, segment []byte) {
		if !c.lenient && !reported {
			reported = true
			e := &ParseError{
				Kind: KindSegmentTerminator, Offset: offset, Segment: len(segs) + 1,
				Message: "non-CR segment terminator (" + what + "); HL7 v2 segments end with CR",
			}
			e.SegmentID, e.Occurrence = segmentOccurrence(segment, segs)
			c.add(e)
		}
	}

	start, i := 0, 0
	for i < len(data) {
		j := bytes.IndexAny(data[i:], "\r\n")
		if j < 0 {
			break
		}
		i += j
		end := i
		if data[i] == '\r' {
			if i+1 < len(data) && data[i+1] == '\n' {
				badTerminator(base+i, "CRLF", data[start:end])
				i += 2
			} else {
				i++
			}
		} else {
			if !lfEnds {
				i++
				continue
			}
			badTerminator(base+i, "LF", data[start:end])
			i++
		}
		emit(data[start:end], base+start)
		start = i
	}

	if start < len(data) {
		tail := data[start:]
		if !c.lenient && !isBlank(tail) {
			c.add(&ParseError{Kind: KindSegmentTerminator, Offset: base + len(data), Message: "last segment has no CR terminator"})
		}
		emit(tail, base+start)
	}
	return segs
}

// hasLoneCR reports whether data has a CR that is not followed by LF.
func hasLoneCR(data []byte) bool {
	for i := 0; i < len(data); i++ {
		j := bytes.IndexByte(data[i:], '\r')
		if j < 0 {
			return false
		}
		i += j
		if i+1 >= len(data) || data[i+1] != '\n' {
			return true
		}
	}
	return false
}

// isBlank reports whether b is empty or holds only spaces, tabs, CR and LF.
func isBlank(b []byte) bool {
	for _, x := range b {
		if x != ' ' && x != '\t' && x != '\r' && x != '\n' {
			return false
		}
	}
	return true
}

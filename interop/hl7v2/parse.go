package hl7v2

import (
	"bytes"
	"strconv"
)

// rawSegment is one segment's bytes without its terminator, with its byte
// offset in the input and its position in its message (see
// ParseError.Segment).
type rawSegment struct {
	data     []byte
	offset   int
	position int
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
		c.add(MessageSizeError(len(data), opts.Limits.MaxMessageBytes))
		return nil, c.result()
	}
	items := splitFile(data, c)
	var msg *Message
	var messages int
	var envelopes segmentCounts
	for _, it := range items {
		if it.envelope != nil {
			id := string(it.envelope.data[:3])
			c.add(&ParseError{
				Kind: KindMultipleMessages, SegmentID: id, Occurrence: envelopes.add(id), Offset: it.envelope.offset,
				Message: "a batch envelope segment (FHS, BHS, BTS or FTS) is not accepted in a single message, " +
					"so send the messages of the batch one by one",
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
				Kind: KindMultipleMessages, SegmentID: "MSH", Occurrence: 2, Offset: it.segments[0].offset,
				Message: "the input contains more than one message, so send each message on its own",
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

// MessageSizeError returns the error that Parse reports for input of size
// bytes over a Limits.MaxMessageBytes of limit. A caller that rejects a
// message before parsing it, such as an MLLP frame over the maximum frame
// size, uses it to acknowledge the message as Parse would. It is located
// at the whole input, which BuildACK writes as MSH^1.
func MessageSizeError(size, limit int) *ParseError {
	return limitError("MaxMessageBytes", "the message", size, limit, 0)
}

// limitError reports that subject, of size bytes, exceeds the Limits
// field named name, whose value is limit. The message names the limit in
// words, because it reaches the sender in ERR-7 of an ACK.
func limitError(name, subject string, size, limit, offset int) *ParseError {
	return &ParseError{
		Kind: KindLimit, Offset: offset, Limit: name,
		Message: subject + " is " + strconv.Itoa(size) + " bytes, more than the " + limitTerms[name] +
			" of " + strconv.Itoa(limit) + " bytes",
	}
}

// limitTerms names the size limits of Limits in the words of an error
// message.
var limitTerms = map[string]string{
	"MaxMessageBytes": "maximum message size",
	"MaxFileBytes":    "maximum input size",
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
				// The segment is outside the message, so the error names
				// no segment and an ACK locates it at MSH^1.
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
	f := &framer{c: c, segs: make([]rawSegment, 0, bytes.Count(data, []byte{'\r'})+1)}
	start, i := 0, 0
	for i < len(data) {
		j := bytes.IndexAny(data[i:], "\r\n")
		if j < 0 {
			break
		}
		i += j
		end := i
		terminator := "CR"
		if data[i] == '\r' {
			if i+1 < len(data) && data[i+1] == '\n' {
				terminator = "CRLF"
				i++
			}
		} else {
			if !lfEnds {
				i++
				continue
			}
			terminator = "LF"
		}
		i++
		f.add(data[start:end], base+start)
		if terminator != "CR" {
			f.badTerminator(data[start:end], base+end, terminator)
		}
		start = i
	}

	if start < len(data) {
		tail := data[start:]
		f.add(tail, base+start)
		if !c.lenient && !isBlank(tail) {
			c.add(f.errorAt(KindSegmentTerminator, tail, base+len(data), "last segment has no CR terminator"))
		}
	}
	return f.segs
}

// framer collects the segments that frame splits and numbers each within
// its message, so that the errors of frame name the segment they concern.
type framer struct {
	c    *collector
	segs []rawSegment
	// position is the position of the last segment in its message,
	// counting blank segments. It is 0 outside a message, which is before
	// the first MSH or after an envelope segment. first is the index in
	// segs where the current message or run of segments outside a message
	// starts, and fs is the field separator of the current message, 0
	// outside one.
	position int
	first    int
	fs       byte
	// pendingBlank holds the blank segments of lenient mode that are
	// reported only when a segment of the same message follows them.
	pendingBlank []rawSegment
	// reported is set once badTerminator has reported a terminator.
	reported bool
}

// add appends a non-blank segment to segs, and reports a blank one as an
// error in strict mode or, inside a message, as a warning in lenient mode.
func (f *framer) add(seg []byte, offset int) {
	if isBlank(seg) {
		if f.position > 0 {
			f.position++
		}
		if !f.c.lenient {
			f.c.add(&ParseError{Kind: KindEmptySegment, Segment: f.position, Offset: offset, Message: "empty segment"})
			return
		}
		f.pendingBlank = append(f.pendingBlank, rawSegment{offset: offset, position: f.position})
		return
	}

	messageStart, envelope := isMessageStart(seg), isEnvelope(seg)
	if len(f.pendingBlank) > 0 && !messageStart && !envelope && len(f.segs) > 0 {
		for _, blank := range f.pendingBlank {
			f.c.add(&ParseError{
				Kind: KindEmptySegment, Severity: SeverityWarning, Segment: blank.position, Offset: blank.offset,
				Message: "blank line inside a message ignored",
			})
		}
	}
	f.pendingBlank = f.pendingBlank[:0]

	switch {
	case messageStart:
		f.position, f.first, f.fs = 1, len(f.segs), seg[3]
	case envelope:
		f.position, f.first, f.fs = 0, len(f.segs), 0
	case f.position > 0:
		f.position++
	}
	f.segs = append(f.segs, rawSegment{data: seg, offset: offset, position: f.position})
}

// badTerminator reports the first segment ended by LF or CRLF: as an
// error in strict mode and as a warning in lenient mode.
func (f *framer) badTerminator(seg []byte, offset int, terminator string) {
	if f.reported {
		return
	}
	f.reported = true
	f.c.problem(f.errorAt(KindSegmentTerminator, seg, offset,
		"non-CR segment terminator ("+terminator+"); HL7 v2 segments end with CR"))
}

// errorAt returns an error at seg, the segment that add handled last. The
// error carries the segment's position, and its id and occurrence when the
// id is readable.
func (f *framer) errorAt(kind Kind, seg []byte, offset int, message string) *ParseError {
	e := &ParseError{Kind: kind, Segment: f.position, Offset: offset, Message: message}
	if !isBlank(seg) {
		earlier := f.segs[f.first : len(f.segs)-1]
		e.SegmentID, e.Occurrence = segmentOccurrence(seg, earlier, f.fs)
	}
	return e
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

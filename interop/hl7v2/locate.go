package hl7v2

import "strings"

// readableSegmentID returns the id by which an error may name the raw
// segment data: a valid id, or a standard id in the wrong case ("pid"),
// followed by the field separator fs or ending the segment. An fs of 0
// accepts any delimiter character, for segments outside a message. It
// returns "" for any other segment, because the start of a segment cut off
// by a stray terminator may be patient data.
func readableSegmentID(data []byte, fs byte) string {
	if len(data) < 3 || (len(data) > 3 && !endsSegmentID(data[3], fs)) {
		return ""
	}
	id := string(data[:3])
	if validSegmentID(id) {
		return id
	}
	if _, ok := miscasedSegmentID(id, 0); ok {
		return id
	}
	return ""
}

// endsSegmentID reports whether x, the byte after a segment id, is the
// field separator fs, or any delimiter character when fs is 0.
func endsSegmentID(x, fs byte) bool {
	if fs == 0 {
		return isDelimiterChar(x)
	}
	return x == fs
}

// segmentOccurrence returns the readable id of the raw segment data (see
// readableSegmentID) and its 1-based occurrence among the earlier segments
// of its message with the same spelling, as ERR-2 reports it. It returns
// "" and 0 when the id is not readable.
func segmentOccurrence(data []byte, earlier []rawSegment, fs byte) (string, int) {
	id := readableSegmentID(data, fs)
	if id == "" {
		return "", 0
	}
	occurrence := 1
	for _, seg := range earlier {
		if len(seg.data) >= 3 && string(seg.data[:3]) == id && (len(seg.data) == 3 || endsSegmentID(seg.data[3], fs)) {
			occurrence++
		}
	}
	return id, occurrence
}

// locateByte sets the location of e to byte b of segs[i], where segs are
// the segments of one message. It sets the segment's position, and when
// the id is readable also the id, occurrence, field, repetition, component
// and subcomponent.
func locateByte(e *ParseError, segs []rawSegment, i, b int, d *Delimiters) {
	data := segs[i].data
	e.Segment = segs[i].position
	e.SegmentID, e.Occurrence = segmentOccurrence(data, segs[:i], d.Field)
	if e.SegmentID == "" {
		return
	}
	loc := byteLocation(data, b, d)
	e.Field, e.Repetition, e.Component, e.Subcomponent = loc[0], loc[1], loc[2], loc[3]
}

// byteLocation returns the field, repetition, component and subcomponent
// that contain byte b of the raw segment data, whose id is readable. It
// returns zeros for a byte of the segment id. MSH-1 and MSH-2 (and those
// of FHS and BHS) are not split, so only their field is set.
func byteLocation(data []byte, b int, d *Delimiters) location {
	header := isHeader(strings.ToUpper(string(data[:3])))
	if b < 3 || (b == 3 && !header) {
		return location{}
	}
	// Byte 3 is the field separator, which ends the id of most segments
	// and is field 1 of a header segment.
	field, start := 0, 4
	if header {
		field = 1
	}
	for k := 3; k < b; k++ {
		if data[k] == d.Field {
			field, start = field+1, k+1
		}
	}
	if header && field <= 2 {
		return location{field}
	}
	loc := location{field, 1, 1, 1}
	for _, x := range data[start:b] {
		switch {
		case x == 0:
			// An absent separator is 0, so a NUL byte separates nothing.
		case x == d.Repetition:
			loc[1], loc[2], loc[3] = loc[1]+1, 1, 1
		case x == d.Component:
			loc[2], loc[3] = loc[2]+1, 1
		case x == d.Subcomponent:
			loc[3]++
		}
	}
	return loc
}

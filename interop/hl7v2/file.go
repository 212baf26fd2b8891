package hl7v2

// File is the content of a batch file or of a stream of messages: an
// optional file header (FHS) and trailer (FTS) around batches. Messages
// that are not inside a BHS ... BTS pair form a batch with no header.
type File struct {
	Header  *Segment // FHS, nil when absent
	Batches []*Batch
	Trailer *Segment // FTS, nil when absent
}

// Batch is a BHS ... BTS group of messages. Header and Trailer are nil for
// messages sent without batch segments.
type Batch struct {
	Header   *Segment
	Messages []*Message
	Trailer  *Segment
}

// Messages returns every message of the file in order.
func (f *File) Messages() []*Message {
	var out []*Message
	for _, b := range f.Batches {
		out = append(out, b.Messages...)
	}
	return out
}

// ParseFile parses a batch file or several messages in one input. Messages
// are split by the same rule as in Parse: a message starts only at a
// segment that begins with "MSH" and a delimiter character. Each message is
// held to Limits.MaxMessageBytes and the whole input to
// Limits.MaxFileBytes. Errors are collected over all messages; the file is
// returned with them.
func ParseFile(data []byte, opts ParseOptions) (*File, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	c := newCollector(opts)
	if len(data) > opts.Limits.MaxFileBytes {
		c.add(limitError("MaxFileBytes", "the input", len(data), opts.Limits.MaxFileBytes, 0))
		return nil, c.result()
	}

	f := &File{}
	var current *Batch
	delims := DefaultDelimiters
	var envelopes segmentCounts
	sequenceError := func(s *Segment, occurrence int) {
		c.add(&ParseError{
			Kind: KindSegmentSequence, SegmentID: s.id, Occurrence: occurrence, Offset: s.offset,
			Message: "batch segment out of order",
		})
	}

	for _, it := range splitFile(data, c) {
		if it.segments != nil {
			size := messageSize(it.segments)
			if size > opts.Limits.MaxMessageBytes {
				c.add(limitError("MaxMessageBytes", "the message", size, opts.Limits.MaxMessageBytes, it.segments[0].offset))
				continue
			}
			start := len(c.warnings)
			m := parseMessage(it.segments, opts, c)
			m.warnings = c.warnings[start:len(c.warnings):len(c.warnings)]
			if current == nil || current.Trailer != nil {
				current = &Batch{}
				f.Batches = append(f.Batches, current)
			}
			current.Messages = append(current.Messages, m)
			continue
		}

		s := it.envelope
		id := string(s.data[:3])
		if id == "FHS" || id == "BHS" {
			delims = envelopeDelimiters(s.data)
		}
		occurrence := envelopes.add(id)
		seg := parseEnvelope(s, &delims, occurrence, opts, c)
		switch id {
		case "FHS":
			if f.Header != nil || len(f.Batches) > 0 {
				sequenceError(seg, occurrence)
			}
			f.Header = seg
		case "BHS":
			current = &Batch{Header: seg}
			f.Batches = append(f.Batches, current)
		case "BTS":
			if current == nil || current.Trailer != nil {
				sequenceError(seg, occurrence)
				current = &Batch{}
				f.Batches = append(f.Batches, current)
			}
			current.Trailer = seg
		case "FTS":
			if f.Trailer != nil {
				sequenceError(seg, occurrence)
			}
			f.Trailer = seg
		}
	}

	if len(f.Messages()) == 0 && !c.errs.HasKind(KindMissingMSH) {
		c.add(&ParseError{Kind: KindMissingMSH, Offset: 0, Message: "input has no MSH segment"})
	}
	return f, c.result()
}

func messageSize(segs []rawSegment) int {
	last := segs[len(segs)-1]
	return last.offset + len(last.data) - segs[0].offset
}

// envelopeDelimiters reads the delimiters of an FHS or BHS, which declare
// them in fields 1 and 2 as MSH does. Invalid characters leave the
// defaults, and the segment's own parse reports them.
func envelopeDelimiters(b []byte) Delimiters {
	if len(b) < 4 {
		// A bare "BHS" declares nothing.
		return DefaultDelimiters
	}
	fs := b[3]
	d, problem := parseEncoding(fs, string(mshField(b, fs, 2)))
	if problem != "" {
		return DefaultDelimiters
	}
	return d
}

// parseEnvelope builds an FHS, BHS, BTS or FTS segment, the given
// occurrence of its id in the file. These segments have no character set
// field, so they are read as UTF-8 when valid and as ISO 8859-1 otherwise.
func parseEnvelope(s *rawSegment, d *Delimiters, occurrence int, opts ParseOptions, c *collector) *Segment {
	cs := CharsetUTF8
	text, bad := cs.decode(s.data)
	if bad >= 0 {
		cs = CharsetLatin1
		text, _ = cs.decode(s.data)
	}
	p := &segmentParser{
		pool: &elementPool{}, d: d, u: &unescaper{d: d, charset: cs, lenient: opts.Lenient}, cs: cs, c: c,
		maxField: opts.Limits.MaxFieldBytes, id: text[:3], occurrence: occurrence, offset: s.offset, text: text,
	}
	seg := &Segment{id: p.id, text: text, raw: s.data, offset: s.offset}
	seg.fields = p.parseFields()
	return seg
}

// Encode writes the file: header, each batch with its messages, trailer,
// every segment followed by CR.
func (f *File) Encode(opts WriteOptions) ([]byte, error) {
	var out []byte
	envelope := func(s *Segment) {
		if s != nil {
			out = append(out, s.raw...)
			out = append(out, '\r')
		}
	}
	envelope(f.Header)
	for _, b := range f.Batches {
		envelope(b.Header)
		for _, m := range b.Messages {
			data, err := m.Encode(opts)
			if err != nil {
				return nil, err
			}
			out = append(out, data...)
		}
		envelope(b.Trailer)
	}
	envelope(f.Trailer)
	return out, nil
}

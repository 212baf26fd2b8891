package hl7v2

import "fmt"

// Default limits. They bound the memory and CPU that one message from an
// unauthenticated network peer can cost: the parsed tree takes several
// times the size of its input, so the limits are what keeps a listener's
// memory predictable.
const (
	// DefaultMaxMessageBytes is 1 MiB. Typical ADT, ORM and ORU messages are
	// a few KiB; a message carrying an embedded document (OBX-5 of type ED)
	// can be larger and needs a higher limit.
	DefaultMaxMessageBytes = 1 << 20
	// DefaultMaxSegments is 10,000. Large ORU batches of results stay well
	// under it, and it stops an input of millions of one-byte segments.
	DefaultMaxSegments = 10_000
	// DefaultMaxFieldBytes is 64 KiB, the same order as the longest text
	// fields (FT, TX) that sending systems allow.
	DefaultMaxFieldBytes = 64 << 10
	// DefaultMaxFileBytes is 64 MiB, the bound on a whole batch file read by
	// ParseFile.
	DefaultMaxFileBytes = 64 << 20
	// DefaultMaxErrors is 100. Past it the parser stops collecting, so an
	// input made only of errors cannot grow the error list without bound.
	DefaultMaxErrors = 100
)

// Limits are hard input limits. A zero field takes its default in
// WithDefaults. Exceeding a limit is a ParseError of KindLimit whose Limit
// names the field.
type Limits struct {
	MaxMessageBytes int
	MaxSegments     int
	MaxFieldBytes   int
	MaxFileBytes    int
	MaxErrors       int
}

// ParseOptions selects strict or lenient parsing and the input limits. The
// zero value is strict parsing with the default limits.
type ParseOptions struct {
	// Lenient accepts LF and CRLF segment terminators, blank lines, a UTF-8
	// byte order mark, short timestamp offsets and features used in a
	// version that does not define them. The package documentation lists
	// which of them are recorded as warnings in Message.Warnings.
	Lenient bool
	Limits  Limits
}

// WithDefaults returns a copy of o with every zero limit set to its default.
func (o ParseOptions) WithDefaults() ParseOptions {
	if o.Limits.MaxMessageBytes == 0 {
		o.Limits.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Limits.MaxSegments == 0 {
		o.Limits.MaxSegments = DefaultMaxSegments
	}
	if o.Limits.MaxFieldBytes == 0 {
		o.Limits.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if o.Limits.MaxFileBytes == 0 {
		o.Limits.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.Limits.MaxErrors == 0 {
		o.Limits.MaxErrors = DefaultMaxErrors
	}
	return o
}

// Validate returns an error naming the first limit that is negative.
func (o ParseOptions) Validate() error {
	limits := []struct {
		name  string
		value int
	}{
		{"Limits.MaxMessageBytes", o.Limits.MaxMessageBytes},
		{"Limits.MaxSegments", o.Limits.MaxSegments},
		{"Limits.MaxFieldBytes", o.Limits.MaxFieldBytes},
		{"Limits.MaxFileBytes", o.Limits.MaxFileBytes},
		{"Limits.MaxErrors", o.Limits.MaxErrors},
	}
	for _, l := range limits {
		if l.value < 0 {
			return fmt.Errorf("hl7v2: invalid parse options: %s is %d, must be 0 (default) or positive", l.name, l.value)
		}
	}
	return nil
}

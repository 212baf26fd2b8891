package hl7v2

import "strconv"

// collector gathers the errors and warnings of one parse, up to
// Limits.MaxErrors entries in all.
type collector struct {
	lenient  bool
	max      int
	errs     ErrorList
	warnings []*ParseError
	full     bool
}

func newCollector(opts ParseOptions) *collector {
	return &collector{lenient: opts.Lenient, max: opts.Limits.MaxErrors}
}

// add records e. Past the limit it records one final KindLimit error and
// drops the rest.
func (c *collector) add(e *ParseError) {
	if c.full {
		return
	}
	if len(c.errs)+len(c.warnings) >= c.max {
		c.full = true
		c.errs = append(c.errs, &ParseError{
			Kind: KindLimit, Offset: -1, Limit: "MaxErrors",
			Message: "the input has more than " + strconv.Itoa(c.max) + " problems, and the rest are not reported",
		})
		return
	}
	if e.Severity == SeverityWarning {
		c.warnings = append(c.warnings, e)
		return
	}
	c.errs = append(c.errs, e)
}

// problem records e as a warning in lenient mode and as an error in strict
// mode.
func (c *collector) problem(e *ParseError) {
	if c.lenient {
		e.Severity = SeverityWarning
	}
	c.add(e)
}

// result returns the collected errors as an error, or nil when there are
// none.
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

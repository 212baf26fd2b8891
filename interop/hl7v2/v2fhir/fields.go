package v2fhir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// seg is one segment with its occurrence, so values and errors can be
// located by path.
type seg struct {
	s          *hl7v2.Segment
	occurrence int
}

func (g seg) id() string { return g.s.ID() }

func (g seg) path(field int) string {
	return fmt.Sprintf("%s(%d)-%d", g.s.ID(), g.occurrence, field)
}

func (g seg) field(n int) *hl7v2.Field { return g.s.Field(n) }

// reps returns the repetitions of field n that hold a value, so "~" and
// "||" give none.
func (g seg) reps(n int) []*hl7v2.Repetition {
	f := g.s.Field(n)
	if f == nil {
		return nil
	}
	var out []*hl7v2.Repetition
	for _, r := range f.Repetitions() {
		if r.Raw() != "" && r.Raw() != `""` {
			out = append(out, r)
		}
	}
	return out
}

// numberedRep is a repetition that holds a value, with its 1-based
// position in its field.
type numberedRep struct {
	rep    *hl7v2.Repetition
	number int
}

// numberedReps returns the repetitions of field n that hold a value, as
// reps does, with their positions, so that an error can name one.
func (g seg) numberedReps(n int) []numberedRep {
	f := g.s.Field(n)
	if f == nil {
		return nil
	}
	var out []numberedRep
	for i, r := range f.Repetitions() {
		if r.Raw() != "" && r.Raw() != `""` {
			out = append(out, numberedRep{rep: r, number: i + 1})
		}
	}
	return out
}

// at returns the source of repetition rep of field n, for an entry that
// the field maps.
func (g seg) at(n, rep int) source {
	return source{segment: g.id(), occurrence: g.occurrence, field: n, repetition: rep}
}

// first returns the first repetition of field n that holds a value, or nil.
func (g seg) first(n int) *hl7v2.Repetition {
	if reps := g.reps(n); len(reps) > 0 {
		return reps[0]
	}
	return nil
}

// isNull reports whether field n is the explicit null "".
func (g seg) isNull(n int) bool {
	f := g.s.Field(n)
	return f != nil && f.IsNull()
}

// text returns the decoded first subcomponent of the first component of
// field n.
func (g seg) text(n int) string { return comp(g.first(n), 1) }

// segments returns the segments with the given id, with occurrences.
func segments(m *hl7v2.Message, id string) []seg {
	var out []seg
	for i, s := range m.SegmentsByID(id) {
		out = append(out, seg{s: s, occurrence: i + 1})
	}
	return out
}

// sub returns the decoded text of subcomponent s of component c of r, or
// "" when it is absent or the explicit null.
func sub(r *hl7v2.Repetition, c, s int) string {
	if r == nil {
		return ""
	}
	sc := r.Component(c).Subcomponent(s)
	if sc == nil {
		return ""
	}
	return strings.TrimSpace(sc.Text())
}

// comp returns the decoded first subcomponent of component c of r.
func comp(r *hl7v2.Repetition, c int) string { return sub(r, c, 1) }

// fullText returns a text value (ST, TX, FT) with every component and
// subcomponent decoded, joined again by the delimiters that split them,
// because a sender's unescaped "^" or "&" in text is part of the text.
func fullText(r *hl7v2.Repetition, d hl7v2.Delimiters) string {
	if r == nil {
		return ""
	}
	comps := r.Components()
	parts := make([]string, len(comps))
	for i, c := range comps {
		subs := c.Subcomponents()
		texts := make([]string, len(subs))
		for j, s := range subs {
			texts[j] = s.Text()
		}
		parts[i] = strings.Join(texts, string(d.Subcomponent))
	}
	return strings.TrimRight(strings.Join(parts, string(d.Component)), string(d.Component))
}

// dateTime returns the FHIR form of the timestamp in field n, completed
// with the default zone or MSH-7's offset, and "" when the field is empty.
// A time of day that no zone can complete is a located error.
func (c *converter) dateTime(g seg, n int) string {
	return c.dateTimeAt(g, n, 0)
}

// dateTimeAt is dateTime for repetition rep (0 meaning the first).
func (c *converter) dateTimeAt(g seg, n, rep int) string {
	path := g.path(n)
	if rep > 0 {
		path = fmt.Sprintf("%s[%d]", path, rep)
	}
	v, err := c.msg.Lookup(path + ".1")
	if err != nil || v.State != hl7v2.Valued {
		return ""
	}
	dt, err := c.msg.DateTimeIn(path, c.opts.DefaultZone)
	if err == nil {
		out, ferr := dt.FHIR()
		if ferr == nil {
			return out
		}
		err = ferr
	}
	c.timeError(g, n, rep, err)
	return ""
}

// date returns the date part of the timestamp in field n, in FHIR date
// form with the precision sent (year, month or day).
func (c *converter) date(g seg, n int) string {
	v, err := c.msg.Lookup(g.path(n) + ".1")
	if err != nil || v.State != hl7v2.Valued {
		return ""
	}
	dt, err := c.msg.DateTime(g.path(n))
	if err != nil {
		c.timeError(g, n, 0, err)
		return ""
	}
	dt.Precision = min(dt.Precision, hl7v2.PrecisionDay)
	out, _ := dt.FHIR()
	return out
}

func (c *converter) timeError(g seg, n, rep int, err error) {
	message := "invalid timestamp"
	switch {
	case errors.Is(err, hl7v2.ErrNoTimeZone):
		message = "the time has no UTC offset, MSH-7 has none either, and the receiver has no default time zone"
	default:
		var pe *hl7v2.ParseError
		if errors.As(err, &pe) {
			message = pe.Message
		}
	}
	c.record(&Error{Code: CodeDataType, SegmentID: g.id(), Occurrence: g.occurrence, Field: n,
		Repetition: rep, Component: 1, Message: message})
}

// authority returns the assigning authority of an HD held in component c
// of r: the namespace id, else the universal id.
func authority(r *hl7v2.Repetition, c int) string {
	if ns := sub(r, c, 1); ns != "" {
		return ns
	}
	return sub(r, c, 2)
}

// senderAuthority names the sending facility (else application), the
// authority of identifiers sent without one.
func (c *converter) senderAuthority() string {
	if v := c.msg.Get("MSH-4.1"); v != "" {
		return v
	}
	return c.msg.Get("MSH-3.1")
}

// cx returns the identifier of a CX repetition, with the system from its
// assigning authority (CX-4), and its identifier type code (CX-5).
func (c *converter) cx(r *hl7v2.Repetition) (identifier, string, bool) {
	value := comp(r, 1)
	if value == "" {
		return identifier{}, "", false
	}
	auth := authority(r, 4)
	if auth == "" {
		auth = c.senderAuthority()
	}
	return identifier{System: c.opts.identifierSystem(auth), Value: value}, comp(r, 5), true
}

// identifierJSON returns a FHIR Identifier, with a type from HL7 table
// 0203 when typeCode is set.
func identifierJSON(id identifier, typeCode string) map[string]any {
	out := map[string]any{"system": id.System, "value": id.Value}
	if typeCode != "" {
		out["type"] = map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": typeCode,
		}}}
	}
	return out
}

// codeSystems maps HL7 table 0396 coding system names to FHIR system URIs.
var codeSystems = map[string]string{
	"LN":     "http://loinc.org",
	"SCT":    "http://snomed.info/sct",
	"SNM":    "http://snomed.info/sct",
	"SNOMED": "http://snomed.info/sct",
	"UCUM":   "http://unitsofmeasure.org",
	"MDC":    "urn:iso:std:iso:11073:10101",
	"I10":    "http://hl7.org/fhir/sid/icd-10",
	"I10C":   "http://hl7.org/fhir/sid/icd-10-cm",
	"I9":     "http://hl7.org/fhir/sid/icd-9-cm",
	"I9C":    "http://hl7.org/fhir/sid/icd-9-cm",
	"C4":     "http://www.ama-assn.org/go/cpt",
	"CPT":    "http://www.ama-assn.org/go/cpt",
	"CVX":    "http://hl7.org/fhir/sid/cvx",
	"NDC":    "http://hl7.org/fhir/sid/ndc",
	"RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
	"RXN":    "http://www.nlm.nih.gov/research/umls/rxnorm",
}

// codeSystemURI returns the FHIR system of an HL7 coding system name:
// known names from codeSystems, "HL7nnnn" as the v2 table code system,
// and other names under a local URN.
func codeSystemURI(name string) string {
	if name == "" {
		return ""
	}
	if uri, ok := codeSystems[strings.ToUpper(name)]; ok {
		return uri
	}
	if len(name) == 7 && strings.HasPrefix(name, "HL7") && isDigits(name[3:]) {
		return "http://terminology.hl7.org/CodeSystem/v2-" + name[3:]
	}
	return "urn:nexus-health-360:hl7v2:codesystem:" + strings.ReplaceAll(escapePart(name), " ", "%20")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// coding returns a FHIR Coding from the code, text and system components
// starting at component first of a CWE, or nil when no code is sent.
func coding(r *hl7v2.Repetition, first int) map[string]any {
	code := comp(r, first)
	if code == "" {
		return nil
	}
	out := map[string]any{"code": code}
	if display := comp(r, first+1); display != "" {
		out["display"] = display
	}
	if system := codeSystemURI(comp(r, first+2)); system != "" {
		out["system"] = system
	}
	return out
}

// codeableConcept maps a CE, CNE or CWE repetition: the identifier and
// the alternate identifier as codings, and the original text (CWE-9) or
// the first display as text. It returns nil for an empty value.
func codeableConcept(r *hl7v2.Repetition) map[string]any {
	if r == nil {
		return nil
	}
	out := map[string]any{}
	var codings []any
	for _, first := range []int{1, 4} {
		if cd := coding(r, first); cd != nil {
			codings = append(codings, cd)
		}
	}
	if len(codings) > 0 {
		out["coding"] = codings
	}
	text := comp(r, 9)
	if text == "" && len(codings) == 0 {
		text = comp(r, 2)
	}
	if text != "" {
		out["text"] = text
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// escapePart percent-encodes the characters that separate the parts of a
// derived identifier value or that FHIR search treats specially.
func escapePart(s string) string {
	r := strings.NewReplacer("%", "%25", "/", "%2F", ",", "%2C", "|", "%7C", "$", "%24", `\`, "%5C")
	return r.Replace(s)
}

// derivedValue joins parts into one identifier value.
func derivedValue(parts ...string) string {
	escaped := make([]string, len(parts))
	for i, p := range parts {
		escaped[i] = escapePart(p)
	}
	return strings.Join(escaped, "/")
}

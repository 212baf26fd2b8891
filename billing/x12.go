package billing

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// X12Delimiters are the separators of an X12 interchange. The zero value
// is the common choice: "*" between elements, ":" between components,
// "^" between repetitions and "~" after each segment.
type X12Delimiters struct {
	Element, Component, Repetition, Segment byte
}

func (d X12Delimiters) withDefaults() X12Delimiters {
	if d.Element == 0 {
		d.Element = '*'
	}
	if d.Component == 0 {
		d.Component = ':'
	}
	if d.Repetition == 0 {
		d.Repetition = '^'
	}
	if d.Segment == 0 {
		d.Segment = '~'
	}
	return d
}

// X12Envelope is the interchange (ISA/IEA) and functional group (GS/GE)
// around one transaction set.
type X12Envelope struct {
	// SenderID and ReceiverID are ISA06 and ISA08 (qualifier ZZ, at most
	// 15 characters) and GS02 and GS03.
	SenderID, ReceiverID string
	// InterchangeControl is ISA13 and IEA02, 1 to 999999999.
	InterchangeControl int64
	// GroupControl is GS06 and GE02, 1 to 999999999.
	GroupControl int64
	// TransactionControl is ST02 and SE02, 1 to 999999999, written with at
	// least four digits.
	TransactionControl int64
	// Production sets ISA15 to P; otherwise it is T (test data).
	Production bool
	// Created is the date and time of the interchange, written as is.
	Created    time.Time
	Delimiters X12Delimiters
}

// X12Address is a street address for N3 and N4.
type X12Address struct {
	Line1, Line2, City, State, PostalCode string
}

// X12Claim837P is one professional claim with the parties an 837P needs
// and billing does not hold: billing keeps patients, providers and
// payers as ids, so the caller supplies names and addresses.
type X12Claim837P struct {
	Envelope X12Envelope
	// Submitter is loop 1000A; SubmitterID is its NM109 (qualifier 46).
	SubmitterName, SubmitterID string
	ContactName, ContactPhone  string
	// Receiver is loop 1000B; ReceiverID is its NM109 (qualifier 46).
	ReceiverName, ReceiverID string
	// BillingProvider is loop 2010AA: an organisation with its NPI and
	// employer identification number (EIN).
	ProviderName, ProviderNPI, ProviderTaxID string
	ProviderAddress                          X12Address
	// Subscriber is loop 2010BA, the insured person, who is also the
	// patient (SBR02 18). BirthDate may be zero; Gender is F, M or U.
	SubscriberLast, SubscriberFirst string
	SubscriberAddress               X12Address
	SubscriberBirthDate             time.Time
	SubscriberGender                string
	// PayerName is loop 2010BB; its id is Claim.Coverage.PayerID.
	PayerName string
	// FilingIndicator is SBR09, such as CI (commercial) or MB (Medicare
	// part B). Default CI.
	FilingIndicator string
	// PlaceOfService is the CMS place of service code of CLM05-1, such as
	// 11 (office). Default 11.
	PlaceOfService string
	Claim          Claim
}

// x12Writer collects the segments of one interchange.
type x12Writer struct {
	d        X12Delimiters
	segments []string
	err      error
}

// seg appends a segment, after checking that no element holds a
// delimiter. Trailing empty elements are dropped, as X12 requires.
func (w *x12Writer) seg(id string, elements ...string) {
	for len(elements) > 0 && elements[len(elements)-1] == "" {
		elements = elements[:len(elements)-1]
	}
	for i, e := range elements {
		if strings.ContainsAny(e, string([]byte{w.d.Element, w.d.Repetition, w.d.Segment})) && w.err == nil {
			w.err = invalidf("x12 %s%02d contains a delimiter", id, i+1)
		}
	}
	w.segments = append(w.segments, id+string(w.d.Element)+strings.Join(elements, string(w.d.Element)))
}

// comp joins the components of a composite element, checking each.
func (w *x12Writer) comp(id string, parts ...string) string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for _, p := range parts {
		if strings.IndexByte(p, w.d.Component) >= 0 && w.err == nil {
			w.err = invalidf("x12 %s has a component with the component delimiter", id)
		}
	}
	return strings.Join(parts, string(w.d.Component))
}

// x12Decimal writes an amount as an X12 decimal: no trailing fraction
// zeros and no decimal point for whole amounts, so 120.00 is "120" and
// 48.50 is "48.5".
func x12Decimal(m Money) string {
	s := m.Decimal()
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// x12Text upper-cases a name, as payers expect.
func x12Text(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// Write837P writes a claim as an ASC X12 005010X222A1 (837P) interchange
// with one functional group and one transaction set. The transaction set
// has loops 1000A and 1000B, 2000A/2010AA, 2000B with 2010BA and 2010BB,
// one 2300 claim with its ICD-10 diagnoses in HI, and one 2400 service
// line per claim line. Segments end with the segment terminator and no
// line break. A claim without lines, a negative line, more than 12
// diagnoses, a control number out of range or a value that contains a
// delimiter is rejected with ErrInvalid, and nothing is written.
func Write837P(out io.Writer, p X12Claim837P) error {
	if err := check837P(&p); err != nil {
		return err
	}
	e := p.Envelope
	w := &x12Writer{d: e.Delimiters.withDefaults()}
	c := p.Claim
	usage := "T"
	if e.Production {
		usage = "P"
	}
	isa := []string{
		"00", strings.Repeat(" ", 10), "00", strings.Repeat(" ", 10),
		"ZZ", fmt.Sprintf("%-15s", e.SenderID), "ZZ", fmt.Sprintf("%-15s", e.ReceiverID),
		e.Created.Format("060102"), e.Created.Format("1504"), string(w.d.Repetition), "00501",
		fmt.Sprintf("%09d", e.InterchangeControl), "0", usage, string(w.d.Component),
	}
	w.segments = append(w.segments, "ISA"+string(w.d.Element)+strings.Join(isa, string(w.d.Element)))
	w.seg("GS", "HC", e.SenderID, e.ReceiverID, e.Created.Format("20060102"), e.Created.Format("1504"),
		strconv.FormatInt(e.GroupControl, 10), "X", "005010X222A1")
	st := len(w.segments)
	control := fmt.Sprintf("%04d", e.TransactionControl)
	w.seg("ST", "837", control, "005010X222A1")
	w.seg("BHT", "0019", "00", c.ID, e.Created.Format("20060102"), e.Created.Format("1504"), "CH")

	// 1000A submitter and 1000B receiver.
	w.seg("NM1", "41", "2", x12Text(p.SubmitterName), "", "", "", "", "46", p.SubmitterID)
	w.seg("PER", "IC", x12Text(p.ContactName), "TE", p.ContactPhone)
	w.seg("NM1", "40", "2", x12Text(p.ReceiverName), "", "", "", "", "46", p.ReceiverID)

	// 2000A billing provider, 2010AA its name, address and tax id.
	w.seg("HL", "1", "", "20", "1")
	w.seg("NM1", "85", "2", x12Text(p.ProviderName), "", "", "", "", "XX", p.ProviderNPI)
	w.address(p.ProviderAddress)
	w.seg("REF", "EI", p.ProviderTaxID)

	// 2000B subscriber, who is the patient, so no 2000C loop follows.
	w.seg("HL", "2", "1", "22", "0")
	w.seg("SBR", payerResponsibility(c.Coverage.Order), "18", c.Coverage.PlanID, "", "", "", "", "", p.FilingIndicator)
	w.seg("NM1", "IL", "1", x12Text(p.SubscriberLast), x12Text(p.SubscriberFirst), "", "", "", "MI", c.Coverage.MemberID)
	w.address(p.SubscriberAddress)
	if !p.SubscriberBirthDate.IsZero() {
		w.seg("DMG", "D8", p.SubscriberBirthDate.Format("20060102"), p.SubscriberGender)
	}
	w.seg("NM1", "PR", "2", x12Text(p.PayerName), "", "", "", "", "PI", c.Coverage.PayerID)

	// 2300 claim with its diagnoses: ABK is the principal ICD-10-CM code,
	// ABF each further one, written without the dot.
	w.seg("CLM", c.ID, x12Decimal(c.Total), "", "", w.comp("CLM05", p.PlaceOfService, "B", "1"), "Y", "A", "Y", "Y")
	hi := make([]string, 0, len(c.Diagnoses))
	for i, d := range c.Diagnoses {
		qualifier := "ABF"
		if i == 0 {
			qualifier = "ABK"
		}
		hi = append(hi, w.comp("HI", qualifier, strings.ReplaceAll(d.Code, ".", "")))
	}
	w.seg("HI", hi...)

	// 2400 service lines.
	for i, l := range c.Lines {
		pointers := make([]string, len(l.DiagnosisPointers))
		for j, ptr := range l.DiagnosisPointers {
			pointers[j] = strconv.Itoa(ptr)
		}
		w.seg("LX", strconv.Itoa(i+1))
		w.seg("SV1", w.comp("SV101", "HC", l.Code), x12Decimal(l.Amount), "UN", strconv.FormatInt(l.Quantity, 10),
			"", "", w.comp("SV107", pointers...))
		if !l.ServiceDate.IsZero() {
			w.seg("DTP", "472", "D8", l.ServiceDate.Format("20060102"))
		}
		// The line item control number comes back in the 835's REF*6R,
		// which matches the payment to this line.
		w.seg("REF", "6R", strconv.Itoa(l.Sequence))
	}
	w.seg("SE", strconv.Itoa(len(w.segments)-st+1), control)
	w.seg("GE", "1", strconv.FormatInt(e.GroupControl, 10))
	w.seg("IEA", "1", fmt.Sprintf("%09d", e.InterchangeControl))
	if w.err != nil {
		return fmt.Errorf("write 837P for claim %s: %w", c.ID, w.err)
	}
	var b strings.Builder
	for _, s := range w.segments {
		b.WriteString(s)
		b.WriteByte(w.d.Segment)
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return fmt.Errorf("write 837P for claim %s: %w", c.ID, err)
	}
	return nil
}

// address writes N3 and N4 when the address has a first line.
func (w *x12Writer) address(a X12Address) {
	if a.Line1 == "" {
		return
	}
	w.seg("N3", x12Text(a.Line1), x12Text(a.Line2))
	w.seg("N4", x12Text(a.City), x12Text(a.State), a.PostalCode)
}

// payerResponsibility is SBR01 for an order of benefits: P, S, T, then A
// to H for the fourth to eleventh payer.
func payerResponsibility(order int) string {
	switch {
	case order <= 1:
		return "P"
	case order == 2:
		return "S"
	case order == 3:
		return "T"
	case order <= 11:
		return string(rune('A' + order - 4))
	}
	return "U"
}

// check837P fills defaults and checks what the writer cannot repair.
func check837P(p *X12Claim837P) error {
	e := &p.Envelope
	c := p.Claim
	if p.FilingIndicator == "" {
		p.FilingIndicator = "CI"
	}
	if p.PlaceOfService == "" {
		p.PlaceOfService = "11"
	}

	for _, n := range []struct {
		name string
		v    int64
	}{{"InterchangeControl", e.InterchangeControl}, {"GroupControl", e.GroupControl}, {"TransactionControl", e.TransactionControl}} {
		if n.v < 1 || n.v > 999_999_999 {
			return invalidf("write 837P for claim %s: %s %d is outside 1 to 999999999", c.ID, n.name, n.v)
		}
	}

	if e.SenderID == "" || len(e.SenderID) > 15 || e.ReceiverID == "" || len(e.ReceiverID) > 15 {
		return invalidf("write 837P for claim %s: SenderID and ReceiverID need 1 to 15 characters", c.ID)
	}
	if e.Created.IsZero() {
		return invalidf("write 837P for claim %s: Envelope.Created is missing", c.ID)
	}

	switch {
	case c.ID == "" || len(c.ID) > 38:
		return invalidf("write 837P: the claim id must have 1 to 38 characters (CLM01)")
	case len(c.Lines) == 0:
		return invalidf("write 837P for claim %s: the claim has no lines", c.ID)
	case len(c.Diagnoses) == 0 || len(c.Diagnoses) > 12:
		return invalidf("write 837P for claim %s: an 837P claim carries 1 to 12 diagnoses", c.ID)
	case len(c.Lines) > 50:
		return invalidf("write 837P for claim %s: an 837P claim carries at most 50 service lines", c.ID)
	case c.Coverage.PayerID == "" || c.Coverage.MemberID == "":
		return invalidf("write 837P for claim %s: the coverage needs a payer id and a member id", c.ID)
	case p.ProviderNPI == "" || p.SubscriberLast == "":
		return invalidf("write 837P for claim %s: ProviderNPI and SubscriberLast are required", c.ID)
	}

	var sum int64
	for _, l := range c.Lines {
		if l.Amount.Amount < 0 || l.Quantity < 1 {
			return invalidf("write 837P for claim %s: line %d has a negative amount or quantity; an 837P line bills a service", c.ID, l.Sequence)
		}
		if l.Amount.Currency != c.Total.Currency {
			return fmt.Errorf("write 837P for claim %s: line %d: %w", c.ID, l.Sequence, ErrCurrencyMismatch)
		}
		if len(l.DiagnosisPointers) == 0 || len(l.DiagnosisPointers) > 4 {
			return invalidf("write 837P for claim %s: line %d needs 1 to 4 diagnosis pointers", c.ID, l.Sequence)
		}
		sum += l.Amount.Amount
	}

	if sum != c.Total.Amount {
		return invalidf("write 837P for claim %s: the lines sum to %s, not the claim total %s", c.ID, Money{Amount: sum, Currency: c.Total.Currency}, c.Total)
	}
	return nil
}

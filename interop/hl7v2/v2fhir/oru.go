package v2fhir

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// observationStatuses maps HL7 table 0085 (OBX-11) to Observation.status
// as the mapping guide does. The codes it leaves unmapped (I, N, O, R, S,
// U, V, B) take the nearest status.
var observationStatuses = map[string]string{
	"A": "amended", "B": "amended", "C": "corrected", "D": "entered-in-error", "F": "final",
	"I": "registered", "N": "cancelled", "O": "registered", "P": "preliminary", "R": "preliminary",
	"S": "preliminary", "U": "final", "V": "final", "W": "entered-in-error", "X": "cancelled",
}

// reportStatuses maps HL7 table 0123 (OBR-25) to DiagnosticReport.status.
var reportStatuses = map[string]string{
	"O": "registered", "I": "registered", "S": "registered", "A": "partial", "P": "preliminary",
	"C": "corrected", "R": "partial", "F": "final", "X": "cancelled", "M": "corrected", "N": "partial",
}

// interpretationCodes are the HL7 table 0078 codes that the v3
// ObservationInterpretation code system has under the same code.
var interpretationCodes = map[string]bool{
	"<": true, ">": true, "A": true, "AA": true, "B": true, "CAR": true, "D": true, "DET": true,
	"E": true, "EX": true, "EXP": true, "H": true, "HH": true, "HU": true, "I": true, "IE": true,
	"IND": true, "L": true, "LL": true, "LU": true, "MS": true, "N": true, "NCL": true, "ND": true,
	"NEG": true, "NR": true, "NS": true, "POS": true, "R": true, "RR": true, "S": true, "SDD": true,
	"SYN-R": true, "SYN-S": true, "U": true, "VS": true, "UNE": true, "W": true, "WR": true,
}

const (
	ucumSystem      = "http://unitsofmeasure.org"
	vitalSignsCode  = "vital-signs"
	categorySystem  = "http://terminology.hl7.org/CodeSystem/observation-category"
	eui64System     = "urn:nexus-health-360:hl7v2:eui-64"
	obxSystem       = "urn:nexus-health-360:hl7v2:observation"
	dataAbsentCodes = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
)

// report is one OBR and the observations that follow it.
type report struct {
	obr     seg
	patient patientRef
	// order is the filler (else placer) order number that keys the
	// report and its observations; empty when OBR-2 and OBR-3 are.
	order     identifier
	orderType string
	results   []any
	count     int
}

func (c *converter) convertORU() {
	var patient *patientRef
	var current *report
	flush := func() {
		if current != nil {
			c.diagnosticReport(current)
		}
		current = nil
	}
	occurrences := map[string]int{}
	orphans := 0
	for _, s := range c.msg.Segments() {
		occurrences[s.ID()]++
		g := seg{s: s, occurrence: occurrences[s.ID()]}
		switch s.ID() {
		case "PID":
			flush()
			patient = nil
			if p, ok := c.patient(g, ModeCreate); ok {
				patient = &p
			}
		case "OBR":
			flush()
			if patient != nil {
				current = c.newReport(g, *patient)
			}
		case "OBX":
			if patient == nil {
				if occurrences["PID"] == 0 {
					c.fail(CodeSegmentSequence, "PID", 1, 0, "PID segment is missing before the results")
					return
				}
				continue
			}
			position := 0
			if current != nil {
				current.count++
				position = current.count
			} else {
				orphans++
				position = orphans
			}
			if ref := c.observation(g, *patient, current, position); ref != "" && current != nil {
				current.results = append(current.results, map[string]any{"reference": ref})
			}
		}
	}
	flush()
	if occurrences["PID"] == 0 {
		c.fail(CodeSegmentSequence, "PID", 1, 0, "PID segment is missing")
	}
}

// orderNumber returns the EI of OBR-3 (filler), else OBR-2 (placer).
func (c *converter) orderNumber(obr seg) (identifier, string) {
	for _, f := range []struct {
		field int
		typ   string
	}{{3, "FILL"}, {2, "PLAC"}} {
		r := obr.first(f.field)
		if value := comp(r, 1); value != "" {
			auth := authority2(r)
			if auth == "" {
				auth = c.senderAuthority()
			}
			return identifier{System: c.opts.identifierSystem(auth), Value: value}, f.typ
		}
	}
	return identifier{}, ""
}

// orderField returns the OBR field that an order number of type typ
// (FILL or PLAC) comes from.
func orderField(typ string) int {
	if typ == "PLAC" {
		return 2
	}
	return 3
}

// authority2 returns the assigning authority of an EI: the namespace id
// (EI-2), else the universal id (EI-3).
func authority2(r *hl7v2.Repetition) string {
	if ns := comp(r, 2); ns != "" {
		return ns
	}
	return comp(r, 3)
}

func (c *converter) newReport(obr seg, patient patientRef) *report {
	order, typ := c.orderNumber(obr)
	return &report{obr: obr, patient: patient, order: order, orderType: typ}
}

// diagnosticReport adds the DiagnosticReport of an OBR.
func (c *converter) diagnosticReport(r *report) {
	code := codeableConcept(r.obr.first(4))
	if code == nil {
		c.fail(CodeRequiredField, "OBR", r.obr.occurrence, 4, "OBR-4 universal service identifier is missing")
		return
	}
	id := r.order
	if id.Value == "" {
		id = identifier{System: obxSystem, Value: derivedValue(c.hdr.SendingApplication, c.hdr.SendingFacility,
			c.hdr.ControlID, "OBR", strconv.Itoa(r.obr.occurrence))}
	}
	// A code outside table 0123 is not an error: senders put OBX-11
	// codes such as W here, and a report of status unknown never
	// replaces a stored one.
	status, ok := reportStatuses[strings.ToUpper(r.obr.text(25))]
	if !ok {
		status = "unknown"
	}
	d := map[string]any{
		"identifier": []any{identifierJSON(id, r.orderType)},
		"status":     status,
		"code":       code,
		"subject":    map[string]any{"reference": r.patient.reference},
	}
	if t := c.dateTime(r.obr, 7); t != "" {
		d["effectiveDateTime"] = t
	}
	if t := c.issued(r.obr); t != "" {
		d["issued"] = t
	}
	if len(r.results) > 0 {
		d["result"] = r.results
	}
	criteria := identifierCriteria([]identifier{id})
	if earlier, ok := c.byRef["DiagnosticReport?"+criteria]; ok {
		// An OBR with the order number of an earlier OBR names the same
		// report, so its results join that report's.
		if len(r.results) > 0 {
			results, _ := earlier.resource["result"].([]any)
			earlier.resource["result"] = append(results, r.results...)
		}
		c.warn(CodeDuplicateKey, "OBR", r.obr.occurrence, orderField(r.orderType),
			"the order number repeats an earlier OBR, so its results join that DiagnosticReport")
		return
	}
	c.add(Entry{Type: "DiagnosticReport", Criteria: criteria, Mode: ModeUpdate,
		union: []string{"identifier", "result"}, replace: reportElements,
		from: source{segment: "OBR", occurrence: r.obr.occurrence, field: 3}}, d)
}

// observation adds the Observation of an OBX and returns its reference,
// or "" when the OBX gives none (no OBX-3, or a PCD-01 device row).
func (c *converter) observation(obx seg, patient patientRef, r *report, position int) string {
	codeRep := obx.first(3)
	code := codeableConcept(codeRep)
	if code == nil {
		c.warn(CodeRequiredField, "OBX", obx.occurrence, 3, "OBX-3 observation identifier is missing, so the OBX is skipped")
		return ""
	}
	// A device row gives no Observation. It still counts in position, so
	// skipping it does not change the identity of a later OBX without
	// OBX-1.
	switch deviceRowLevel(obx, codeRep) {
	case levelMDS:
		c.deviceSystem(obx, code)
		return ""
	case levelVMD, levelChannel:
		return ""
	}
	o := map[string]any{"subject": map[string]any{"reference": patient.reference}}
	vital := mapVitalSign(codeRep, code)
	if vital {
		o["category"] = []any{map[string]any{"coding": []any{map[string]any{
			"system": categorySystem, "code": vitalSignsCode, "display": "Vital Signs",
		}}}}
	}
	o["code"] = code
	status, ok := observationStatuses[strings.ToUpper(obx.text(11))]
	switch {
	case ok:
	case obx.text(11) != "":
		c.fail(CodeTableValue, "OBX", obx.occurrence, 11, "OBX-11 observation result status is not a code of HL7 table 0085")
	default:
		status = "unknown"
	}
	o["status"] = status

	effective := c.dateTime(obx, 14)
	if effective == "" && r != nil {
		effective = c.dateTime(r.obr, 7)
	}
	if effective != "" {
		o["effectiveDateTime"] = effective
	}
	if r != nil {
		if t := c.issued(r.obr); t != "" {
			o["issued"] = t
		}
	} else if t := c.messageTime(); t != "" {
		o["issued"] = t
	}
	unit := c.unit(obx.first(6))
	c.observationValue(obx, o, unit)
	if rr := referenceRange(obx.text(7), unit); rr != nil {
		o["referenceRange"] = []any{rr}
	}
	var interpretations []any
	for _, rep := range obx.reps(8) {
		if cc := interpretation(comp(rep, 1)); cc != nil {
			interpretations = append(interpretations, cc)
		}
	}
	if len(interpretations) > 0 {
		o["interpretation"] = interpretations
	}
	var performers []any
	for _, r := range obx.numberedReps(16) {
		if ref := c.practitioner(r.rep, obx.at(16, r.number)); ref != nil {
			performers = append(performers, ref)
		}
	}
	if len(performers) > 0 {
		o["performer"] = performers
	}
	device := c.device(obx)
	if device != nil {
		o["device"] = device
	}

	setID := obx.text(1)
	if setID == "" {
		setID = strconv.Itoa(position)
	}
	parts := []string{}
	switch {
	case r != nil && r.order.Value != "":
		parts = append(parts, r.order.System, r.order.Value)
	default:
		// Without an order number the message is the only stable key.
		group := "0"
		if r != nil {
			group = strconv.Itoa(r.obr.occurrence)
		}
		parts = append(parts, c.hdr.SendingApplication, c.hdr.SendingFacility, c.hdr.ControlID, group)
	}
	parts = append(parts, setID, comp(codeRep, 3), comp(codeRep, 1), obx.text(4))
	if device != nil {
		// A monitor may send every reading under the same order number,
		// so the time of the reading separates its observations.
		parts = append(parts, effective)
	}
	key := derivedValue(parts...)
	// Every OBX is its own Observation, as in the mapping guide. An OBX
	// with the identity of an earlier one in the message (same order,
	// OBX-1, OBX-3 and OBX-4) gets its ordinal among them, so a resend
	// still finds each one.
	c.observationKeys[key]++
	if n := c.observationKeys[key]; n > 1 {
		key = derivedValue(append(parts, "repeat", strconv.Itoa(n))...)
	}
	id := identifier{System: obxSystem, Value: key}
	o["identifier"] = []any{identifierJSON(id, "")}
	return c.add(Entry{Type: "Observation", Criteria: identifierCriteria([]identifier{id}), Mode: ModeUpdate,
		union: []string{"identifier"}, replace: observationElements,
		from: source{segment: "OBX", occurrence: obx.occurrence}}, o)
}

// observationElements and reportElements are the elements that an OBX and
// an OBR map. A new version of a result replaces them all, so an element
// left empty in a correction, such as OBX-7, is removed from the stored
// version. Elements the mapping never writes (note, basedOn) are kept.
var (
	observationElements = []string{"subject", "category", "code", "status", "effective[x]", "issued",
		"value[x]", "dataAbsentReason", "referenceRange", "interpretation", "performer", "device"}
	reportElements = []string{"status", "code", "subject", "effective[x]", "issued"}
)

// issued returns the FHIR instant at which the results of obr were
// released: OBR-22 (results report or status change time), else MSH-7.
// Apply compares it to tell a late copy of an older result from a newer
// one, so every result gets one.
func (c *converter) issued(obr seg) string {
	if t := instantOrEmpty(c.dateTime(obr, 22)); t != "" {
		return t
	}
	return c.messageTime()
}

// messageTime returns MSH-7 as a FHIR instant, or "" when it has no time
// of day or no zone completes it. Such an MSH-7 is not an error here,
// because the parser checks MSH-7 and no mapped element depends on it.
func (c *converter) messageTime() string {
	dt, err := c.msg.DateTimeIn("MSH-7", c.opts.DefaultZone)
	if err != nil {
		return ""
	}
	out, err := dt.FHIR()
	if err != nil {
		return ""
	}
	return instantOrEmpty(out)
}

// observationValue sets value[x] from OBX-5 by the value type in OBX-2.
func (c *converter) observationValue(obx seg, o map[string]any, unit map[string]any) {
	reps := obx.reps(5)
	if len(reps) == 0 {
		return
	}
	// NOTE: FHIR has one value per Observation, so repetitions of OBX-5
	// other than text are dropped after the first.
	first := reps[0]
	switch typ := strings.ToUpper(obx.text(2)); typ {
	case "NM":
		n, ok := decimal(comp(first, 1))
		if !ok {
			c.fail(CodeDataType, "OBX", obx.occurrence, 5, "OBX-5 is not a valid NM number")
			return
		}
		o["valueQuantity"] = quantity(n, unit)
	case "ST", "TX", "FT":
		texts := make([]string, len(reps))
		for i, rep := range reps {
			texts[i] = fullText(rep, c.msg.Delimiters())
		}
		o["valueString"] = strings.Join(texts, "\n")
	case "CE", "CWE", "CNE", "CF":
		if cc := codeableConcept(first); cc != nil {
			o["valueCodeableConcept"] = cc
		}
	case "SN":
		c.structuredNumeric(obx, first, o, unit)
	case "DT":
		if d := c.date(obx, 5); d != "" {
			o["valueDateTime"] = d
		}
	case "TS", "DTM":
		if t := c.dateTime(obx, 5); t != "" {
			o["valueDateTime"] = t
		}
	default:
		if typ != "" && !valueTypes[typ] {
			c.fail(CodeTableValue, "OBX", obx.occurrence, 2, "OBX-2 value type is not a code of HL7 table 0125")
			return
		}
		o["dataAbsentReason"] = map[string]any{"coding": []any{map[string]any{
			"system": dataAbsentCodes, "code": "unsupported",
		}}}
	}
}

// valueTypes are the codes of HL7 table 0125 (OBX-2 value type) from
// v2.3 to v2.9, the ones that versions later withdrew (CE, CK, CN, TN,
// TS) included.
var valueTypes = map[string]bool{
	"AD": true, "CE": true, "CF": true, "CK": true, "CN": true, "CNE": true, "CP": true,
	"CWE": true, "CX": true, "DR": true, "DT": true, "DTM": true, "ED": true, "FT": true,
	"GTS": true, "ID": true, "IS": true, "MA": true, "MO": true, "NA": true, "NM": true,
	"PN": true, "RP": true, "SN": true, "ST": true, "TM": true, "TN": true, "TS": true,
	"TX": true, "XAD": true, "XCN": true, "XON": true, "XPN": true, "XTN": true,
}

// comparators are the SN comparators that FHIR Quantity.comparator has.
var comparators = map[string]bool{"<": true, "<=": true, ">=": true, ">": true}

// structuredNumeric maps an SN: comparator^num1^separator/suffix^num2.
func (c *converter) structuredNumeric(obx seg, r *hl7v2.Repetition, o map[string]any, unit map[string]any) {
	comparator, num1, separator, num2 := comp(r, 1), comp(r, 2), comp(r, 3), comp(r, 4)
	n1, ok1 := decimal(num1)
	n2, ok2 := decimal(num2)
	invalid := func() {
		c.fail(CodeDataType, "OBX", obx.occurrence, 5, "OBX-5 is not a valid SN structured numeric")
	}
	switch {
	case separator == "" && num2 == "":
		if !ok1 {
			invalid()
			return
		}
		q := quantity(n1, unit)
		switch {
		case comparators[comparator]:
			q["comparator"] = comparator
		case comparator != "" && comparator != "=":
			o["valueString"] = fullText(r, c.msg.Delimiters())
			return
		}
		o["valueQuantity"] = q
	case separator == "-" && ok1 && ok2 && comparator == "":
		o["valueRange"] = map[string]any{"low": quantity(n1, unit), "high": quantity(n2, unit)}
	case (separator == ":" || separator == "/") && ok1 && ok2 && comparator == "":
		o["valueRatio"] = map[string]any{"numerator": quantity(n1, unit), "denominator": map[string]any{"value": n2}}
	case separator == "+" && ok1 && num2 == "":
		o["valueString"] = num1 + "+"
	default:
		if !ok1 && num1 != "" || !ok2 && num2 != "" {
			invalid()
			return
		}
		o["valueString"] = strings.TrimSpace(comparator + num1 + separator + num2)
	}
}

// quantity returns a Quantity of value with the unit fields.
func quantity(value json.Number, unit map[string]any) map[string]any {
	q := map[string]any{"value": value}
	for k, v := range unit {
		q[k] = v
	}
	return q
}

var decimalPattern = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)$`)

// decimal returns an HL7 NM as a JSON number in the lexical form sent
// (140.0 stays 140.0), adjusted only where JSON differs: no leading "+",
// no leading zeros, a digit on both sides of the decimal point.
func decimal(s string) (json.Number, bool) {
	s = strings.TrimSpace(s)
	if !decimalPattern.MatchString(s) {
		return "", false
	}
	sign := ""
	switch s[0] {
	case '-':
		sign, s = "-", s[1:]
	case '+':
		s = s[1:]
	}
	whole, fraction, hasPoint := strings.Cut(s, ".")
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if hasPoint && fraction != "" {
		out += "." + fraction
	}
	if sign == "-" && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return json.Number(out), true
}

// unit maps OBX-6: MDC units to UCUM, UCUM codes kept with the UCUM
// system, and other units as text only.
func (c *converter) unit(r *hl7v2.Repetition) map[string]any {
	code, text, system := comp(r, 1), comp(r, 2), strings.ToUpper(comp(r, 3))
	if code == "" && text == "" {
		return nil
	}
	if system == "MDC" {
		if ucum, ok := mdcUnits[code]; ok {
			return map[string]any{"unit": ucum, "system": ucumSystem, "code": ucum}
		}
	}
	if system == "UCUM" && code != "" {
		unit := text
		if unit == "" {
			unit = code
		}
		return map[string]any{"unit": unit, "system": ucumSystem, "code": code}
	}
	if text != "" {
		return map[string]any{"unit": text}
	}
	return map[string]any{"unit": code}
}

var rangePattern = regexp.MustCompile(`^\s*(-?[\d.]+)\s*-\s*(-?[\d.]+)\s*$`)

// referenceRange maps OBX-7: "low-high" to low and high, anything else to
// text.
func referenceRange(s string, unit map[string]any) map[string]any {
	if s == "" {
		return nil
	}
	if m := rangePattern.FindStringSubmatch(s); m != nil {
		low, okLow := decimal(m[1])
		high, okHigh := decimal(m[2])
		if okLow && okHigh {
			return map[string]any{"low": quantity(low, unit), "high": quantity(high, unit)}
		}
	}
	return map[string]any{"text": s}
}

// interpretation maps an OBX-8 flag to the v3 ObservationInterpretation
// code, or to the v2 table 0078 code when v3 has none.
func interpretation(code string) map[string]any {
	if code == "" {
		return nil
	}
	system := "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	if !interpretationCodes[strings.ToUpper(code)] {
		system = "http://terminology.hl7.org/CodeSystem/v2-0078"
	} else {
		code = strings.ToUpper(code)
	}
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
}

// device adds the Device of the first OBX-18 EI and returns a Reference
// to it. An EUI-64 (EI-4) is kept under its own system; other ids take
// the system of their namespace.
func (c *converter) device(obx seg) map[string]any {
	reps := obx.numberedReps(18)
	if len(reps) == 0 {
		return nil
	}
	r := reps[0].rep
	value := comp(r, 1)
	if value == "" {
		value = comp(r, 3)
	}
	if value == "" {
		return nil
	}
	var id identifier
	if strings.EqualFold(comp(r, 4), "EUI-64") {
		id = identifier{System: eui64System, Value: strings.ToUpper(value)}
	} else {
		auth := authority2(r)
		if auth == "" {
			auth = c.senderAuthority()
		}
		id = identifier{System: c.opts.identifierSystem(auth), Value: value}
	}
	d := map[string]any{"identifier": []any{identifierJSON(id, "")}}
	ref := c.add(Entry{Type: "Device", Criteria: identifierCriteria([]identifier{id}), Mode: ModeCreate,
		from: obx.at(18, reps[0].number)}, d)
	return map[string]any{"reference": ref}
}

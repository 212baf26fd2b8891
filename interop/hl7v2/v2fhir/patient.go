package v2fhir

import (
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// genders maps HL7 table 0001 (administrative sex) to FHIR
// AdministrativeGender, as the mapping guide's ConceptMap v2-0001 does.
var genders = map[string]string{
	"M": "male", "F": "female", "O": "other", "U": "unknown", "A": "other", "N": "other",
}

// nameUses maps HL7 table 0200 (name type) to FHIR name-use codes.
var nameUses = map[string]string{
	"L": "official", "R": "official", "D": "usual", "M": "maiden", "N": "nickname",
	"MSK": "anonymous", "NAV": "temp", "TEMP": "temp", "BAD": "old", "NOUSE": "old",
}

// maritalStatuses maps HL7 table 0002 to the v3 MaritalStatus (or
// NullFlavor) codes the mapping guide chooses.
var maritalStatuses = map[string][2]string{
	"A": {"L", "Legally Separated"}, "D": {"D", "Divorced"}, "M": {"M", "Married"},
	"S": {"S", "Never Married"}, "W": {"W", "Widowed"}, "C": {"C", "Common Law"},
	"G": {"T", "Domestic partner"}, "P": {"T", "Domestic partner"}, "R": {"T", "Domestic partner"},
	"E": {"L", "Legally Separated"}, "N": {"A", "Annulled"}, "I": {"I", "Interlocutory"},
	"B": {"U", "unmarried"}, "U": {"UNK", "Unknown"}, "O": {"OTH", "Other"}, "T": {"NAVU", "Not available"},
}

// patientRef is the patient a PID names: its identifiers and conditional
// reference.
type patientRef struct {
	ids       []identifier
	reference string
}

// patientIdentifiers returns the identifiers of PID-3, else of PID-2 or
// PID-4 (external and alternate ids, which older senders fill instead),
// skipping empty repetitions.
func (c *converter) patientIdentifiers(pid seg) ([]identifier, []any) {
	var ids []identifier
	var out []any
	seen := map[identifier]bool{}
	for _, field := range []int{3, 2, 4} {
		for _, r := range pid.reps(field) {
			id, typ, ok := c.cx(r)
			if !ok || seen[id] {
				continue
			}
			seen[id] = true
			ids = append(ids, id)
			out = append(out, identifierJSON(id, typ))
		}
		if len(ids) > 0 {
			break
		}
	}
	return ids, out
}

// patient adds the Patient of a PID segment and returns its reference.
// ModeUpdate writes the demographics into a stored patient (ADT), and
// ModeCreate only makes sure the patient exists (ORU).
func (c *converter) patient(pid seg, mode Mode) (patientRef, bool) {
	ids, idJSON := c.patientIdentifiers(pid)
	if len(ids) == 0 {
		c.fail(CodeRequiredField, "PID", pid.occurrence, 3, "PID-3 has no patient identifier")
		return patientRef{}, false
	}
	p := map[string]any{"identifier": idJSON}
	var clear []string
	set := func(key string, value any, null bool, also ...string) {
		switch {
		case value != nil:
			p[key] = value
		case null:
			clear = append(clear, append([]string{key}, also...)...)
		}
	}

	set("name", c.names(pid, 5), pid.isNull(5))
	var birth any
	if d := c.date(pid, 7); d != "" {
		birth = d
	}
	set("birthDate", birth, pid.isNull(7))
	var gender any
	if sex := pid.text(8); sex != "" {
		g, ok := genders[strings.ToUpper(sex)]
		if !ok {
			c.fail(CodeTableValue, "PID", pid.occurrence, 8, "PID-8 administrative sex is not a code of HL7 table 0001")
		} else {
			gender = g
		}
	}
	set("gender", gender, pid.isNull(8))
	set("address", addresses(pid, 11), pid.isNull(11))
	telecom := append(telecoms(pid.reps(13), "home"), telecoms(pid.reps(14), "work")...)
	var telecomValue any
	if len(telecom) > 0 {
		telecomValue = telecom
	}
	// PID-13 and PID-14 share Patient.telecom, so a null in either clears
	// it when the other sends no number.
	set("telecom", telecomValue, pid.isNull(13) || pid.isNull(14))
	set("maritalStatus", maritalStatus(pid.first(16)), pid.isNull(16))

	switch {
	case pid.text(29) != "":
		if dt := c.dateTime(pid, 29); dt != "" {
			p["deceasedDateTime"] = dt
		}
	case strings.EqualFold(pid.text(30), "Y"):
		p["deceasedBoolean"] = true
	case strings.EqualFold(pid.text(30), "N"):
		p["deceasedBoolean"] = false
	}
	_, deceasedDate := p["deceasedDateTime"]
	_, deceasedFlag := p["deceasedBoolean"]
	if !deceasedDate && !deceasedFlag && (pid.isNull(29) || pid.isNull(30)) {
		clear = append(clear, "deceasedDateTime", "deceasedBoolean")
	}

	searches := identifierSearches(ids)
	e := Entry{Type: "Patient", Criteria: searches[0], allCriteria: searches, Mode: mode, Clear: clear,
		union: []string{"identifier"}, from: source{segment: "PID", occurrence: pid.occurrence, field: 3}}
	return patientRef{ids: ids, reference: c.add(e, p)}, true
}

// names maps the XPN repetitions of field n, or nil when there are none.
func (c *converter) names(g seg, n int) any {
	var out []any
	for _, r := range g.reps(n) {
		if name := humanName(r, 1); name != nil {
			out = append(out, name)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// humanName maps an XPN, or the name part of an XCN starting at
// component first (2 for XCN), to a FHIR HumanName.
func humanName(r *hl7v2.Repetition, first int) map[string]any {
	name := map[string]any{}
	if family := comp(r, first); family != "" {
		name["family"] = family
	}
	var given []any
	for _, c := range []int{first + 1, first + 2} {
		if g := comp(r, c); g != "" {
			given = append(given, g)
		}
	}
	if len(given) > 0 {
		name["given"] = given
	}
	if suffix := comp(r, first+3); suffix != "" {
		name["suffix"] = []any{suffix}
	}
	if prefix := comp(r, first+4); prefix != "" {
		name["prefix"] = []any{prefix}
	}
	if len(name) == 0 {
		return nil
	}
	if first == 1 {
		if use, ok := nameUses[strings.ToUpper(comp(r, 7))]; ok {
			name["use"] = use
		}
	}
	return name
}

// addresses maps the XAD repetitions of field n.
func addresses(g seg, n int) any {
	var out []any
	for _, r := range g.reps(n) {
		a := map[string]any{}
		var lines []any
		for _, c := range []int{1, 2} {
			if l := comp(r, c); l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			a["line"] = lines
		}
		for c, key := range map[int]string{3: "city", 4: "state", 5: "postalCode", 6: "country", 9: "district"} {
			if v := comp(r, c); v != "" {
				a[key] = v
			}
		}
		if len(a) == 0 {
			continue
		}
		switch strings.ToUpper(comp(r, 7)) {
		case "H", "HP":
			a["use"] = "home"
		case "B", "O":
			a["use"] = "work"
		case "C":
			a["use"] = "temp"
		case "BA", "BAD":
			a["use"] = "old"
		case "M":
			a["type"] = "postal"
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// telecoms maps XTN repetitions, with use defaultUse unless XTN-2 names
// another.
func telecoms(reps []*hl7v2.Repetition, defaultUse string) []any {
	var out []any
	for _, r := range reps {
		t := map[string]any{"use": defaultUse}
		equipment := strings.ToUpper(comp(r, 3))
		switch equipment {
		case "INTERNET", "X.400":
			t["system"] = "email"
			t["value"] = comp(r, 4)
		case "FX":
			t["system"] = "fax"
		case "BP":
			t["system"] = "pager"
		default:
			t["system"] = "phone"
		}
		if t["value"] == nil {
			value := comp(r, 1)
			if local := comp(r, 7); local != "" {
				value = local
				if area := comp(r, 6); area != "" {
					value = "(" + area + ")" + local
				}
				if country := comp(r, 5); country != "" {
					value = "+" + strings.TrimPrefix(country, "+") + " " + value
				}
				if ext := comp(r, 8); ext != "" {
					value += " ext. " + ext
				}
			}
			t["value"] = value
		}
		if t["value"] == "" {
			continue
		}
		switch strings.ToUpper(comp(r, 2)) {
		case "PRN":
			t["use"] = "home"
		case "WPN":
			t["use"] = "work"
		case "PRS":
			t["use"] = "mobile"
		}
		if equipment == "CP" {
			t["use"] = "mobile"
		}
		out = append(out, t)
	}
	return out
}

// maritalStatus maps a CWE of HL7 table 0002 to the v3 code, keeping the
// text sent.
func maritalStatus(r *hl7v2.Repetition) any {
	code := strings.ToUpper(comp(r, 1))
	if code == "" {
		return nil
	}
	out := map[string]any{}
	if v3, ok := maritalStatuses[code]; ok {
		system := "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
		if v3[0] == "UNK" || v3[0] == "OTH" || v3[0] == "NAVU" {
			system = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
		}
		out["coding"] = []any{map[string]any{"system": system, "code": v3[0], "display": v3[1]}}
	}
	if text := comp(r, 2); text != "" {
		out["text"] = text
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// practitioner adds the Practitioner of an XCN repetition found at from
// and returns a FHIR Reference to it. An XCN without an id gives a
// reference with only a display and no Practitioner.
func (c *converter) practitioner(r *hl7v2.Repetition, from source) map[string]any {
	name := humanName(r, 2)
	display := ""
	if name != nil {
		var parts []string
		if given, ok := name["given"].([]any); ok {
			for _, g := range given {
				parts = append(parts, g.(string))
			}
		}
		if family, ok := name["family"].(string); ok {
			parts = append(parts, family)
		}
		display = strings.Join(parts, " ")
	}
	value := comp(r, 1)
	if value == "" {
		if display == "" {
			return nil
		}
		return map[string]any{"display": display}
	}
	auth := authority(r, 9)
	if auth == "" {
		auth = c.senderAuthority()
	}
	id := identifier{System: c.opts.identifierSystem(auth), Value: value}
	p := map[string]any{"identifier": []any{identifierJSON(id, comp(r, 13))}}
	if name != nil {
		p["name"] = []any{name}
	}
	ref := c.add(Entry{Type: "Practitioner", Criteria: identifierCriteria([]identifier{id}), Mode: ModeCreate, from: from}, p)
	out := map[string]any{"reference": ref}
	if display != "" {
		out["display"] = display
	}
	return out
}

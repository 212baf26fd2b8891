package v2fhir

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// adtEvent is the effect of one ADT trigger event on the record.
type adtEvent struct {
	// status is the Encounter.status the event sets, "" for none.
	status string
	// encounter is true when the event is about a visit and needs PV1.
	encounter bool
	// keepStatus keeps a stored Encounter.status (A08 updates data only).
	keepStatus bool
	location   locationPolicy
	// clear lists Encounter elements the event deletes.
	clear []string
	merge bool
	// admits and discharges mean that the event time starts or ends the
	// visit when PV1-44 or PV1-45 does not give the time.
	admits, discharges bool
}

// adtEvents lists the supported ADT trigger events.
var adtEvents = map[string]adtEvent{
	"A01": {status: "in-progress", encounter: true, location: locationMove, admits: true},
	"A02": {status: "in-progress", encounter: true, location: locationMove},
	"A03": {status: "finished", encounter: true, location: locationDischarge, discharges: true},
	"A04": {status: "in-progress", encounter: true, location: locationMove, admits: true},
	"A05": {status: "planned", encounter: true, location: locationMove},
	"A06": {status: "in-progress", encounter: true, location: locationMove},
	"A07": {status: "in-progress", encounter: true, location: locationMove},
	"A08": {keepStatus: true, location: locationUpdate},
	"A11": {status: "cancelled", encounter: true, location: locationRelease},
	"A12": {status: "in-progress", encounter: true, location: locationCancelTransfer},
	"A13": {status: "in-progress", encounter: true, location: locationMove,
		clear: []string{"period.end", "hospitalization.dischargeDisposition"}},
	"A28": {},
	"A31": {},
	"A40": {merge: true},
}

// encounterClasses maps HL7 table 0004 (patient class) to the Encounter
// class, as the mapping guide's ConceptMap does.
var encounterClasses = map[string][3]string{
	"E": {"http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER", "emergency"},
	"I": {"http://terminology.hl7.org/CodeSystem/v3-ActCode", "IMP", "inpatient encounter"},
	"O": {"http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"},
	"P": {"http://terminology.hl7.org/CodeSystem/v3-ActCode", "PRENC", "pre-admission"},
	"R": {"http://terminology.hl7.org/CodeSystem/v2-0004", "R", "Recurring patient"},
	"B": {"http://terminology.hl7.org/CodeSystem/v2-0004", "B", "Obstetrics"},
	"C": {"http://terminology.hl7.org/CodeSystem/v2-0004", "C", "Commercial Account"},
	"N": {"http://terminology.hl7.org/CodeSystem/v2-0004", "N", "Not Applicable"},
	"U": {"http://terminology.hl7.org/CodeSystem/v2-0004", "U", "Unknown"},
}

func (c *converter) convertADT(event string) {
	ev, ok := adtEvents[event]
	if !ok {
		c.fail(CodeUnsupportedEvent, "MSH", 1, 9, "ADT trigger event is not supported")
		return
	}
	pids := segments(c.msg, "PID")
	if len(pids) == 0 {
		c.fail(CodeSegmentSequence, "PID", 1, 0, "PID segment is missing")
		return
	}
	if ev.merge {
		c.convertMerges(pids)
		return
	}
	if len(pids) > 1 {
		// The mapped ADT events describe one patient; a second PID would
		// otherwise be dropped without a word.
		c.fail(CodeSegmentSequence, "PID", 2, 0, "this ADT event carries one PID segment")
		return
	}
	pid := pids[0]
	patient, ok := c.patient(pid, ModeUpdate)
	if !ok {
		return
	}
	pv1s := segments(c.msg, "PV1")
	switch {
	case len(pv1s) > 0 && (ev.encounter || ev.keepStatus && pv1s[0].text(19) != ""):
		c.encounter(pv1s[0], ev, patient)
	case ev.encounter:
		c.warn(CodeSegmentSequence, "PV1", 1, 0, "PV1 segment is missing, so no Encounter is written")
	}
	for _, pr1 := range segments(c.msg, "PR1") {
		c.procedure(pr1, patient)
	}
}

// convertMerges maps each PID and MRG pair of an A40.
func (c *converter) convertMerges(pids []seg) {
	mrgs := segments(c.msg, "MRG")
	if len(mrgs) == 0 {
		c.fail(CodeSegmentSequence, "MRG", 1, 0, "MRG segment is missing")
		return
	}
	for i, pid := range pids {
		if i >= len(mrgs) {
			c.fail(CodeSegmentSequence, "MRG", i+1, 0, "MRG segment is missing for this PID")
			return
		}
		target, ok := c.patient(pid, ModeUpdate)
		if !ok {
			continue
		}
		var source []identifier
		for _, r := range mrgs[i].reps(1) {
			if id, _, ok := c.cx(r); ok {
				source = append(source, id)
			}
		}
		if len(source) == 0 {
			c.fail(CodeRequiredField, "MRG", mrgs[i].occurrence, 1, "MRG-1 has no prior patient identifier")
			continue
		}
		sourceSearches, targetSearches := identifierSearches(source), identifierSearches(target.ids)
		c.merges = append(c.merges, MergeStep{
			SourceCriteria: sourceSearches[0],
			TargetCriteria: targetSearches[0],
			Occurrence:     mrgs[i].occurrence,
			allSource:      sourceSearches,
			allTarget:      targetSearches,
		})
	}
}

// encounter adds the Encounter of a PV1 segment.
func (c *converter) encounter(pv1 seg, ev adtEvent, patient patientRef) {
	var id identifier
	visit := pv1.first(19)
	if v, _, ok := c.cx(visit); ok {
		id = v
	} else {
		// Without a visit number the message itself is the only stable
		// key, so a later event for the same visit cannot find this
		// Encounter.
		id = identifier{
			System: "urn:nexus-health-360:hl7v2:visit",
			Value:  derivedValue(c.hdr.SendingApplication, c.hdr.SendingFacility, c.hdr.ControlID),
		}
	}
	e := map[string]any{
		"identifier": []any{identifierJSON(id, "VN")},
		"subject":    map[string]any{"reference": patient.reference},
		"class":      encounterClass(pv1.text(2)),
	}
	status := ev.status
	start, startAt := c.dateTime(pv1, 44), pv1.at(44, 0)
	end, endAt := c.dateTime(pv1, 45), pv1.at(45, 0)
	if status == "" {
		// A08 for a visit not stored yet: the visit times tell its state.
		switch {
		case end != "":
			status = "finished"
		case start != "":
			status = "in-progress"
		default:
			status = "unknown"
		}
	}
	e["status"] = status

	eventTime, eventAt := c.eventTime()
	switch {
	case ev.admits && start == "":
		start, startAt = eventTime, eventAt
	case ev.discharges && end == "":
		end, endAt = eventTime, eventAt
	}
	// A Period error is located at the field that gave the end, because
	// the end is what a time before the start contradicts, and at the
	// field that gave the start when the message sends no end.
	var periodAt source
	period := map[string]any{}
	if start != "" {
		period["start"] = start
		periodAt = startAt
	}
	if end != "" {
		period["end"] = end
		periodAt = endAt
	}
	if len(period) > 0 {
		e["period"] = period
	}
	if start != "" && end != "" && endsBefore(start, end) {
		c.fail(CodeInternal, periodAt.segment, periodAt.occurrence, periodAt.field, periodMessage)
	}

	if loc := c.location(pv1.first(3)); loc != nil {
		sent := map[string]any{"location": loc, "status": "active"}
		if eventTime != "" {
			sent["period"] = map[string]any{"start": eventTime}
		}
		e["location"] = []any{sent}
	}
	if participants := c.participants(pv1); len(participants) > 0 {
		e["participant"] = participants
	}
	if code := pv1.text(36); code != "" {
		e["hospitalization"] = map[string]any{"dischargeDisposition": map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/v2-0112", "code": code,
		}}}}
	}

	entry := Entry{
		Type: "Encounter", Criteria: identifierCriteria([]identifier{id}), Mode: ModeUpdate,
		Clear: ev.clear, union: []string{"identifier"}, mergeObjects: []string{"period"}, location: ev.location,
		eventTime: eventTime, eventFrom: eventAt, periodFrom: periodAt,
		from: source{segment: "PV1", occurrence: pv1.occurrence, field: 19},
	}
	if ev.keepStatus {
		entry.keep = []string{"status"}
	}
	c.add(entry, e)
}

// participants maps the doctors of PV1-7, PV1-8, PV1-9 and PV1-17.
func (c *converter) participants(pv1 seg) []any {
	var participants []any
	for _, p := range []struct {
		field int
		code  string
		text  string
	}{{7, "ATND", "attender"}, {8, "REF", "referrer"}, {9, "CON", "consultant"}, {17, "ADM", "admitter"}} {
		for _, r := range pv1.numberedReps(p.field) {
			ref := c.practitioner(r.rep, pv1.at(p.field, r.number))
			if ref == nil {
				continue
			}
			participants = append(participants, map[string]any{
				"type": []any{map[string]any{"coding": []any{map[string]any{
					"system":  "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
					"code":    p.code,
					"display": p.text,
				}}}},
				"individual": ref,
			})
		}
	}
	return participants
}

// eventTime returns when the event happened, EVN-6, else EVN-2, else
// MSH-7, and the field that gave it.
func (c *converter) eventTime() (string, source) {
	if evn := segments(c.msg, "EVN"); len(evn) > 0 {
		for _, f := range []int{6, 2} {
			if t := c.dateTime(evn[0], f); t != "" {
				return t, evn[0].at(f, 0)
			}
		}
	}
	msh := segments(c.msg, "MSH")[0]
	return c.dateTime(msh, 7), msh.at(7, 0)
}

func encounterClass(code string) map[string]any {
	class, ok := encounterClasses[strings.ToUpper(code)]
	if !ok {
		// Encounter.class is required, so a missing or unknown patient
		// class is recorded as unknown.
		class = encounterClasses["U"]
	}
	return map[string]any{"system": class[0], "code": class[1], "display": class[2]}
}

// location maps a PL (point of care^room^bed^facility) to a Reference
// carried on Encounter.location, with no Location resource: the identifier
// holds the components as sent and the display names them.
func (c *converter) location(r *hl7v2.Repetition) map[string]any {
	if r == nil {
		return nil
	}
	var parts, names []string
	for i := 1; i <= 4; i++ {
		v := comp(r, i)
		parts = append(parts, v)
		if v != "" && i <= 3 {
			names = append(names, v)
		}
	}
	if len(names) == 0 {
		return nil
	}
	facility := parts[3]
	if facility == "" {
		facility = c.senderAuthority()
	}
	value := strings.TrimRight(strings.Join(parts[:3], "^"), "^")
	return map[string]any{
		"identifier": map[string]any{"system": c.opts.identifierSystem(facility) + ":location", "value": value},
		"display":    strings.Join(names, " "),
	}
}

// procedure adds the Procedure of a PR1 segment. Its identifier is a hash
// of the patient, the procedure code and its time, because PR1-1 is only
// the position in the message.
func (c *converter) procedure(pr1 seg, patient patientRef) {
	code := codeableConcept(pr1.first(3))
	if code == nil {
		return
	}
	if text := fullTextField(pr1, 4, c); text != "" {
		code["text"] = text
	}
	p := map[string]any{
		"status":  "completed",
		"code":    code,
		"subject": map[string]any{"reference": patient.reference},
	}
	when := c.dateTime(pr1, 5)
	if when != "" {
		p["performedDateTime"] = when
	}
	key := sha256.Sum256([]byte(strings.Join([]string{
		patient.ids[0].System, patient.ids[0].Value, comp(pr1.first(3), 3), comp(pr1.first(3), 1), when,
	}, "\x00")))
	id := identifier{System: "urn:nexus-health-360:hl7v2:procedure", Value: hex.EncodeToString(key[:16])}
	p["identifier"] = []any{identifierJSON(id, "")}
	c.add(Entry{Type: "Procedure", Criteria: identifierCriteria([]identifier{id}), Mode: ModeUpdate, union: []string{"identifier"},
		from: source{segment: "PR1", occurrence: pr1.occurrence}}, p)
}

// fullTextField returns the text of the first repetition of field n.
func fullTextField(g seg, n int, c *converter) string {
	return fullText(g.first(n), c.msg.Delimiters())
}

package v2fhir

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// MessageKey identifies one message of one sender: MSH-3, MSH-4 (both as
// encoded in the message) and MSH-10. Two messages with equal keys are the
// same message sent again.
type MessageKey struct {
	SendingApplication string
	SendingFacility    string
	ControlID          string
}

// Mode is the way Apply writes one entry of a Plan.
type Mode int

const (
	// ModeCreate creates the resource when nothing matches its criteria
	// and leaves a stored match unchanged.
	ModeCreate Mode = iota + 1
	// ModeUpdate creates the resource when nothing matches, and otherwise
	// merges it into the stored match (see Apply).
	ModeUpdate
)

// String returns "create" or "update".
func (m Mode) String() string {
	if m == ModeUpdate {
		return "update"
	}
	return "create"
}

// locationPolicy is the rule by which Apply merges Encounter.location.
type locationPolicy int

const (
	locationNone locationPolicy = iota
	// locationMove makes the sent location the active one; earlier active
	// locations become completed.
	locationMove
	// locationDischarge moves to the sent location and completes all.
	locationDischarge
	// locationCancelTransfer drops the active location and makes the sent
	// one (or the one before it) active again.
	locationCancelTransfer
	// locationUpdate is locationMove, except that the current location
	// sent again keeps its status, so that updating a finished visit
	// does not make its last location active.
	locationUpdate
	// locationRelease completes every location and adds none, as when an
	// admission is cancelled.
	locationRelease
)

// Entry describes one entry of Plan.Bundle, in the same order.
type Entry struct {
	Type string
	// FullURL is the entry's urn:uuid, derived from Type and Criteria so
	// that the same message always gives the same bundle.
	FullURL string
	// Criteria is the conditional search (URL query) that finds the stored
	// resource, such as "identifier=urn%3Aoid%3A1.2%7C123". For a patient
	// it names at most the first emr.MaxSearchConditions (64) identifiers
	// (see the package doc, Idempotency).
	Criteria string
	Mode     Mode
	// Clear lists element paths ("birthDate", "period.end") that the
	// message deletes, as with the HL7 explicit null "".
	Clear []string
	// keep lists top-level elements that a stored version keeps over the
	// sent ones (Encounter.status on A08).
	keep []string
	// union lists top-level arrays that Apply merges with the stored
	// array instead of replacing it.
	union []string
	// mergeObjects lists top-level objects merged member by member.
	mergeObjects []string
	// replace lists the top-level elements that the message owns: Apply
	// drops a stored one that the message does not send. A name ending in
	// "[x]" means every type of that choice element.
	replace []string
	// from locates the entry in the message for errors of Apply.
	from     source
	location locationPolicy
	// eventTime is the FHIR dateTime of the event (EVN-6, EVN-2 or
	// MSH-7), at which a location that the event leaves ends.
	eventTime string
	// eventFrom is the field that gave eventTime, and periodFrom the one
	// that gave the sent Encounter.period.end, else its start. Apply
	// locates a period that would end before it starts there.
	eventFrom, periodFrom source
	// allCriteria lists the searches that together name every identifier
	// of a patient, Criteria first. There are several when the patient
	// has more identifiers than one search names.
	allCriteria []string
}

// Reference returns the conditional reference to the entry's resource,
// such as "Patient?identifier=...".
func (e Entry) Reference() string { return e.Type + "?" + e.Criteria }

// MergeStep is an A40 merge that Apply runs after the bundle: the patient
// matching SourceCriteria (MRG-1) is merged into the one matching
// TargetCriteria (PID-3). Each names at most the first
// emr.MaxSearchConditions (64) identifiers.
type MergeStep struct {
	SourceCriteria string
	TargetCriteria string
	// Segment and occurrence of the MRG segment, to locate errors.
	Occurrence int
	// allSource and allTarget are the searches of every identifier, as in
	// Entry.allCriteria.
	allSource, allTarget []string
}

// sourceAt locates MRG-1, and targetAt the PID-3 of the same message.
func (s MergeStep) sourceAt() source {
	return source{segment: "MRG", occurrence: s.Occurrence, field: 1}
}

func (s MergeStep) targetAt() source {
	return source{segment: "PID", occurrence: s.Occurrence, field: 3}
}

// Plan is the outcome of Convert: a FHIR R4 transaction Bundle and the
// steps a Bundle cannot express.
type Plan struct {
	Key MessageKey
	// Event is MSH-9.1 and the trigger event, such as "ADT^A01".
	Event string
	// Bundle is a FHIR R4 transaction Bundle in JSON. Resources are written
	// with conditional creates (POST with ifNoneExist) and conditional
	// updates (PUT Type?criteria), and refer to each other by conditional
	// references, so a FHIR server that supports them can run it as is.
	Bundle []byte
	// Entries describe Bundle's entries in order.
	Entries []Entry
	// Merges are the A40 merges, run after the bundle.
	Merges []MergeStep
	// Warnings are the parts of the message that were skipped, such as an
	// OBX without OBX-3, for an ACK's ERR segments of severity W.
	Warnings ErrorList
	// Received is MSH-7 as a FHIR instant, else the time of Convert. It
	// records when a late result was kept (see Apply).
	Received string
}

// ResourceTypes returns the resource type of each entry, in order.
func (p *Plan) ResourceTypes() []string {
	out := make([]string, len(p.Entries))
	for i, e := range p.Entries {
		out[i] = e.Type
	}
	return out
}

// Convert maps an HL7 v2 ADT or ORU^R01 message onto a Plan. It does no
// I/O and is safe for concurrent use on different messages. The error is
// an ErrorList of located problems, with no value from the message in it.
func Convert(msg *hl7v2.Message, opts Options) (*Plan, error) {
	if msg == nil || msg.Header() == nil {
		return nil, ErrorList{{Code: CodeSegmentSequence, SegmentID: "MSH", Message: "message has no MSH segment"}}
	}

	c := &converter{msg: msg, opts: opts, hdr: msg.Header(), byRef: map[string]*planEntry{}, observationKeys: map[string]int{}}
	plan := &Plan{Key: MessageKey{
		SendingApplication: c.hdr.SendingApplication,
		SendingFacility:    c.hdr.SendingFacility,
		ControlID:          c.hdr.ControlID,
	}}
	if plan.Key.ControlID == "" {
		c.fail(CodeRequiredField, "MSH", 1, 10, "MSH-10 message control id is missing")
	}

	code := c.hdr.MessageCode
	event := c.hdr.TriggerEvent
	if event == "" {
		event = c.msg.Get("EVN-1")
	}
	plan.Event = code + "^" + event
	switch code {
	case "ADT":
		c.convertADT(event)
	case "ORU":
		if event != "R01" {
			c.fail(CodeUnsupportedEvent, "MSH", 1, 9, "only ORU^R01 is supported")
			break
		}
		c.convertORU()
	default:
		c.fail(CodeUnsupportedMessage, "MSH", 1, 9, "only ADT and ORU^R01 messages are supported")
	}

	if len(c.errs) > 0 {
		return nil, c.errs
	}

	bundle, err := c.bundle()
	if err != nil {
		return nil, ErrorList{{Code: CodeInternal, SegmentID: "MSH", Message: "encoding the bundle failed"}}
	}
	plan.Bundle = bundle
	for _, e := range c.entries {
		plan.Entries = append(plan.Entries, e.Entry)
	}
	plan.Merges = c.merges
	plan.Warnings = c.warnings
	plan.Received = c.messageTime()
	if plan.Received == "" {
		plan.Received = opts.now().UTC().Format(time.RFC3339)
	}
	return plan, nil
}

// converter holds the state of one Convert call.
type converter struct {
	msg      *hl7v2.Message
	opts     Options
	hdr      *hl7v2.Header
	errs     ErrorList
	warnings ErrorList
	entries  []*planEntry
	byRef    map[string]*planEntry
	merges   []MergeStep
	// observationKeys counts the OBX segments of each Observation
	// identity, so that repeats get identities of their own.
	observationKeys map[string]int
}

type planEntry struct {
	Entry
	resource map[string]any
}

func (c *converter) fail(code, segment string, occurrence, field int, message string) {
	c.record(&Error{Code: code, SegmentID: segment, Occurrence: occurrence, Field: field, Message: message})
}

func (c *converter) warn(code, segment string, occurrence, field int, message string) {
	c.warnings = append(c.warnings, &Error{Code: code, SegmentID: segment, Occurrence: occurrence, Field: field, Message: message})
}

// record adds an error unless the same one is already recorded, as when
// several observations fall back to one invalid OBR-7.
func (c *converter) record(e *Error) {
	for _, seen := range c.errs {
		if *seen == *e {
			return
		}
	}
	c.errs = append(c.errs, e)
}

// add puts a resource into the plan and returns its conditional reference.
// A second resource with the same type and criteria is dropped, so one
// practitioner named twice gives one entry.
func (c *converter) add(e Entry, resource map[string]any) string {
	ref := e.Reference()
	if _, ok := c.byRef[ref]; ok {
		return ref
	}
	resource["resourceType"] = e.Type
	e.FullURL = deterministicURN(ref)
	pe := &planEntry{Entry: e, resource: resource}
	c.entries = append(c.entries, pe)
	c.byRef[ref] = pe
	return ref
}

// bundle encodes the transaction Bundle of the collected entries.
func (c *converter) bundle() ([]byte, error) {
	entries := make([]any, 0, len(c.entries))
	for _, e := range c.entries {
		request := map[string]any{}
		switch e.Mode {
		case ModeCreate:
			request["method"] = "POST"
			request["url"] = e.Type
			request["ifNoneExist"] = e.Criteria
		default:
			request["method"] = "PUT"
			request["url"] = e.Reference()
		}
		entries = append(entries, map[string]any{
			"fullUrl":  e.FullURL,
			"resource": e.resource,
			"request":  request,
		})
	}
	return marshalJSON(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

// marshalJSON encodes v without HTML escaping, so "<" and "&" stay as sent.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// deterministicURN returns a name-based (version 5 layout) UUID URN of s.
func deterministicURN(s string) string {
	sum := sha1.Sum([]byte("nexus-health-360/v2fhir:" + s))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// identifier is a FHIR Identifier's system and value.
type identifier struct {
	System string
	Value  string
}

// identifierCriteria returns the search that matches a resource holding
// any of ids. Every system and value is escaped with escapeSearchValue, so
// no character of the message can add a search value or a system.
func identifierCriteria(ids []identifier) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = escapeSearchValue(id.System) + "|" + escapeSearchValue(id.Value)
	}
	return url.Values{"identifier": {strings.Join(parts, ",")}}.Encode()
}

// searchEscaper puts a backslash before each character that the FHIR R4
// search rules give a meaning in a value: the backslash itself, "," between
// values, "|" between system and code, and "$" between composite parts.
// The replacement is one pass, so an added backslash is never escaped again.
var searchEscaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, "|", `\|`, "$", `\$`)

// escapeSearchValue returns s escaped for use as one part of a FHIR search
// value. Every search string built from message content goes through it.
func escapeSearchValue(s string) string { return searchEscaper.Replace(s) }

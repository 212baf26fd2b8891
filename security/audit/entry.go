package audit

import (
	"errors"
	"time"
)

// Sentinel errors. Every error of the package wraps one of them.
var (
	// ErrInvalid: an entry, configuration value or file breaks a rule.
	ErrInvalid = errors.New("audit: invalid")
	// ErrNotFound: no entry or signing key with that id exists.
	ErrNotFound = errors.New("audit: not found")
	// ErrConflict: another writer stored the same key first.
	ErrConflict = errors.New("audit: conflict")
	// ErrTampered: verification found an edited, inserted, removed or
	// reordered entry, or a checkpoint that the log does not match.
	ErrTampered = errors.New("audit: log tampered")
	// ErrClosed: the Log was closed.
	ErrClosed = errors.New("audit: log closed")
)

// Action is the FHIR R4 AuditEvent.action code (value set
// http://hl7.org/fhir/audit-event-action).
type Action string

// Audit event actions.
const (
	ActionCreate  Action = "C"
	ActionRead    Action = "R"
	ActionUpdate  Action = "U"
	ActionDelete  Action = "D"
	ActionExecute Action = "E"
)

// Outcome is the FHIR R4 AuditEvent.outcome code (value set
// http://hl7.org/fhir/audit-event-outcome).
type Outcome string

// Audit event outcomes.
const (
	OutcomeSuccess      Outcome = "0"
	OutcomeMinorFailure Outcome = "4"
	OutcomeSeriousFail  Outcome = "8"
	OutcomeMajorFailure Outcome = "12"
)

// Event types, as AuditEvent.type codes. RESTful interactions use the
// code rest of http://terminology.hl7.org/CodeSystem/audit-event-type, and
// the others are DICOM codes (http://dicom.nema.org/resources/ontology/DCM),
// which IHE BALP uses.
const (
	TypeRest           = "rest"
	TypeLogin          = "110114" // User Authentication
	TypeExport         = "110106" // Export
	TypeQuery          = "110112" // Query
	TypeEmergency      = "110113" // Security Alert, used for break-the-glass
	typeSystemRest     = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	typeSystemDICOM    = "http://dicom.nema.org/resources/ontology/DCM"
	subtypeSystemFHIR  = "http://hl7.org/fhir/restful-interaction"
	subtypeSystemLocal = "urn:nexus:audit-subtype"
)

// Agent is who performed the action (AuditEvent.agent with requestor
// true) and from where.
type Agent struct {
	// Who is the user name or, for a backend service, the client id.
	Who string
	// Client is the OAuth2 client the user acted through, if any.
	Client string
	// Roles are the agent's role codes at the time.
	Roles []string
	// Address is the network address the request came from.
	Address string
}

// Entry is one audit record, shaped like a FHIR R4 AuditEvent as IHE BALP
// profiles it: who (Agent), which patient (Patient), what (What and Query),
// when (Recorded), from where (Agent.Address), and the Outcome.
type Entry struct {
	// Seq is the entry's position in the chain, assigned on append.
	Seq int64
	// Recorded is the time of the action. The Log's clock fills it in
	// when zero. It is stored with microsecond precision in UTC.
	Recorded time.Time
	// Type is an AuditEvent.type code, such as TypeRest or TypeLogin.
	Type string
	// Subtype is the FHIR interaction (read, vread, history-instance,
	// search-type, create, update, patch, delete) or a local code such as
	// login, export or break-the-glass.
	Subtype string
	Action  Action
	Outcome Outcome
	// OutcomeDescription explains a failure, without patient data.
	OutcomeDescription string
	Agent              Agent
	// Source is the observer: the system that recorded the entry.
	Source string
	// Patient is the id of the patient whose record was accessed, empty
	// when none was.
	Patient string
	// What is the resource acted on, as Type/id or Type/id/_history/v.
	What string
	// Query is the search or export query as received.
	Query string
	// Purpose is the stated purpose of use, such as the reason given for a
	// break-the-glass access.
	Purpose string
	// Stream and Position name the outbox event the entry records, for
	// entries appended by a Follower.
	Stream   string
	Position int64
}

// Record is a stored entry with its chain links.
type Record struct {
	Entry
	// PrevHash is the Hash of the entry before, or 64 zeros for the first.
	PrevHash string
	// Hash is the hex SHA-256 of PrevHash and the canonical encoding of
	// Entry.
	Hash string
	// MAC is the hex HMAC-SHA-256 of Hash under the log's MAC key, which
	// only the audit component holds.
	MAC string
}

// Validate names the first missing field.
func (e Entry) Validate() error {
	switch {
	case e.Type == "":
		return errorf(ErrInvalid, "entry: Type is missing")
	case e.Action == "":
		return errorf(ErrInvalid, "entry: Action is missing")
	case e.Outcome == "":
		return errorf(ErrInvalid, "entry: Outcome is missing")
	case e.Agent.Who == "":
		return errorf(ErrInvalid, "entry: Agent.Who is missing")
	}
	return nil
}

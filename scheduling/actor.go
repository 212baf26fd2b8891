package scheduling

import (
	"fmt"
	"strings"
)

// ActorKind is the kind of a schedulable resource. The values are the
// names of the FHIR R4 resource types a Schedule.actor may reference, so
// an Actor maps onto a FHIR reference as Kind + "/" + ID.
type ActorKind string

// Schedulable actor kinds. Rooms and theatres are locations.
const (
	Practitioner      ActorKind = "Practitioner"
	Location          ActorKind = "Location"
	Device            ActorKind = "Device"
	HealthcareService ActorKind = "HealthcareService"
)

// Valid reports whether k is one of the schedulable kinds.
func (k ActorKind) Valid() bool {
	switch k {
	case Practitioner, Location, Device, HealthcareService:
		return true
	}
	return false
}

// Actor is a schedulable resource: a practitioner, a location or room, a
// device or a healthcare service. Patients are not actors; an appointment
// names its patient by id only.
type Actor struct {
	Kind ActorKind
	ID   string
}

// String returns the actor as a FHIR reference, such as "Practitioner/p1".
func (a Actor) String() string { return string(a.Kind) + "/" + a.ID }

// Validate returns an error wrapping ErrInvalid unless the kind is
// schedulable and the id is a valid FHIR id.
func (a Actor) Validate() error {
	if !a.Kind.Valid() {
		return invalidf("actor kind %q is not one of Practitioner, Location, Device, HealthcareService", a.Kind)
	}
	if !validID(a.ID) {
		return invalidf("actor id of %s must be 1 to 64 letters, digits, '-' or '.'", a.Kind)
	}
	return nil
}

// ParseActor reads a reference of the form "Kind/id".
func ParseActor(ref string) (Actor, error) {
	kind, id, ok := strings.Cut(ref, "/")
	if !ok {
		return Actor{}, fmt.Errorf("parse actor: reference must look like Practitioner/id: %w", ErrInvalid)
	}
	a := Actor{Kind: ActorKind(kind), ID: id}
	return a, a.Validate()
}

// validID reports whether id is a FHIR id: 1 to 64 characters from
// [A-Za-z0-9.-].
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

package fhir

import (
	"slices"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
)

// readableTypes returns the resource types that d lets the caller read
// under its patient reach, or nil for every type. A type in the Patient
// compartment is left out unless d.ReachTypes has it, so a permission
// that reaches every patient on one type (such as Practitioner) does not
// open every patient's Encounters through _revinclude or _has. A written
// type is added, because emr checks writes against the types too.
func readableTypes(d security.Decision, req security.Request) []string {
	if d.ReadTypes == nil && d.ReachTypes == nil {
		return nil
	}
	candidates := d.ReadTypes
	if candidates == nil {
		candidates = emr.ResourceTypes()
	}
	out := make([]string, 0, len(candidates)+1)
	for _, typ := range candidates {
		if d.ReachTypes == nil || !emr.InPatientCompartment(typ) || slices.Contains(d.ReachTypes, typ) {
			out = append(out, typ)
		}
	}
	if req.Interaction != security.Read && req.Interaction != security.Search && req.Type != "*" &&
		!slices.Contains(out, req.Type) {
		out = append(out, req.Type)
	}
	return out
}

package emr

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// Access narrows what a caller may see and write. The security layer
// builds one per request and passes it with ContextWithAccess. The store
// applies it inside its SQL queries, so a restricted caller never receives
// a row it may not see.
//
// A resource of a type in the R4 Patient compartment (see
// PatientCompartment) is visible when it is one of Patients itself or
// references one of Patients through a compartment parameter of its type.
// Other types (Organization, Practitioner, Medication, ...) are visible
// unless Types leaves them out.
type Access struct {
	// AllPatients lifts the compartment restriction.
	AllPatients bool
	// Patients are the ids of the patients whose compartments may be
	// seen and written when AllPatients is false.
	Patients []string
	// Types, when non-nil, lists the only resource types that may be
	// read. Other types are invisible, and an empty non-nil list hides
	// every type.
	Types []string
}

type accessKey struct{}

// ContextWithAccess returns a context that restricts every read and write
// done with it to a. A context without an Access, or with a nil one, is
// unrestricted.
func ContextWithAccess(ctx context.Context, a *Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// AccessFromContext returns the Access set by ContextWithAccess, or nil for
// an unrestricted context.
func AccessFromContext(ctx context.Context) *Access {
	a, _ := ctx.Value(accessKey{}).(*Access)
	return a
}

// unrestricted returns ctx without its Access, for the reads that tell an
// invisible resource from a missing one.
func unrestricted(ctx context.Context) context.Context {
	if AccessFromContext(ctx) == nil {
		return ctx
	}
	return ContextWithAccess(ctx, nil)
}

// TypeAllowed reports whether a allows resources of typ to be read. A nil
// Access allows every type.
func (a *Access) TypeAllowed(typ string) bool {
	return a == nil || a.Types == nil || slices.Contains(a.Types, typ)
}

// PatientAllowed reports whether a allows the compartment of patient id.
func (a *Access) PatientAllowed(id string) bool {
	return a == nil || a.AllPatients || slices.Contains(a.Patients, id)
}

// InPatientCompartment reports whether resources of typ belong to patient
// compartments, so that Access.Patients restricts them.
func InPatientCompartment(typ string) bool {
	_, ok := PatientCompartment()[typ]
	return ok
}

// compartmentPatients returns the sorted ids of the patients in whose
// compartments a resource with these index entries is: the targets of
// Patient references through its type's compartment parameters, and a
// Patient's own id.
func compartmentPatients(typ, id string, index []searchparam.Entry) []string {
	params := PatientCompartment()[typ]
	if len(params) == 0 {
		return []string{}
	}
	seen := map[string]bool{}
	if typ == "Patient" {
		seen[id] = true
	}
	for _, e := range index {
		if e.Type == searchparam.TypeReference && e.RefType == "Patient" && e.RefID != "" && slices.Contains(params, e.Param) {
			seen[e.RefID] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// checkWriteAccess returns ErrForbidden when the caller's Access does not
// allow content of typ in the compartments of patients. A restricted
// caller may write a type in the Patient compartment only when the content
// is in at least one allowed compartment and in no other, because it could
// not read the result otherwise. A new Patient needs AllPatients.
func checkWriteAccess(ctx context.Context, op, typ string, patients []string, newPatient bool) error {
	a := AccessFromContext(ctx)
	if a == nil {
		return nil
	}
	if !a.TypeAllowed(typ) {
		return fmt.Errorf("%s: resource type %s is not allowed: %w", op, typ, ErrForbidden)
	}
	if a.AllPatients || !InPatientCompartment(typ) {
		return nil
	}
	if newPatient {
		return fmt.Errorf("%s: creating a patient needs access to all patients: %w", op, ErrForbidden)
	}
	if len(patients) == 0 {
		return fmt.Errorf("%s: the resource is in no allowed patient compartment: %w", op, ErrForbidden)
	}
	for _, p := range patients {
		if !a.PatientAllowed(p) {
			// The patient id is left out: the caller may not know it.
			return fmt.Errorf("%s: the resource is in the compartment of a patient that is not allowed: %w", op, ErrForbidden)
		}
	}
	return nil
}

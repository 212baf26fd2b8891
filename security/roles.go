package security

import (
	"fmt"
	"slices"
	"strings"
)

// Role is a job function that users and clients are assigned.
type Role string

// Roles.
const (
	RolePhysician Role = "physician"
	RoleNurse     Role = "nurse"
	RoleClerk     Role = "clerk"
	RoleBilling   Role = "billing"
	RoleLabSystem Role = "lab-system"
	RoleDevice    Role = "device"
	RoleAdmin     Role = "admin"
	// RolePatient is a patient using a patient-facing app, who sees only
	// their own compartment.
	RolePatient Role = "patient"
)

// Reach is which patients' compartments a permission covers.
type Reach int

// Reaches, from narrowest to widest.
const (
	// ReachSelf covers only the patient the user is (fhirUser
	// Patient/id).
	ReachSelf Reach = iota + 1
	// ReachCare covers the patients the principal has a care relation
	// with, as CareRelations returns them, and those of active
	// break-the-glass grants.
	ReachCare
	// ReachAll covers every patient.
	ReachAll
)

// Permission grants interactions on resource types to a role.
type Permission struct {
	// Types lists resource type names; "*" means every type.
	Types []string
	// Interactions is a subset of "cruds".
	Interactions string
	Reach        Reach
}

func (p Permission) allows(typ string, i Interaction) bool {
	return strings.IndexByte(p.Interactions, byte(i)) >= 0 &&
		(slices.Contains(p.Types, "*") || slices.Contains(p.Types, typ))
}

// Resource type groups of the default permission table.
var (
	directoryTypes = []string{"Practitioner", "PractitionerRole", "Organization", "Location",
		"HealthcareService", "Endpoint", "Device", "Medication", "Substance", "ValueSet", "CodeSystem"}
	schedulingTypes  = []string{"Schedule", "Slot", "Appointment", "AppointmentResponse"}
	registrationType = []string{"Patient", "RelatedPerson", "Person", "Encounter", "EpisodeOfCare", "Coverage", "Consent"}
	billingTypes     = []string{"Account", "ChargeItem", "ChargeItemDefinition", "Invoice",
		"PaymentReconciliation", "PaymentNotice", "Claim", "ClaimResponse", "Coverage",
		"CoverageEligibilityRequest", "CoverageEligibilityResponse", "ExplanationOfBenefit"}
	nursingWriteTypes = []string{"Observation", "MedicationAdministration", "Procedure", "CarePlan",
		"Task", "Communication", "Flag", "QuestionnaireResponse", "DocumentReference"}
	labTypes = []string{"Observation", "DiagnosticReport", "Specimen", "ImagingStudy", "Media"}
)

// DefaultPermissions is the role to permission table used when
// Config.Permissions is nil. Clinical roles reach the patients they care
// for, administrative and system roles reach every patient on the types
// their work needs, and admin reaches everything.
func DefaultPermissions() map[Role][]Permission {
	return map[Role][]Permission{
		RoleAdmin: {{Types: []string{"*"}, Interactions: "cruds", Reach: ReachAll}},
		RolePhysician: {
			{Types: []string{"*"}, Interactions: "cruds", Reach: ReachCare},
			{Types: directoryTypes, Interactions: "rs", Reach: ReachAll},
			{Types: schedulingTypes, Interactions: "rs", Reach: ReachAll},
		},
		RoleNurse: {
			{Types: []string{"*"}, Interactions: "rs", Reach: ReachCare},
			{Types: nursingWriteTypes, Interactions: "cru", Reach: ReachCare},
			{Types: []string{"Encounter"}, Interactions: "u", Reach: ReachCare},
			{Types: directoryTypes, Interactions: "rs", Reach: ReachAll},
		},
		RoleClerk: {
			{Types: registrationType, Interactions: "crus", Reach: ReachAll},
			{Types: schedulingTypes, Interactions: "cruds", Reach: ReachAll},
			{Types: directoryTypes, Interactions: "rs", Reach: ReachAll},
		},
		RoleBilling: {
			{Types: billingTypes, Interactions: "cruds", Reach: ReachAll},
			{Types: []string{"Patient", "Encounter", "Procedure", "Condition"}, Interactions: "rs", Reach: ReachAll},
			{Types: directoryTypes, Interactions: "rs", Reach: ReachAll},
		},
		RoleLabSystem: {
			{Types: labTypes, Interactions: "crus", Reach: ReachAll},
			{Types: []string{"ServiceRequest", "Patient", "Encounter"}, Interactions: "rs", Reach: ReachAll},
			{Types: directoryTypes, Interactions: "rs", Reach: ReachAll},
		},
		RoleDevice: {
			{Types: []string{"Observation"}, Interactions: "c", Reach: ReachAll},
			{Types: []string{"Device", "DeviceMetric"}, Interactions: "rus", Reach: ReachAll},
		},
		RolePatient: {{Types: []string{"*"}, Interactions: "rs", Reach: ReachSelf}},
	}
}

// ParseRole returns the Role named s, or an error wrapping ErrInvalid for
// a name that is not in the table.
func ParseRole(s string, table map[Role][]Permission) (Role, error) {
	r := Role(strings.TrimSpace(s))
	if _, ok := table[r]; !ok {
		names := make([]string, 0, len(table))
		for name := range table {
			names = append(names, string(name))
		}
		slices.Sort(names)
		return "", fmt.Errorf("parse role %q: use one of %s: %w", s, strings.Join(names, ", "), ErrInvalid)
	}
	return r, nil
}

// ParseRoles parses a comma-separated list of roles.
func ParseRoles(s string, table map[Role][]Permission) ([]Role, error) {
	var out []Role
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		r, err := ParseRole(part, table)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

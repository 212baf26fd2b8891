package sqlstore

import (
	"sort"
	"strings"
	"sync"

	"github.com/nexus-health-360/nexus/emr"
)

// accessDriveMax is the largest number of allowed patients for which the
// access filter drives a search through the reference index, unless the
// search has an id or reference condition to drive from. Beyond it the
// filter is a per-row probe: the index rows of a thousand patients'
// compartments are rarely fewer than those of the search's own condition.
const accessDriveMax = 100

// restricts reports whether acc limits resources of typ to patient
// compartments.
func restricts(acc *emr.Access, typ string) bool {
	return acc != nil && !acc.AllPatients && emr.InPatientCompartment(typ)
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func stringArgs(values []string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// writeAccess appends " AND ..." with the visibility test of acc on the
// resources row aliased a, of type typ. drive writes the compartment test
// as rid IN (...) so that it can drive the query through the reference
// index. Without drive it is a correlated EXISTS probe. withDeleted also
// admits a deleted resource whose deletion version is in an allowed
// compartment, because a deleted resource has no index rows.
func writeAccess(b *sqlBuilder, acc *emr.Access, a, typ string, drive, withDeleted bool) {
	if acc == nil {
		return
	}
	if !acc.TypeAllowed(typ) {
		b.write(" AND 1 = 0")
		return
	}
	if !restricts(acc, typ) {
		return
	}
	if len(acc.Patients) == 0 {
		b.write(" AND 1 = 0")
		return
	}

	params := emr.PatientCompartment()[typ]
	patients := stringArgs(acc.Patients)
	b.write(" AND (")
	if typ == "Patient" {
		b.write(a+".res_id IN ("+placeholders(len(patients))+") OR ", patients...)
	}
	refTest := "res_type = ? AND param IN (" + placeholders(len(params)) + ") AND ref_type = 'Patient' AND ref_id IN (" +
		placeholders(len(patients)) + ")"
	refArgs := append(append([]any{typ}, stringArgs(params)...), patients...)

	if drive {
		b.write(a+".rid IN (SELECT rid FROM idx_reference WHERE "+refTest+")", refArgs...)
	} else {
		x := b.alias()
		// The unqualified columns of refTest resolve to x.
		b.write("EXISTS (SELECT 1 FROM idx_reference "+x+" WHERE "+x+".rid = "+a+".rid AND "+refTest+")", refArgs...)
	}

	if withDeleted {
		x := b.alias()
		b.write(" OR ("+a+".deleted AND EXISTS (SELECT 1 FROM version_patients "+x+" WHERE "+x+".seq = "+a+".seq AND "+
			x+".patient_id IN ("+placeholders(len(patients))+")))", patients...)
	}
	b.write(")")
}

// writeVersionAccess appends " AND ..." with the visibility test of acc on
// the resource_versions row aliased v. typ is the versions' type, or ""
// when they may be of any type. A version is visible when its type is
// allowed and, for a type in the Patient compartment, when one of its
// stored compartment patients is allowed.
func writeVersionAccess(b *sqlBuilder, acc *emr.Access, v, typ string) {
	if acc == nil {
		return
	}

	if typ != "" {
		if !acc.TypeAllowed(typ) {
			b.write(" AND 1 = 0")
			return
		}
		if !restricts(acc, typ) {
			return
		}
	} else if acc.Types != nil {
		if len(acc.Types) == 0 {
			b.write(" AND 1 = 0")
			return
		}
		b.write(" AND "+v+".res_type IN ("+placeholders(len(acc.Types))+")", stringArgs(acc.Types)...)
	}

	if acc.AllPatients {
		return
	}

	x := b.alias()
	patientTest := "EXISTS (SELECT 1 FROM version_patients " + x + " WHERE " + x + ".seq = " + v + ".seq AND " +
		x + ".patient_id IN (" + placeholders(len(acc.Patients)) + "))"
	if len(acc.Patients) == 0 {
		patientTest = "1 = 0"
	}
	if typ != "" {
		b.write(" AND "+patientTest, stringArgs(acc.Patients)...)
		return
	}

	types := compartmentTypes()
	b.write(" AND ("+v+".res_type NOT IN ("+placeholders(len(types))+")", stringArgs(types)...)
	b.write(" OR "+patientTest+")", stringArgs(acc.Patients)...)
}

var (
	compartmentTypesOnce sync.Once
	compartmentTypeList  []string
)

// compartmentTypes returns the sorted types of the Patient compartment.
func compartmentTypes() []string {
	compartmentTypesOnce.Do(func() {
		for t := range emr.PatientCompartment() {
			compartmentTypeList = append(compartmentTypeList, t)
		}
		sort.Strings(compartmentTypeList)
	})
	return compartmentTypeList
}

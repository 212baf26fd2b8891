package security_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// wardRelations gives every user on ward-3 the patients p1 and p2.
var wardRelations = security.CareRelationsFunc(func(_ context.Context, p *security.Principal) ([]string, error) {
	if p.Location == "ward-3" {
		return []string{"p1", "p2"}, nil
	}
	return nil, nil
})

func user(scopes string, roles ...security.Role) *security.Principal {
	return &security.Principal{Subject: "u1", ClientID: "app", Kind: security.KindUser, Roles: roles,
		Scopes: security.ParseScopes(scopes).Resource, Location: "ward-3"}
}

func TestDecideRolesAndScopes(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	read := security.Request{Type: "Observation", Interaction: security.Read}
	tests := []struct {
		name    string
		p       *security.Principal
		req     security.Request
		allowed bool
	}{
		{"nurse reads with user scope", user("user/*.rs", security.RoleNurse), read, true},
		{"nurse cannot delete", user("user/*.cruds", security.RoleNurse),
			security.Request{Type: "Observation", Interaction: security.Delete}, false},
		{"write scope does not read", user("user/Observation.cud", security.RoleNurse), read, false},
		{"v1 write does not read", user("user/Observation.write", security.RoleNurse), read, false},
		{"scope of another type", user("user/Patient.rs", security.RoleNurse), read, false},
		{"clerk has no clinical reads", user("user/*.rs", security.RoleClerk), read, false},
		{"clerk registers patients", user("user/*.cruds", security.RoleClerk),
			security.Request{Type: "Patient", Interaction: security.Create}, true},
		{"no roles", user("user/*.cruds"), read, false},
		{"system scope on a user", user("system/*.rs", security.RoleAdmin), read, false},
		{"scope with a query grants nothing", user("user/Observation.rs?category=laboratory", security.RoleAdmin), read, false},
		{"device creates observations", &security.Principal{Subject: "d1", Kind: security.KindSystem,
			Roles: []security.Role{security.RoleDevice}, Scopes: security.ParseScopes("system/Observation.c").Resource},
			security.Request{Type: "Observation", Interaction: security.Create}, true},
		{"device cannot read observations", &security.Principal{Subject: "d1", Kind: security.KindSystem,
			Roles: []security.Role{security.RoleDevice}, Scopes: security.ParseScopes("system/Observation.cruds").Resource},
			read, false},
		{"patient scope on a system client", &security.Principal{Subject: "s1", Kind: security.KindSystem,
			Roles: []security.Role{security.RoleAdmin}, Scopes: security.ParseScopes("patient/*.rs").Resource},
			read, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Decide(f.ctx, tt.p, tt.req)
			if tt.allowed {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, security.ErrForbidden)
			}
		})
	}
	_, err := f.svc.Decide(f.ctx, nil, read)
	assert.ErrorIs(t, err, security.ErrUnauthenticated)
}

func TestDecideCompartments(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	read := security.Request{Type: "Observation", Interaction: security.Read}

	d, err := f.svc.Decide(f.ctx, user("user/*.rs", security.RoleNurse), read)
	require.NoError(t, err)
	assert.False(t, d.AllPatients)
	assert.Equal(t, []string{"p1", "p2"}, d.Patients, "a ward nurse sees the patients on the ward")

	offWard := user("user/*.rs", security.RoleNurse)
	offWard.Location = "ward-9"
	d, err = f.svc.Decide(f.ctx, offWard, read)
	require.NoError(t, err)
	assert.False(t, d.AllPatients)
	assert.Empty(t, d.Patients, "a nurse of another ward sees no patient")

	d, err = f.svc.Decide(f.ctx, user("user/*.rs", security.RoleAdmin), read)
	require.NoError(t, err)
	assert.True(t, d.AllPatients)
	assert.Nil(t, d.ReadTypes, "admin with user/*.rs reads every type")

	launched := user("patient/*.rs", security.RoleNurse)
	launched.Patient = "p2"
	d, err = f.svc.Decide(f.ctx, launched, read)
	require.NoError(t, err)
	assert.Equal(t, []string{"p2"}, d.Patients, "patient/ scopes narrow to the launch patient")

	launched.Patient = "p7"
	d, err = f.svc.Decide(f.ctx, launched, read)
	require.NoError(t, err)
	assert.Empty(t, d.Patients, "a launch patient outside the care relations is not reachable")

	self := &security.Principal{Subject: "pat", Kind: security.KindUser, Roles: []security.Role{security.RolePatient},
		Scopes: security.ParseScopes("patient/*.rs").Resource, Patient: "p5", FHIRUser: "Patient/p5"}
	d, err = f.svc.Decide(f.ctx, self, read)
	require.NoError(t, err)
	assert.Equal(t, []string{"p5"}, d.Patients)
	_, err = f.svc.Decide(f.ctx, self, security.Request{Type: "Observation", Interaction: security.Create})
	assert.ErrorIs(t, err, security.ErrForbidden, "a patient reads only")
}

func TestDecideReadTypes(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	d, err := f.svc.Decide(f.ctx, user("user/Patient.rs user/Observation.rs user/Encounter.cu", security.RoleNurse),
		security.Request{Type: "Observation", Interaction: security.Search})
	require.NoError(t, err)
	assert.Equal(t, []string{"Observation", "Patient"}, d.ReadTypes, "types without r are invisible to _include")

	d, err = f.svc.Decide(f.ctx, user("user/*.rs", security.RoleBilling),
		security.Request{Type: "Invoice", Interaction: security.Search})
	require.NoError(t, err)
	assert.Contains(t, d.ReadTypes, "Invoice")
	assert.NotContains(t, d.ReadTypes, "Observation", "billing reads no observations")
	assert.True(t, d.AllPatients)
}

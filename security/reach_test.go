package security_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestDecideReachTypes(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	search := func(typ string) security.Request { return security.Request{Type: typ, Interaction: security.Search} }

	d, err := f.svc.Decide(f.ctx, user("user/*.cruds", security.RolePhysician), search("Practitioner"))
	require.NoError(t, err)
	assert.True(t, d.AllPatients, "the directory is read for every patient")
	assert.Contains(t, d.ReachTypes, "Practitioner")
	assert.Contains(t, d.ReachTypes, "Appointment", "scheduling is read for every patient too")
	assert.NotContains(t, d.ReachTypes, "Encounter", "encounters are read only for patients in care")
	assert.NotContains(t, d.ReachTypes, "Observation")

	d, err = f.svc.Decide(f.ctx, user("user/*.cruds", security.RolePhysician), search("Observation"))
	require.NoError(t, err)
	assert.False(t, d.AllPatients)
	assert.Nil(t, d.ReachTypes, "every read permission reaches the patients in care")

	d, err = f.svc.Decide(f.ctx, user("user/*.rs", security.RoleNurse), search("Organization"))
	require.NoError(t, err)
	assert.NotContains(t, d.ReachTypes, "Condition")

	d, err = f.svc.Decide(f.ctx, user("user/*.rs", security.RoleBilling), search("Invoice"))
	require.NoError(t, err)
	assert.Contains(t, d.ReachTypes, "Encounter", "billing reads encounters for every patient")
}

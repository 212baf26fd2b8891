package security_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestSetUserDisabledRecordsEvent(t *testing.T) {
	f := newFixture(t, security.Config{})
	_, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: "nurse1", Password: "a long enough password",
		Roles: []security.Role{security.RoleNurse}})
	require.NoError(t, err)

	require.NoError(t, f.svc.SetUserDisabled(f.ctx, "nurse1", true, "operator"))
	_, err = f.svc.Authenticate(f.ctx, "nurse1", "a long enough password", "", "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a disabled user cannot sign in")
	require.NoError(t, f.svc.SetUserDisabled(f.ctx, "nurse1", false, "operator"))
	_, err = f.svc.Authenticate(f.ctx, "nurse1", "a long enough password", "", "")
	assert.NoError(t, err, "enabled again")

	assert.ErrorIs(t, f.svc.SetUserDisabled(f.ctx, "nobody", true, "operator"), security.ErrNotFound)
	var changes []security.Event
	for _, e := range f.events.events {
		if e.Type == security.EventUserDisabled || e.Type == security.EventUserEnabled {
			changes = append(changes, e)
		}
	}
	require.Len(t, changes, 2, "an unknown user records nothing")
	assert.Equal(t, security.EventUserDisabled, changes[0].Type)
	assert.Equal(t, "operator", changes[0].Subject)
	assert.Equal(t, "nurse1", changes[0].Target)
	assert.Equal(t, security.EventUserEnabled, changes[1].Type)
}

func TestSetClientDisabledRecordsEvent(t *testing.T) {
	f := newFixture(t, security.Config{})
	c := f.addSystemClient(t, "lab", "system/*.rs", security.RoleLabSystem)
	require.NoError(t, f.svc.SetClientDisabled(f.ctx, "lab", true, "operator"))
	_, err := f.svc.ClientCredentials(f.ctx, security.AssertionType, c.assertion(t, f, nil), "system/*.rs")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a disabled client gets no token")

	clients, err := f.svc.Clients(f.ctx)
	require.NoError(t, err)
	require.Len(t, clients, 1)
	assert.True(t, clients[0].Disabled)
	assert.Contains(t, f.events.types(), security.EventClientDisabled)
	assert.ErrorIs(t, f.svc.SetClientDisabled(f.ctx, "nobody", true, "operator"), security.ErrNotFound)
}

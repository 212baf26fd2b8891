package security_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// knownPatients exists for p1, p2 and p9 only.
var knownPatients = security.PatientDirectoryFunc(func(_ context.Context, id string) (bool, error) {
	return id == "p1" || id == "p2" || id == "p9", nil
})

// appToken runs the code flow for username on client clientID, whose
// ceiling is ceiling, and returns the validated principal of the token.
func (f *fixture) appToken(t *testing.T, username, clientID, ceiling, scope string) *security.Principal {
	t.Helper()
	p, err := f.svc.ValidateToken(f.ctx, f.appAccessToken(t, username, clientID, ceiling, scope))
	require.NoError(t, err)
	return p
}

// appAccessToken is appToken that returns the signed access token.
func (f *fixture) appAccessToken(t *testing.T, username, clientID, ceiling, scope string) string {
	t.Helper()
	redirect := "https://app.example/cb"
	err := f.svc.AddClient(f.ctx, security.Client{ID: clientID, Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: ceiling})
	if err != nil {
		require.ErrorIs(t, err, security.ErrConflict)
	}
	_, err = f.svc.AddUser(f.ctx, security.AddUserParams{Username: username, Password: "a long enough password",
		Roles: []security.Role{security.RoleNurse}, Location: "ward-3"})
	if err != nil {
		require.ErrorIs(t, err, security.ErrConflict)
	}
	verifier := strings.Repeat("w", 50)
	sum := sha256.Sum256([]byte(verifier))
	code, err := f.svc.Authorize(f.ctx, security.AuthorizeParams{ClientID: clientID, RedirectURI: redirect,
		Scope: scope, State: "s", Audience: issuer + "/fhir", CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]),
		CodeChallengeMethod: "S256", Username: username, Password: "a long enough password"})
	require.NoError(t, err)
	tok, err := f.svc.ExchangeCode(f.ctx, code, clientID, redirect, verifier)
	require.NoError(t, err)
	return tok.AccessToken
}

func TestBreakGlass(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	nurse := user("user/*.rs", security.RoleNurse)
	nurse.Launch = []string{security.ScopeBreakGlass}
	read := security.Request{Type: "Observation", Interaction: security.Read}

	_, err := f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9"})
	assert.ErrorIs(t, err, security.ErrInvalid, "a reason is required")
	_, err = f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9", Reason: "   urgent  "})
	assert.ErrorIs(t, err, security.ErrInvalid, "a short reason is rejected")
	_, err = f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9",
		Reason: "cardiac arrest in corridor", Lifetime: 24 * time.Hour})
	assert.ErrorIs(t, err, security.ErrInvalid, "a lifetime above the maximum is rejected")
	_, err = f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9",
		Reason: "cardiac arrest in corridor", Lifetime: -time.Minute})
	assert.ErrorIs(t, err, security.ErrInvalid, "a negative lifetime is rejected")
	clerk := user("user/*.rs", security.RoleClerk)
	clerk.Launch = []string{security.ScopeBreakGlass}
	_, err = f.svc.BreakGlass(f.ctx, clerk, security.BreakGlassParams{Patient: "p9", Reason: "cardiac arrest in corridor"})
	assert.ErrorIs(t, err, security.ErrForbidden, "only care roles break the glass")

	d, err := f.svc.Decide(f.ctx, nurse, read)
	require.NoError(t, err)
	assert.NotContains(t, d.Patients, "p9")

	g, err := f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9",
		Reason: "cardiac arrest in corridor", Lifetime: 30 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, start.Add(30*time.Minute), g.ExpiresAt)
	assert.Equal(t, "app", g.ClientID, "the grant names the client it was made through")

	d, err = f.svc.Decide(f.ctx, nurse, read)
	require.NoError(t, err)
	assert.Equal(t, []string{"p1", "p2", "p9"}, d.Patients)
	require.Len(t, d.BreakGlass, 1, "the grant used is returned for the audit log")
	assert.Equal(t, g.ID, d.BreakGlass[0].ID)

	f.clock.Advance(31 * time.Minute)
	d, err = f.svc.Decide(f.ctx, nurse, read)
	require.NoError(t, err)
	assert.NotContains(t, d.Patients, "p9", "the grant has expired")
	assert.Empty(t, d.BreakGlass)

	types := f.events.types()
	assert.Contains(t, types, security.EventBreakGlass)
	assert.Contains(t, types, security.EventBreakGlassNo, "refused attempts are recorded too")
}

func TestBreakGlassNeedsScope(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	nurse := user("user/*.rs", security.RoleNurse)
	_, err := f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9", Reason: "cardiac arrest in corridor"})
	assert.ErrorIs(t, err, security.ErrForbidden)
	assert.Equal(t, []security.EventType{security.EventBreakGlassNo}, f.events.types(), "the refusal is recorded")
}

func TestBreakGlassScopeNeedsRegistration(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	narrow := f.appToken(t, "nurse1", "steps", "user/Observation.rs", "user/Observation.rs "+security.ScopeBreakGlass)
	assert.False(t, narrow.HasScope(security.ScopeBreakGlass), "a client not registered for the scope does not get it")
	_, err := f.svc.BreakGlass(f.ctx, narrow, security.BreakGlassParams{Patient: "p9", Reason: "cardiac arrest in corridor"})
	assert.ErrorIs(t, err, security.ErrForbidden)

	chart := f.appToken(t, "nurse1", "chart", "user/*.rs "+security.ScopeBreakGlass, "user/*.rs "+security.ScopeBreakGlass)
	assert.True(t, chart.HasScope(security.ScopeBreakGlass))
	_, err = f.svc.BreakGlass(f.ctx, chart, security.BreakGlassParams{Patient: "p9", Reason: "cardiac arrest in corridor"})
	assert.NoError(t, err)
}

func TestBreakGlassGrantStaysWithClient(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	emergency := f.appToken(t, "nurse1", "emergency", "user/*.rs "+security.ScopeBreakGlass,
		"user/*.rs "+security.ScopeBreakGlass)
	_, err := f.svc.BreakGlass(f.ctx, emergency, security.BreakGlassParams{Patient: "p9", Reason: "cardiac arrest in corridor"})
	require.NoError(t, err)
	read := security.Request{Type: "Patient", Interaction: security.Read}

	d, err := f.svc.Decide(f.ctx, emergency, read)
	require.NoError(t, err)
	assert.Contains(t, d.Patients, "p9", "the client that broke the glass uses the grant")

	again := f.appToken(t, "nurse1", "emergency", "user/*.rs "+security.ScopeBreakGlass, "user/*.rs")
	d, err = f.svc.Decide(f.ctx, again, read)
	require.NoError(t, err)
	assert.Contains(t, d.Patients, "p9", "a later token of the same client uses the grant")

	other := f.appToken(t, "nurse1", "chart", "user/*.rs", "user/*.rs")
	d, err = f.svc.Decide(f.ctx, other, read)
	require.NoError(t, err)
	assert.NotContains(t, d.Patients, "p9", "the user's other apps do not use the grant")
	assert.Empty(t, d.BreakGlass)
}

func TestBreakGlassReasonCountsLettersAndDigits(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations})
	nurse := user("user/*.rs", security.RoleNurse)
	nurse.Launch = []string{security.ScopeBreakGlass}
	rejected := []string{
		strings.Repeat("\u200b", 10),
		strings.Repeat("\u200b", 5) + "abcd" + strings.Repeat("\u2060", 20),
		"!!!!!!!!!!!!!!!!!!",
		"a b c d e f g h i",
	}
	for _, reason := range rejected {
		_, err := f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9", Reason: reason})
		assert.ErrorIs(t, err, security.ErrInvalid, "reason %q", reason)
	}
	for _, reason := range []string{"a b c d e f g h i j", "Bett 12 Sturz", "心停止患者の救急対応中"} {
		_, err := f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9", Reason: reason})
		assert.NoError(t, err, "reason %q", reason)
	}
}

func TestBreakGlassUnknownPatient(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations, Patients: knownPatients})
	nurse := user("user/*.rs", security.RoleNurse)
	nurse.Launch = []string{security.ScopeBreakGlass}
	_, err := f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p404", Reason: "cardiac arrest in corridor"})
	assert.ErrorIs(t, err, security.ErrInvalid)
	assert.NotContains(t, err.Error(), "p404", "errors carry no patient id")
	_, err = f.svc.BreakGlass(f.ctx, nurse, security.BreakGlassParams{Patient: "p9", Reason: "cardiac arrest in corridor"})
	assert.NoError(t, err)
}

// Package securitytest is the conformance suite of security.Store: every
// backend runs the same cases and must give the same results, the
// concurrent jti replay case included. Outside backends can run it too:
//
//	func TestConformance(t *testing.T) {
//		securitytest.Run(t, func(t *testing.T) security.Store { return newMyStore(t) })
//	}
package securitytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// NewStore opens an empty, migrated store for one test.
type NewStore func(t *testing.T) security.Store

// Start is the suite's clock reading: 1 March 2025, 08:00 UTC.
var Start = time.Date(2025, time.March, 1, 8, 0, 0, 0, time.UTC)

// Run runs every area of the suite.
func Run(t *testing.T, newStore NewStore) {
	t.Run("users", func(t *testing.T) { testUsers(t, newStore(t)) })
	t.Run("clients", func(t *testing.T) { testClients(t, newStore(t)) })
	t.Run("disable and list users", func(t *testing.T) { testUserAccounts(t, newStore(t)) })
	t.Run("disable and list clients", func(t *testing.T) { testClientAccounts(t, newStore(t)) })
	t.Run("signing keys", func(t *testing.T) { testSigningKeys(t, newStore(t)) })
	t.Run("jti replay", func(t *testing.T) { testJTI(t, newStore(t)) })
	t.Run("jti concurrent replay", func(t *testing.T) { testJTIConcurrent(t, newStore(t)) })
	t.Run("totp steps", func(t *testing.T) { testTOTPSteps(t, newStore(t)) })
	t.Run("totp concurrent step", func(t *testing.T) { testTOTPConcurrent(t, newStore(t)) })
	t.Run("auth codes", func(t *testing.T) { testAuthCodes(t, newStore(t)) })
	t.Run("break-the-glass grants", func(t *testing.T) { testGrants(t, newStore(t)) })
}

func testUsers(t *testing.T, s security.Store) {
	ctx := context.Background()
	u := security.User{Username: "nurse.ward3", PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
		Roles: []security.Role{security.RoleNurse, security.RoleClerk}, TOTPSecret: "JBSWY3DPEHPK3PXP",
		FHIRUser: "Practitioner/p1", Location: "ward-3", CreatedAt: Start}
	require.NoError(t, s.CreateUser(ctx, u))

	got, err := s.User(ctx, "nurse.ward3")
	require.NoError(t, err)
	assert.Equal(t, u, got)

	err = s.CreateUser(ctx, u)
	assert.ErrorIs(t, err, security.ErrConflict, "a taken username")

	_, err = s.User(ctx, "nobody")
	assert.ErrorIs(t, err, security.ErrNotFound)
	_, err = s.User(ctx, "NURSE.WARD3")
	assert.ErrorIs(t, err, security.ErrNotFound, "usernames compare exactly")
}

func testClients(t *testing.T, s security.Store) {
	ctx := context.Background()
	sys := security.Client{ID: "lab-analyser", Kind: security.ClientSystem, Name: "Lab analyser",
		JWKS: `{"keys":[]}`, Scopes: "system/Observation.cru", Roles: []security.Role{security.RoleLabSystem},
		CreatedAt: Start}
	app := security.Client{ID: "chart-app", Kind: security.ClientApp, Name: "Chart",
		RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:9/cb"}, Scopes: "user/*.rs",
		CreatedAt: Start}
	require.NoError(t, s.CreateClient(ctx, sys))
	require.NoError(t, s.CreateClient(ctx, app))

	got, err := s.Client(ctx, "lab-analyser")
	require.NoError(t, err)
	assert.Equal(t, sys, got)
	got, err = s.Client(ctx, "chart-app")
	require.NoError(t, err)
	assert.Equal(t, app, got)

	assert.ErrorIs(t, s.CreateClient(ctx, sys), security.ErrConflict)
	_, err = s.Client(ctx, "missing")
	assert.ErrorIs(t, err, security.ErrNotFound)
	bad := sys
	bad.ID, bad.Kind = "odd", "robot"
	assert.ErrorIs(t, s.CreateClient(ctx, bad), security.ErrInvalid, "an unknown kind breaks the CHECK")
}

func testSigningKeys(t *testing.T, s security.Store) {
	ctx := context.Background()
	keys, err := s.SigningKeys(ctx, Start)
	require.NoError(t, err)
	assert.Empty(t, keys)

	first := security.SigningKey{ID: "k1", Algorithm: "ES256", PrivateKey: "pem-1", CreatedAt: Start}
	second := security.SigningKey{ID: "k2", Algorithm: "ES256", PrivateKey: "pem-2", CreatedAt: Start.Add(time.Hour)}
	require.NoError(t, s.RotateSigningKey(ctx, first))
	require.NoError(t, s.RotateSigningKey(ctx, second))

	keys, err = s.SigningKeys(ctx, Start.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, "k2", keys[0].ID, "newest first")
	assert.True(t, keys[0].RetiredAt.IsZero(), "the new key is active")
	assert.Equal(t, Start.Add(time.Hour), keys[1].RetiredAt, "the old key retires when the new one is created")
	assert.Equal(t, "pem-1", keys[1].PrivateKey)

	keys, err = s.SigningKeys(ctx, Start.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, keys, 1, "keys retired before since are left out")
	assert.Equal(t, "k2", keys[0].ID)

	assert.ErrorIs(t, s.RotateSigningKey(ctx, second), security.ErrConflict, "a key id is used once")
	keys, err = s.SigningKeys(ctx, Start.Add(2*time.Hour))
	require.NoError(t, err)
	require.Len(t, keys, 1, "a failed rotation retires nothing")
	assert.True(t, keys[0].RetiredAt.IsZero())
}

func testJTI(t *testing.T, s security.Store) {
	ctx := context.Background()
	exp := Start.Add(5 * time.Minute)
	require.NoError(t, s.UseJTI(ctx, "client-a", "jti-1", exp, Start))
	err := s.UseJTI(ctx, "client-a", "jti-1", exp, Start.Add(time.Minute))
	assert.ErrorIs(t, err, security.ErrReplay)
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a replay is an authentication failure")
	assert.NoError(t, s.UseJTI(ctx, "client-b", "jti-1", exp, Start), "jti values are per issuer")

	// After expiry the row is swept, and the assertion itself is rejected
	// for its exp by the caller.
	assert.NoError(t, s.UseJTI(ctx, "client-a", "jti-1", Start.Add(time.Hour), exp.Add(time.Second)))
}

func testJTIConcurrent(t *testing.T, s security.Store) {
	ctx := context.Background()
	const attempts = 20
	accepted, replays := countReplays(t, attempts, func() error {
		return s.UseJTI(ctx, "client-a", "shared-jti", Start.Add(5*time.Minute), Start)
	})
	assert.Equal(t, 1, accepted, "exactly one use of a jti is accepted")
	assert.Equal(t, attempts-1, replays)
}

// countReplays runs use attempts times at once. It returns how many calls
// succeeded and how many failed with security.ErrReplay, and fails t on
// any other error.
func countReplays(t *testing.T, attempts int, use func() error) (accepted, replays int) {
	var wg sync.WaitGroup
	errs := make([]error, attempts)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = use()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, security.ErrReplay):
			replays++
		default:
			t.Errorf("attempt %d: unexpected error: %v", i, err)
		}
	}
	return accepted, replays
}

func testAuthCodes(t *testing.T, s security.Store) {
	ctx := context.Background()
	code := security.AuthCode{CodeHash: "h1", ClientID: "chart-app", RedirectURI: "https://app.example/cb",
		Scope: "user/*.rs openid", Username: "dr.smith", Challenge: "challenge", Patient: "p1",
		ExpiresAt: Start.Add(time.Minute)}
	require.NoError(t, s.SaveAuthCode(ctx, code))
	got, err := s.TakeAuthCode(ctx, "h1", Start)
	require.NoError(t, err)
	assert.Equal(t, code, got)
	_, err = s.TakeAuthCode(ctx, "h1", Start)
	assert.ErrorIs(t, err, security.ErrNotFound, "a code works once")

	late := code
	late.CodeHash = "h2"
	require.NoError(t, s.SaveAuthCode(ctx, late))
	_, err = s.TakeAuthCode(ctx, "h2", Start.Add(2*time.Minute))
	assert.ErrorIs(t, err, security.ErrNotFound, "an expired code")
	_, err = s.TakeAuthCode(ctx, "h2", Start)
	assert.ErrorIs(t, err, security.ErrNotFound, "an expired code is deleted by the attempt")

	shared := code
	shared.CodeHash = "h3"
	require.NoError(t, s.SaveAuthCode(ctx, shared))
	var wg sync.WaitGroup
	results := make([]error, 10)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = s.TakeAuthCode(ctx, "h3", Start)
		}()
	}
	wg.Wait()
	taken := 0
	for _, err := range results {
		if err == nil {
			taken++
		} else {
			assert.ErrorIs(t, err, security.ErrNotFound)
		}
	}
	assert.Equal(t, 1, taken, "concurrent exchanges take a code once")
}

func testGrants(t *testing.T, s security.Store) {
	ctx := context.Background()
	for i, lifetime := range []time.Duration{time.Hour, 2 * time.Hour, time.Minute} {
		g := security.Grant{ID: fmt.Sprintf("g%d", i), Subject: "dr.smith", ClientID: "chart", Patient: fmt.Sprintf("p%d", i),
			Reason: "unconscious patient in the emergency room", CreatedAt: Start.Add(time.Duration(i) * time.Second),
			ExpiresAt: Start.Add(lifetime)}
		require.NoError(t, s.SaveGrant(ctx, g))
	}
	other := security.Grant{ID: "g-other", Subject: "dr.jones", Patient: "p9", Reason: "consultation request",
		CreatedAt: Start, ExpiresAt: Start.Add(time.Hour)}
	require.NoError(t, s.SaveGrant(ctx, other))
	assert.ErrorIs(t, s.SaveGrant(ctx, other), security.ErrConflict)

	active, err := s.ActiveGrants(ctx, "dr.smith", Start.Add(30*time.Minute))
	require.NoError(t, err)
	require.Len(t, active, 2, "the one-minute grant has expired")
	assert.Equal(t, "g0", active[0].ID, "oldest first")
	assert.Equal(t, "g1", active[1].ID)
	assert.Equal(t, "unconscious patient in the emergency room", active[0].Reason)
	assert.Equal(t, "chart", active[0].ClientID, "the client the grant was made through")

	active, err = s.ActiveGrants(ctx, "dr.smith", Start.Add(3*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, active)
}

func testTOTPSteps(t *testing.T, s security.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateUser(ctx, security.User{Username: "dr.smith", PasswordHash: "h",
		Roles: []security.Role{security.RolePhysician}, TOTPSecret: "JBSWY3DPEHPK3PXP", CreatedAt: Start}))
	require.NoError(t, s.UseTOTPStep(ctx, "dr.smith", 1000))

	err := s.UseTOTPStep(ctx, "dr.smith", 1000)
	assert.ErrorIs(t, err, security.ErrReplay, "the same step")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a reused code is an authentication failure")
	assert.ErrorIs(t, s.UseTOTPStep(ctx, "dr.smith", 999), security.ErrReplay, "an earlier step")
	assert.NoError(t, s.UseTOTPStep(ctx, "dr.smith", 1001), "a later step")
	assert.ErrorIs(t, s.UseTOTPStep(ctx, "dr.smith", 1000), security.ErrReplay, "a step before the last one")
	assert.ErrorIs(t, s.UseTOTPStep(ctx, "nobody", 5), security.ErrNotFound)
}

func testTOTPConcurrent(t *testing.T, s security.Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateUser(ctx, security.User{Username: "dr.smith", PasswordHash: "h",
		Roles: []security.Role{security.RolePhysician}, TOTPSecret: "JBSWY3DPEHPK3PXP", CreatedAt: Start}))
	const attempts = 20
	accepted, replays := countReplays(t, attempts, func() error {
		return s.UseTOTPStep(ctx, "dr.smith", 2000)
	})
	assert.Equal(t, 1, accepted, "exactly one sign-in with one code is accepted")
	assert.Equal(t, attempts-1, replays)
}

func testUserAccounts(t *testing.T, s security.Store) {
	ctx := context.Background()
	users, err := s.Users(ctx)
	require.NoError(t, err)
	assert.Empty(t, users)

	for _, u := range []security.User{
		{Username: "zoe", PasswordHash: "h", Roles: []security.Role{security.RoleClerk}, CreatedAt: Start},
		{Username: "amir", PasswordHash: "h", Roles: []security.Role{security.RoleNurse, security.RoleClerk},
			TOTPSecret: "JBSWY3DPEHPK3PXP", FHIRUser: "Practitioner/p1", Location: "ward-3", CreatedAt: Start},
	} {
		require.NoError(t, s.CreateUser(ctx, u))
	}
	require.NoError(t, s.SetUserDisabled(ctx, "zoe", true))
	got, err := s.User(ctx, "zoe")
	require.NoError(t, err)
	assert.True(t, got.Disabled)

	users, err = s.Users(ctx)
	require.NoError(t, err)
	assert.Equal(t, []security.UserInfo{
		{Username: "amir", Roles: []security.Role{security.RoleNurse, security.RoleClerk}, FHIRUser: "Practitioner/p1",
			Location: "ward-3", TOTP: true, CreatedAt: Start},
		{Username: "zoe", Roles: []security.Role{security.RoleClerk}, Disabled: true, CreatedAt: Start},
	}, users, "ordered by username, without credentials")

	require.NoError(t, s.SetUserDisabled(ctx, "zoe", false))
	got, err = s.User(ctx, "zoe")
	require.NoError(t, err)
	assert.False(t, got.Disabled, "enabled again")
	assert.ErrorIs(t, s.SetUserDisabled(ctx, "nobody", true), security.ErrNotFound)
}

func testClientAccounts(t *testing.T, s security.Store) {
	ctx := context.Background()
	clients, err := s.Clients(ctx)
	require.NoError(t, err)
	assert.Empty(t, clients)

	lab := security.Client{ID: "lab", Kind: security.ClientSystem, JWKS: `{"keys":[]}`, Scopes: "system/Observation.crus",
		Roles: []security.Role{security.RoleLabSystem}, CreatedAt: Start}
	chart := security.Client{ID: "chart", Kind: security.ClientApp, Name: "Chart", RedirectURIs: []string{"https://app.example/cb"},
		Scopes: "user/*.rs", CreatedAt: Start}
	require.NoError(t, s.CreateClient(ctx, lab))
	require.NoError(t, s.CreateClient(ctx, chart))
	require.NoError(t, s.SetClientDisabled(ctx, "lab", true))

	clients, err = s.Clients(ctx)
	require.NoError(t, err)
	lab.Disabled = true
	assert.Equal(t, []security.Client{chart, lab}, clients, "ordered by id")

	require.NoError(t, s.SetClientDisabled(ctx, "lab", false))
	got, err := s.Client(ctx, "lab")
	require.NoError(t, err)
	assert.False(t, got.Disabled, "enabled again")
	assert.ErrorIs(t, s.SetClientDisabled(ctx, "nobody", true), security.ErrNotFound)
}

package security_test

import (
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

// addTOTPUser adds a physician with TOTP and returns the TOTP secret.
func (f *fixture) addTOTPUser(t *testing.T, username string) string {
	t.Helper()
	totpURL, err := f.svc.AddUser(f.ctx, security.AddUserParams{Username: username, Password: "a long enough password",
		Roles: []security.Role{security.RolePhysician}, TOTP: true})
	require.NoError(t, err)
	u, err := url.Parse(totpURL)
	require.NoError(t, err)
	return u.Query().Get("secret")
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	f := newFixture(t, security.Config{})
	secret := f.addTOTPUser(t, "dr.smith")
	code, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)

	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
	require.NoError(t, err)
	f.clock.Advance(10 * time.Second)
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "the same code within its step")

	f.clock.Advance(30 * time.Second)
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "the same code inside the skew window")

	next, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", next, "")
	assert.NoError(t, err, "the code of the next step")
}

func TestTOTPEarlierStepRejected(t *testing.T) {
	f := newFixture(t, security.Config{})
	secret := f.addTOTPUser(t, "dr.smith")
	ahead, err := security.TOTPCode(secret, f.clock.Now().Add(30*time.Second))
	require.NoError(t, err)
	current, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)

	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", ahead, "")
	require.NoError(t, err, "the next step is inside the skew window")
	_, err = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", current, "")
	assert.ErrorIs(t, err, security.ErrUnauthenticated, "a step before the last accepted one")
}

func TestTOTPConcurrentSignIns(t *testing.T) {
	f := newFixture(t, security.Config{})
	secret := f.addTOTPUser(t, "dr.smith")
	code, err := security.TOTPCode(secret, f.clock.Now())
	require.NoError(t, err)
	const attempts = 8
	var wg sync.WaitGroup
	errs := make([]error, attempts)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.svc.Authenticate(f.ctx, "dr.smith", "a long enough password", code, "")
		}()
	}
	wg.Wait()
	accepted := 0
	for _, err := range errs {
		if err == nil {
			accepted++
		} else {
			assert.ErrorIs(t, err, security.ErrUnauthenticated)
		}
	}
	assert.Equal(t, 1, accepted, "one of the sign-ins sharing a code succeeds")
}

package security_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	hash, err := security.HashPassword("correct horse battery", fastPasswords)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$"), hash)

	ok, err := security.VerifyPassword("correct horse battery", hash)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = security.VerifyPassword("correct horse batterY", hash)
	require.NoError(t, err)
	assert.False(t, ok)

	other, err := security.HashPassword("correct horse battery", fastPasswords)
	require.NoError(t, err)
	assert.NotEqual(t, hash, other, "every hash has its own salt")
}

func TestPasswordRejectsShortAndLong(t *testing.T) {
	_, err := security.HashPassword("short", fastPasswords)
	assert.ErrorIs(t, err, security.ErrInvalid)
	_, err = security.HashPassword(strings.Repeat("x", 2000), fastPasswords)
	assert.ErrorIs(t, err, security.ErrInvalid)
}

func TestVerifyPasswordMalformedHash(t *testing.T) {
	for _, hash := range []string{"", "plain", "$2a$10$bcrypthash", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$aGFzaA"} {
		ok, err := security.VerifyPassword("whatever password", hash)
		assert.False(t, ok, hash)
		assert.ErrorIs(t, err, security.ErrInvalid, hash)
	}
}

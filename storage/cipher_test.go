package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage"
)

func TestSealedHeaderRoundTrip(t *testing.T) {
	for _, version := range []uint32{1, 2, 70000, 1<<32 - 1} {
		header := storage.SealedHeader(version)
		require.Len(t, header, storage.SealedHeaderLen)
		got, sealed, err := storage.ParseSealed(append(header, "ciphertext"...))
		require.NoError(t, err)
		assert.True(t, sealed)
		assert.Equal(t, version, got)
	}
}

func TestParseSealedPlaintext(t *testing.T) {
	cases := []struct {
		name  string
		value []byte
	}{
		{name: "json", value: []byte(`{"resourceType":"Patient"}`)},
		{name: "empty", value: nil},
		{name: "nul only", value: []byte{0}},
		{name: "other magic", value: []byte("\x00NY\x01\x00\x00\x00\x01")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			version, sealed, err := storage.ParseSealed(tc.value)
			require.NoError(t, err)
			assert.False(t, sealed)
			assert.Zero(t, version)
		})
	}
}

func TestParseSealedBadHeader(t *testing.T) {
	truncated := storage.SealedHeader(3)[:5]
	_, sealed, err := storage.ParseSealed(truncated)
	assert.True(t, sealed)
	assert.ErrorIs(t, err, storage.ErrSealedFormat)

	future := storage.SealedHeader(3)
	future[3] = storage.SealedFormat + 1
	_, sealed, err = storage.ParseSealed(future)
	assert.True(t, sealed)
	assert.ErrorIs(t, err, storage.ErrSealedFormat)
}

package keyring_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// bodySize is about the size of a Synthea Observation or Encounter body.
const bodySize = 4 << 10

func BenchmarkSeal(b *testing.B) {
	ring := openRing(b, migrated(b, storagetest.SQLite(b)), newMasterKey(b))
	body := make([]byte, bodySize)
	aad := []byte("emr.resource_versions|Observation|1|1")
	b.SetBytes(bodySize)
	for b.Loop() {
		if _, err := ring.Seal(body, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	ring := openRing(b, migrated(b, storagetest.SQLite(b)), newMasterKey(b))
	aad := []byte("emr.resource_versions|Observation|1|1")
	sealed, err := ring.Seal(make([]byte, bodySize), aad)
	require.NoError(b, err)
	b.SetBytes(bodySize)
	for b.Loop() {
		if _, err := ring.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	ring := openRing(b, migrated(b, storagetest.SQLite(b)), newMasterKey(b))
	for b.Loop() {
		ring.Hash("emr.identifier", "MRN-0012345678")
	}
}

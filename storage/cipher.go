package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// Cipher seals and opens sensitive column values, such as resource bodies,
// with authenticated encryption. The associated data binds a ciphertext to
// the row it belongs to: Open fails when the aad differs from the one given
// to Seal, so a ciphertext copied into another row does not open there.
//
// Implementations write the sealed header below in front of every
// ciphertext, so a store can tell sealed values from plaintext and find the
// key version without the key. security/keyring is the implementation
// nexusd uses. Implementations are safe for concurrent use.
type Cipher interface {
	// Seal encrypts plaintext under the active key version.
	Seal(plaintext, aad []byte) ([]byte, error)
	// Open decrypts a value sealed under any key version that is not
	// retired. It fails when the value or aad was changed.
	Open(ciphertext, aad []byte) ([]byte, error)
	// ActiveKeyVersion is the key version Seal uses now.
	ActiveKeyVersion() uint32
}

// Hasher computes keyed hashes of values that a store must match exactly
// but need not read back, such as identifier values in a search index.
// Equal inputs give equal outputs, so equality lookups still work, while a
// reader of the database without the key cannot test guesses. Domain
// separates uses: the same value hashed under two domains gives unrelated
// results. Implementations are safe for concurrent use.
type Hasher interface {
	Hash(domain, value string) string
}

// Sealed header layout: a 3-byte magic starting with a NUL byte (no JSON
// text or UTF-8 text a store keeps starts with NUL), a format byte and the
// key version as a big-endian uint32.
const (
	sealedMagic = "\x00NX"
	// SealedFormat is the only ciphertext format version so far: AES-256-GCM
	// with a 12-byte nonce after the header and the 16-byte tag at the end.
	SealedFormat = 1
	// SealedHeaderLen is the length of the header in front of every sealed
	// value.
	SealedHeaderLen = len(sealedMagic) + 1 + 4
)

// ErrSealedFormat reports a value that starts like a sealed value but has a
// header this build cannot read.
var ErrSealedFormat = errors.New("storage: unsupported sealed value format")

// ErrNoCipher reports a sealed value read through a database that has no
// Cipher, such as one opened without the master key. Stores return it
// instead of the ciphertext, so that a missing key fails closed.
var ErrNoCipher = errors.New("storage: value is encrypted and no cipher is configured: give the master key")

// SealedHeader returns the header for a value sealed under keyVersion in
// format SealedFormat.
func SealedHeader(keyVersion uint32) []byte {
	h := make([]byte, SealedHeaderLen)
	copy(h, sealedMagic)
	h[len(sealedMagic)] = SealedFormat
	binary.BigEndian.PutUint32(h[len(sealedMagic)+1:], keyVersion)
	return h
}

// ParseSealed reads the header of value. It returns sealed false for a
// value without the magic, which is plaintext, and ErrSealedFormat for a
// value with the magic but an unknown format or a truncated header.
func ParseSealed(value []byte) (keyVersion uint32, sealed bool, err error) {
	if len(value) < len(sealedMagic) || string(value[:len(sealedMagic)]) != sealedMagic {
		return 0, false, nil
	}
	if len(value) < SealedHeaderLen {
		return 0, true, fmt.Errorf("%w: header of %d bytes is truncated", ErrSealedFormat, len(value))
	}
	if f := value[len(sealedMagic)]; f != SealedFormat {
		return 0, true, fmt.Errorf("%w: format %d", ErrSealedFormat, f)
	}
	return binary.BigEndian.Uint32(value[len(sealedMagic)+1 : SealedHeaderLen]), true, nil
}

// RewrapParams selects one batch of a background rewrap.
type RewrapParams struct {
	// After is the cursor returned by the previous batch, 0 at the start.
	After int64
	// Limit is the maximum number of rows examined in this batch.
	Limit int
}

// RewrapResult reports one batch of a rewrap.
type RewrapResult struct {
	// Next is the cursor of the next batch; Done is set when no row is
	// left after it.
	Next int64
	Done bool
	// Examined counts the rows read, Rewrapped those sealed again under
	// the active key version.
	Examined  int
	Rewrapped int
}

// Rewrapper is implemented by stores that keep values sealed by a Cipher.
// A key ring calls it to move rows from older key versions to the active
// one, and to check that no row still needs a version before it retires
// that version. The content of a rewrapped row does not change.
type Rewrapper interface {
	// Component names the store in logs and progress records, such as
	// "emr".
	Component() string
	// RewrapBatch seals again, under the active key version, the rows
	// after p.After whose values are plaintext or sealed under another
	// version. Batches are short transactions and the cursor lets a job
	// resume after a restart.
	RewrapBatch(ctx context.Context, p RewrapParams) (RewrapResult, error)
	// KeyVersionUsage counts rows by the key version their values are
	// sealed under; version 0 counts plaintext rows.
	KeyVersionUsage(ctx context.Context) (map[uint32]int64, error)
}

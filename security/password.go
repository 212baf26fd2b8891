package security

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are the argon2id cost parameters of new hashes.
type PasswordParams struct {
	// MemoryKiB is the memory cost in KiB.
	MemoryKiB uint32
	// Iterations is the time cost.
	Iterations uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultPasswordParams are the argon2id parameters that the OWASP
// Password Storage Cheat Sheet lists first: 19 MiB, 2 iterations, 1
// thread.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Iterations: 2, Threads: 1}

const (
	saltBytes = 16
	hashBytes = 32
	// MinPasswordLength is the shortest password HashPassword accepts.
	MinPasswordLength = 12
	// maxPasswordLength bounds the work one sign-in can cause.
	maxPasswordLength = 1024
)

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password in PHC string form,
// "$argon2id$v=19$m=...,t=...,p=...$salt$hash". Passwords shorter than
// MinPasswordLength or longer than 1024 bytes are rejected.
func HashPassword(password string, p PasswordParams) (string, error) {
	if len(password) < MinPasswordLength {
		return "", fmt.Errorf("hash password: shorter than %d characters: %w", MinPasswordLength, ErrInvalid)
	}
	if len(password) > maxPasswordLength {
		return "", fmt.Errorf("hash password: longer than %d bytes: %w", maxPasswordLength, ErrInvalid)
	}
	if p.MemoryKiB == 0 || p.Iterations == 0 || p.Threads == 0 {
		return "", fmt.Errorf("hash password: argon2id parameters must be positive: %w", ErrInvalid)
	}
	salt := make([]byte, saltBytes)
	_, _ = rand.Read(salt) // crypto/rand.Read never returns an error
	sum := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Threads, hashBytes)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.MemoryKiB, p.Iterations, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// VerifyPassword reports whether password matches an argon2id hash from
// HashPassword, comparing in constant time. A malformed hash is an error
// wrapping ErrInvalid.
func VerifyPassword(password, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, fmt.Errorf("verify password: stored hash is not argon2id: %w", ErrInvalid)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("verify password: unsupported argon2 version: %w", ErrInvalid)
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Threads); err != nil ||
		p.MemoryKiB == 0 || p.Iterations == 0 || p.Threads == 0 || p.MemoryKiB > 1<<22 || p.Iterations > 64 {
		return false, fmt.Errorf("verify password: invalid argon2id parameters: %w", ErrInvalid)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify password: invalid salt: %w", ErrInvalid)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("verify password: invalid hash: %w", ErrInvalid)
	}
	if len(password) > maxPasswordLength {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

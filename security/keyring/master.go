package keyring

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// MasterKeySize is the length of a master key in bytes (AES-256).
const MasterKeySize = 32

// EnvMasterKey names the environment variable that nexusd reads a
// base64-encoded master key from.
const EnvMasterKey = "NEXUS_MASTER_KEY"

// ParseMasterKey decodes a master key written as standard or URL-safe
// base64, with or without padding, around which white space is ignored.
// The error never contains the text, because it may be a real key.
func ParseMasterKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, fmt.Errorf("parse master key: empty: %w", ErrInvalid)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key, err := enc.DecodeString(text)
		if err != nil {
			continue
		}
		if len(key) != MasterKeySize {
			return nil, fmt.Errorf("parse master key: decodes to %d bytes, want %d: %w", len(key), MasterKeySize, ErrInvalid)
		}
		return key, nil
	}
	return nil, fmt.Errorf("parse master key: not base64: %w", ErrInvalid)
}

// ReadMasterKeyFile reads a master key file holding the base64 text of 32
// bytes. It rejects a file that other users may read, because the master
// key unlocks every sealed value in the database.
func ReadMasterKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("read master key file %s: mode %04o lets other users read it; run chmod 600: %w",
			path, info.Mode().Perm(), ErrInvalid)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read master key file %s: %w", path, err)
	}
	key, err := ParseMasterKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("master key file %s: %w", path, err)
	}
	return key, nil
}

// GenerateMasterKey returns a new random master key as base64 text, the
// form ParseMasterKey reads.
func GenerateMasterKey() (string, error) {
	key := make([]byte, MasterKeySize)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate master key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(key), nil
}

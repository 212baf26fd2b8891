package keyring_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/keyring"
)

func TestParseMasterKeyEncodings(t *testing.T) {
	raw := make([]byte, keyring.MasterKeySize)
	for i := range raw {
		raw[i] = byte(250 + i) // bytes that differ between the two alphabets
	}
	cases := []struct {
		name string
		text string
	}{
		{name: "standard", text: base64.StdEncoding.EncodeToString(raw)},
		{name: "standard unpadded", text: base64.RawStdEncoding.EncodeToString(raw)},
		{name: "url", text: base64.URLEncoding.EncodeToString(raw)},
		{name: "url unpadded", text: base64.RawURLEncoding.EncodeToString(raw)},
		{name: "trailing newline", text: base64.StdEncoding.EncodeToString(raw) + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, err := keyring.ParseMasterKey(tc.text)
			require.NoError(t, err)
			assert.Equal(t, raw, key)
		})
	}
}

func TestParseMasterKeyRejects(t *testing.T) {
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	cases := []struct {
		name string
		text string
	}{
		{name: "empty", text: "  "},
		{name: "short", text: short},
		{name: "not base64", text: "not a key!"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := keyring.ParseMasterKey(tc.text)
			require.ErrorIs(t, err, keyring.ErrInvalid)
			if text := strings.TrimSpace(tc.text); text != "" {
				assert.NotContains(t, err.Error(), text, "error shows no key text")
			}
		})
	}
}

func TestReadMasterKeyFile(t *testing.T) {
	text, err := keyring.GenerateMasterKey()
	require.NoError(t, err)
	dir := t.TempDir()

	private := filepath.Join(dir, "master.key")
	require.NoError(t, os.WriteFile(private, []byte(text+"\n"), 0o600))
	key, err := keyring.ReadMasterKeyFile(private)
	require.NoError(t, err)
	assert.Len(t, key, keyring.MasterKeySize)

	shared := filepath.Join(dir, "shared.key")
	require.NoError(t, os.WriteFile(shared, []byte(text), 0o644))
	_, err = keyring.ReadMasterKeyFile(shared)
	require.ErrorIs(t, err, keyring.ErrInvalid)
	assert.Contains(t, err.Error(), "chmod 600")

	_, err = keyring.ReadMasterKeyFile(filepath.Join(dir, "missing.key"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

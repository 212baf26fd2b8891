package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

// TestCursorKeyFromMasterKey checks that two processes with one master key
// sign paging cursors alike, and that without a master key nexusd leaves
// the key to emr's default.
func TestCursorKeyFromMasterKey(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	require.NoError(t, newApp().Run([]string{"nexusd", "migrate", "--db", dsn}))
	raw := make([]byte, 32)
	_, err := rand.Read(raw)
	require.NoError(t, err)
	keys := dataKeys{text: base64.StdEncoding.EncodeToString(raw)}

	db1, svc1, err := openServiceKeys(ctx, dsn, emr.Config{}, keys)
	require.NoError(t, err)
	defer db1.Close()
	db2, svc2, err := openServiceKeys(ctx, dsn, emr.Config{}, keys)
	require.NoError(t, err)
	defer db2.Close()
	assert.NotEmpty(t, svc1.Config().CursorKey)
	assert.Equal(t, svc1.Config().CursorKey, svc2.Config().CursorKey)

	plainDSN := "sqlite:" + filepath.Join(t.TempDir(), "p.db")
	db3, svc3, err := openServiceKeys(ctx, plainDSN, emr.Config{}, dataKeys{})
	require.NoError(t, err)
	defer db3.Close()
	assert.Empty(t, svc3.Config().CursorKey)
}

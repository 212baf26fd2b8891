package main

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestServeMLLPConnectionsPerIP(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc,
		mllp: mllpOptions{applier: patientApplier{svc: svc}, maxPerIP: 1}})
	client := dialMLLP(t, addr)
	ack, err := client.Send(context.Background(), []byte(admitMessage("CAP1", "MRN-CAP-1")))
	require.NoError(t, err)
	code, _, err := mllp.AckCode(ack)
	require.NoError(t, err)
	require.Equal(t, "AA", code)

	second, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer second.Close()
	require.NoError(t, second.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, err := second.Read(make([]byte, 1))
	assert.Zero(t, n)
	require.Error(t, err)
	var netErr net.Error
	assert.False(t, errors.As(err, &netErr) && netErr.Timeout(), "the second connection from 127.0.0.1 is closed at once")

	_, err = client.Send(context.Background(), []byte(admitMessage("CAP2", "MRN-CAP-2")))
	assert.NoError(t, err, "the first connection keeps working")
}

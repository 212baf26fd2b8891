package mllp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// newTestCertificate returns a self-signed ECDSA P-256 certificate for
// 127.0.0.1, valid for an hour, and a pool that trusts it.
func newTestCertificate(t *testing.T, commonName string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLSExchange(t *testing.T) {
	t.Parallel()
	serverCert, serverPool := newTestCertificate(t, "mllp-server")
	clientCert, clientPool := newTestCertificate(t, "adt-sender")
	tests := []struct {
		name         string
		serverConfig *tls.Config
		clientConfig *tls.Config
		wantPeer     string
	}{
		{
			name:         "server certificate",
			serverConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}},
			clientConfig: &tls.Config{RootCAs: serverPool},
		},
		{
			name: "mutual TLS",
			serverConfig: &tls.Config{
				Certificates: []tls.Certificate{serverCert},
				ClientAuth:   tls.RequireAndVerifyClientCert,
				ClientCAs:    clientPool,
			},
			clientConfig: &tls.Config{RootCAs: serverPool, Certificates: []tls.Certificate{clientCert}},
			wantPeer:     "adt-sender",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			connInfos := make(chan mllp.ConnInfo, 1)
			addr := startServer(t, &mllp.Server{
				TLSConfig: tt.serverConfig,
				Handler: mllp.HandlerFunc(func(_ context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
					connInfos <- conn
					return testACK("AA", controlIDOf(message)), nil
				}),
			})
			client := dialClient(t, addr, mllp.ClientOptions{TLSConfig: tt.clientConfig})

			ack, err := client.Send(context.Background(), testMessage("CTRL0012"))
			require.NoError(t, err)
			_, controlID, err := mllp.AckCode(ack)
			require.NoError(t, err)
			assert.Equal(t, "CTRL0012", controlID)

			info := <-connInfos
			require.NotNil(t, info.TLS)
			assert.True(t, info.TLS.HandshakeComplete)
			if tt.wantPeer == "" {
				assert.Empty(t, info.TLS.PeerCertificates)
				return
			}
			require.Len(t, info.TLS.PeerCertificates, 1)
			assert.Equal(t, tt.wantPeer, info.TLS.PeerCertificates[0].Subject.CommonName)
		})
	}
}

func TestTLSUntrustedCertificate(t *testing.T) {
	t.Parallel()
	serverCert, _ := newTestCertificate(t, "mllp-server")
	_, otherPool := newTestCertificate(t, "someone-else")
	logger, logs := newTestLogger()
	addr := startServer(t, &mllp.Server{
		Handler:   acceptAll,
		Logger:    logger,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}},
	})

	_, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{TLSConfig: &tls.Config{RootCAs: otherPool}})
	assert.ErrorIs(t, err, mllp.ErrTLSHandshake)
	var verification *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &verification)
	var unknownAuthority x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknownAuthority)
	waitFor(t, "the handshake failure log", func() bool {
		return containsAll(logs.String(), "TLS handshake failed", `cause="TLS handshake failed"`)
	})
}

func TestTLSWrongHost(t *testing.T) {
	t.Parallel()
	serverCert, pool := newTestCertificate(t, "mllp-server")
	addr := startServer(t, &mllp.Server{
		Handler:   acceptAll,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}},
	})

	config := &tls.Config{RootCAs: pool, ServerName: "mllp.example"}
	_, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{TLSConfig: config})
	assert.ErrorIs(t, err, mllp.ErrTLSHandshake)
	var hostname x509.HostnameError
	assert.ErrorAs(t, err, &hostname, "the certificate names 127.0.0.1 only")
}

// A plain MLLP receiver waits for a start block and never replies to the
// TLS ClientHello, so the handshake runs into the dial timeout.
func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	_, pool := newTestCertificate(t, "mllp-server")
	ln := listenLoopback(t)
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, conn)
			conn.Close()
		}
	}()

	opts := mllp.ClientOptions{TLSConfig: &tls.Config{RootCAs: pool}, DialTimeout: 200 * time.Millisecond}
	_, err := mllp.Dial(context.Background(), ln.Addr().String(), opts)
	assert.ErrorIs(t, err, mllp.ErrTLSHandshake)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestTLSDialRefusedIsNoHandshake(t *testing.T) {
	t.Parallel()
	_, pool := newTestCertificate(t, "mllp-server")
	ln := listenLoopback(t)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	_, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{TLSConfig: &tls.Config{RootCAs: pool}})
	require.Error(t, err)
	assert.NotErrorIs(t, err, mllp.ErrTLSHandshake)
}

func TestTLSPlainClientRejected(t *testing.T) {
	t.Parallel()
	serverCert, _ := newTestCertificate(t, "mllp-server")
	addr := startServer(t, &mllp.Server{
		Handler:     acceptAll,
		ReadTimeout: time.Second,
		TLSConfig:   &tls.Config{Certificates: []tls.Certificate{serverCert}},
	})
	client := dialClient(t, addr, mllp.ClientOptions{AckTimeout: 2 * time.Second})

	_, err := client.Send(context.Background(), testMessage("CTRL0001"))
	assert.ErrorIs(t, err, mllp.ErrNoAck)
}

func TestServerValidateTLSConfig(t *testing.T) {
	t.Parallel()
	server := &mllp.Server{Handler: acceptAll, TLSConfig: &tls.Config{}}
	assert.ErrorContains(t, server.Validate(), "Server.TLSConfig has no certificate")
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestHL7SendTLS(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	certFile, keyFile, _ := writeCertificate(t)
	otherCA, _, _ := writeCertificate(t)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc, mllp: mllpOptions{tlsCert: certFile, tlsKey: keyFile}})
	file := writeMessageFile(t, "tls.hl7", admitMessage("TLS1", "MRN-TLS-1"))

	out, err := runNexusd(t, "--log-level", "error", "hl7", "send", "--to", addr, "--tls-ca", certFile, file)
	require.NoError(t, err)
	assert.Contains(t, out, "tls.hl7 #1: control id TLS1: AA")

	_, err = runNexusd(t, "--log-level", "error", "hl7", "send", "--to", addr, "--tls-ca", otherCA, file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hl7 send: TLS handshake with "+addr+" failed: the server certificate did not verify")
	assert.Contains(t, err.Error(), "--tls-ca "+otherCA)
	assert.NotContains(t, err.Error(), "firewall")
}

// A plain MLLP listener skips the ClientHello while it waits for a start
// block and never replies, so the handshake runs into the dial timeout.
// The test listener only reads, because the random bytes of a ClientHello
// can form an MLLP frame, to which the MLLP listener would reply.
func TestHL7SendTLSToPlainReceiver(t *testing.T) {
	certFile, _, _ := writeCertificate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, conn)
			conn.Close()
		}
	}()
	addr := ln.Addr().String()
	file := writeMessageFile(t, "plain.hl7", admitMessage("TLS2", "MRN-TLS-2"))
	config, err := clientTLS(certFile)
	require.NoError(t, err)

	target := sendTarget{addr: addr, caFile: certFile,
		opts: mllp.ClientOptions{TLSConfig: config, DialTimeout: 300 * time.Millisecond}}
	var out, errOut bytes.Buffer
	err = sendFiles(context.Background(), target, []string{file}, &out, &errOut)
	require.Error(t, err)
	assert.Equal(t, "hl7 send: TLS handshake with "+addr+" timed out; the receiver may not speak TLS: "+
		"if it accepts plain MLLP, send without --tls-ca", err.Error())
}

// A listener that accepts only TLS closes a plain connection without a
// reply, so the error suggests --tls-ca.
func TestHL7SendPlainToTLSReceiver(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	certFile, keyFile, _ := writeCertificate(t)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc, mllp: mllpOptions{tlsCert: certFile, tlsKey: keyFile}})
	file := writeMessageFile(t, "plain.hl7", admitMessage("PLAIN1", "MRN-PLAIN-1"))

	out, err := runNexusd(t, "--log-level", "error", "hl7", "send", "--to", addr, "--attempts", "1", file)
	require.Error(t, err)
	assert.Contains(t, out, "plain.hl7 #1: control id PLAIN1: no ACK: ")
	assert.Contains(t, out, "the receiver closed the connection before any ACK of this run, so it may require TLS: "+
		"if it does, send with --tls-ca")
}

func TestNoACKHint(t *testing.T) {
	closed := fmt.Errorf("%w from 127.0.0.1:2575: the connection closed first: %w", mllp.ErrNoAck, io.EOF)
	timedOut := fmt.Errorf("%w from 127.0.0.1:2575: the ACK timeout of 30s passed: %w", mllp.ErrNoAck,
		os.ErrDeadlineExceeded)
	cases := []struct {
		name  string
		plain bool
		acked bool
		err   error
		hint  bool
	}{
		{"closed before any ACK", true, false, closed, true},
		{"reset before any ACK", true, false, fmt.Errorf("mllp: send to 127.0.0.1:2575: %w", syscall.ECONNRESET), true},
		{"closed after an ACK", true, true, closed, false},
		{"closed with TLS", false, false, closed, false},
		{"timed out", true, false, timedOut, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state := &sendState{plain: tc.plain, acked: tc.acked}
			hint := state.noACKHint(tc.err)
			if tc.hint {
				assert.Contains(t, hint, "may require TLS")
			} else {
				assert.Empty(t, hint)
			}
		})
	}
}

func TestDialErrorHandshake(t *testing.T) {
	const addr, ca = "127.0.0.1:2575", "ca.pem"
	handshake := func(cause error) error {
		return fmt.Errorf("%w with %s: %w", mllp.ErrTLSHandshake, addr, cause)
	}
	cases := []struct {
		name  string
		cause error
		want  string
	}{
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}},
			"failed: the server certificate did not verify, because no certificate in --tls-ca ca.pem issued it"},
		{"wrong host", &tls.CertificateVerificationError{Err: x509.HostnameError{Host: "10.1.1.1"}},
			"because it is not valid for 127.0.0.1; set --to to a host name or IP address that the certificate lists"},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}},
			"because it has expired or is not valid yet"},
		{"other verification", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}},
			"the server certificate did not verify against --tls-ca ca.pem"},
		{"timeout", context.DeadlineExceeded, "TLS handshake with 127.0.0.1:2575 timed out; the receiver may not speak TLS"},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"},
			"the receiver did not respond with TLS; if it accepts plain MLLP, send without --tls-ca"},
		{"alert", tls.AlertError(116), `rejected the handshake with the TLS alert "tls: certificate required"`},
		{"closed", io.EOF, "the receiver closed the connection; check that it accepts TLS"},
		{"reset", syscall.ECONNRESET, "the receiver closed the connection"},
		{"other", errors.New("tls: unexpected message"), "failed; check that the receiver accepts TLS and that --tls-ca ca.pem"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := dialError(addr, ca, handshake(tc.cause))
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "firewall", "the TCP connection opened")
		})
	}
}

func TestDialErrorTCP(t *testing.T) {
	err := dialError("127.0.0.1:2575", "", fmt.Errorf("mllp: dial 127.0.0.1:2575: %w", syscall.ECONNREFUSED))
	assert.Equal(t, "hl7 send: cannot connect to 127.0.0.1:2575: connection refused; check that the MLLP receiver "+
		"is running, that --to names its host and port, and that no firewall blocks the port", err.Error())
}

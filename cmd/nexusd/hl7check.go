package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage"
)

// checkFiles returns an error naming the first of files that is missing,
// a folder or unreadable, so that a typo stops the command before any
// message is sent or applied. urfave/cli v2 stops parsing flags at the
// first argument, so a flag after the files arrives here as a file name.
// The error for a missing file whose name starts with "-" explains that.
func checkFiles(command string, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("%s: missing FILE argument: name at least one HL7 v2 file", command)
	}
	for _, file := range files {
		info, err := os.Stat(file)
		switch {
		case errors.Is(err, os.ErrNotExist) && strings.HasPrefix(file, "-"):
			return fmt.Errorf("%s: file %s not found: flags must come before the files, so move %s "+
				"before the first FILE", command, file, file)
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s: file %s not found", command, file)
		case err != nil:
			return fmt.Errorf("%s: cannot read file %s: %w", command, file, err)
		case info.IsDir():
			return fmt.Errorf("%s: %s is a folder: name the HL7 v2 files in it", command, file)
		}
	}
	return nil
}

// checkSendFlags validates the --to, --ack-timeout and --attempts values
// of `hl7 send`.
func checkSendFlags(to string, ackTimeout time.Duration, attempts int) error {
	host, port, err := net.SplitHostPort(to)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("hl7 send: invalid --to %q: use HOST:PORT, such as 127.0.0.1:2575", to)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("hl7 send: invalid --to %q: the port must be a number from 1 to 65535", to)
	}
	if ackTimeout <= 0 {
		return fmt.Errorf("hl7 send: invalid --ack-timeout %s: use a positive duration, such as 30s", ackTimeout)
	}
	if attempts < 1 {
		return fmt.Errorf("hl7 send: invalid --attempts %d: use 1 or more", attempts)
	}
	return nil
}

// dialError turns a failed connection to the MLLP receiver at addr into
// one line that names the address, the cause and what to check. caFile is
// the --tls-ca value, empty for plain MLLP.
func dialError(addr, caFile string, err error) error {
	if errors.Is(err, mllp.ErrTLSHandshake) {
		return handshakeError(addr, caFile, err)
	}
	var dnsErr *net.DNSError
	var netErr net.Error
	cause := "the connection failed"
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		cause = "connection refused"
	case errors.As(err, &dnsErr):
		cause = "host not found"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		cause = "timed out"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		cause = "host unreachable"
	}
	return fmt.Errorf("hl7 send: cannot connect to %s: %s; check that the MLLP receiver is running, "+
		"that --to names its host and port, and that no firewall blocks the port", addr, cause)
}

// handshakeError describes a TLS handshake with the MLLP receiver at addr
// that failed after the TCP connection opened. It names the cause by its
// crypto/tls or crypto/x509 type and leaves out the text of err, which
// can quote the certificate's names. The caller logs err itself.
func handshakeError(addr, caFile string, err error) error {
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verification     *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
		netErr           net.Error
	)
	failed := fmt.Sprintf("hl7 send: TLS handshake with %s failed", addr)
	switch {
	case errors.As(err, &unknownAuthority):
		return fmt.Errorf("%s: the server certificate did not verify, because no certificate in --tls-ca %s "+
			"issued it; set --tls-ca to the CA certificate that issued the receiver's certificate", failed, caFile)
	case errors.As(err, &hostname):
		host, _, _ := net.SplitHostPort(addr)
		return fmt.Errorf("%s: the server certificate did not verify, because it is not valid for %s; "+
			"set --to to a host name or IP address that the certificate lists", failed, host)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Errorf("%s: the server certificate did not verify, because it has expired or is not valid yet; "+
			"renew the receiver's certificate, or check the clock of this machine", failed)
	case errors.As(err, &invalid), errors.As(err, &verification):
		return fmt.Errorf("%s: the server certificate did not verify against --tls-ca %s; "+
			"check that the file holds the CA certificate that issued the receiver's certificate", failed, caFile)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("hl7 send: TLS handshake with %s timed out; the receiver may not speak TLS: "+
			"if it accepts plain MLLP, send without --tls-ca", addr)
	case errors.As(err, &recordHeader):
		return fmt.Errorf("%s: the receiver did not respond with TLS; if it accepts plain MLLP, send without --tls-ca", failed)
	case errors.As(err, &alert):
		return fmt.Errorf("%s: the receiver rejected the handshake with the TLS alert %q; "+
			"check the TLS settings and the log of the receiver", failed, alert.Error())
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		return fmt.Errorf("%s: the receiver closed the connection; check that it accepts TLS, and check its log", failed)
	}
	return fmt.Errorf("%s; check that the receiver accepts TLS and that --tls-ca %s contains the CA certificate "+
		"that issued its certificate", failed, caFile)
}

// checkImportDB returns an error when neither --db nor NEXUS_DB is set
// (explicit is false) and the default SQLite file does not exist. The
// command then most likely runs in the wrong folder, and an empty clinical
// record created there would take the messages. A database named on
// purpose is opened as `nexusd serve` opens it, which creates a missing
// one.
func checkImportDB(dsn string, explicit bool) error {
	if explicit {
		return nil
	}
	dialect, path, err := storage.ParseDSN(dsn)
	if err != nil || dialect != storage.SQLite {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("hl7 import: no database at %s, the default --db %s, in the current folder: pass --db "+
			"(or NEXUS_DB) with the database that `nexusd serve` uses, or create one with `nexusd migrate --db %s`",
			path, dsn, dsn)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

func hl7SendCommand() *cli.Command {
	return &cli.Command{
		Name:      "send",
		Usage:     "send the messages of HL7 v2 files to an MLLP receiver and check each ACK",
		ArgsUsage: "FILE...",
		Description: "Sends every message of each FILE in order over one MLLP connection and waits for its ACK.\n" +
			"LF and CRLF line ends are sent as CR. AA and CA count as success. Any other ACK is\n" +
			"reported with the file, the message number (from 1), MSA-1 and the ERR locations, and\n" +
			"makes the exit status non-zero. A message whose MSH-15 and MSH-16 request an ACK only\n" +
			"on error (ER) counts as failed when its AE, AR, CE or CR arrives before the next\n" +
			"message's ACK or within 2s after the last message. An ACK whose MSA-2 names neither\n" +
			"the message nor an earlier one counts as failed. A message that contains the MLLP\n" +
			"block bytes 0x0B or 0x1C cannot be framed: it is reported with its line, not sent,\n" +
			"and counts as failed. Text outside a message, before the first MSH or after an FHS,\n" +
			"BHS, BTS or FTS segment and before the next MSH, is reported with its lines, not sent,\n" +
			"and counts as a failed message. A timeout or a lost connection before the message's\n" +
			"ACK, also one after late ACKs of earlier messages, is retried up to --attempts times.\n" +
			"A missing application ACK after a CA is reported and not retried, because the CA means\n" +
			"that the receiver has committed the message. Each FILE must exist before anything is\n" +
			"sent, and flags come before the files.\n" +
			"A summary line follows each file and the whole run. A late AE, AR, CE or CR counts\n" +
			"against the file of the message that its MSA-2 names, so a file whose last messages\n" +
			"request an ACK only on error gets its summary once their ACKs can no longer arrive.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Required: true, Usage: "HOST:PORT of the MLLP receiver, such as 127.0.0.1:2575"},
			&cli.StringFlag{Name: "tls-ca", Usage: "connect with TLS and trust the PEM certificates in this file"},
			&cli.DurationFlag{Name: "ack-timeout", Value: mllp.DefaultAckTimeout,
				Usage: "maximum wait for each ACK, a positive duration such as 30s"},
			&cli.IntFlag{Name: "attempts", Value: 3, Usage: "sends of one message, the first included, before giving up (1 or more)"},
		},
		Action: func(c *cli.Context) error {
			if err := checkSendFlags(c.String("to"), c.Duration("ack-timeout"), c.Int("attempts")); err != nil {
				return err
			}
			if err := checkFiles("hl7 send", c.Args().Slice()); err != nil {
				return err
			}
			log, err := newLogger(c)
			if err != nil {
				return err
			}
			target := sendTarget{
				addr:   c.String("to"),
				caFile: c.String("tls-ca"),
				opts:   mllp.ClientOptions{Logger: log, AckTimeout: c.Duration("ack-timeout"), DialTimeout: 10 * time.Second},
				policy: mllp.RetryPolicy{Attempts: c.Int("attempts")},
			}
			if target.caFile != "" {
				if target.opts.TLSConfig, err = clientTLS(target.caFile); err != nil {
					return err
				}
			}
			return sendFiles(c.Context, target, c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
		},
	}
}

func clientTLS(caFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--tls-ca %s contains no PEM certificate", caFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// sendTarget is the MLLP receiver of `hl7 send` and how to reach it.
type sendTarget struct {
	addr string
	// caFile is the --tls-ca file, empty for plain MLLP. opts.TLSConfig
	// trusts its certificates.
	caFile string
	opts   mllp.ClientOptions
	policy mllp.RetryPolicy
}

// sendFiles sends every message of files to the receiver and prints one
// line per message and a summary.
func sendFiles(ctx context.Context, target sendTarget, files []string, out, errOut io.Writer) error {
	client, err := mllp.Dial(ctx, target.addr, target.opts)
	if err != nil {
		if target.opts.Logger != nil {
			target.opts.Logger.Debug("hl7 send: connecting to the MLLP receiver failed", "addr", target.addr, "err", err)
		}
		return dialError(target.addr, target.caFile, err)
	}
	defer client.Close()
	unreadable := 0
	state := &sendState{silent: map[string]sentMessage{}, sent: map[string]bool{}, plain: target.opts.TLSConfig == nil}
	for _, file := range files {
		messages, err := readMessages(file)
		if err != nil {
			unreadable++
			fmt.Fprintf(errOut, "%s: %v\n", file, err)
			continue
		}
		tally := &fileTally{name: file, messages: len(messages)}
		state.files = append(state.files, tally)
		for i, message := range messages {
			name := fmt.Sprintf("%s #%d", file, i+1)
			if message.outside != "" {
				fmt.Fprintf(out, "%s: %s: not sent: %s\n", name, message.lineRange(), message.outside)
				tally.failed++
				continue
			}
			if reason := unframable(message); reason != "" {
				fmt.Fprintf(out, "%s: %s\n", name, reason)
				tally.failed++
				continue
			}
			tally.sent++
			line, ok := sendOne(ctx, client, message.data, target.policy, state, sentMessage{name: name, file: tally})
			fmt.Fprintf(out, "%s: %s\n", name, line)
			if !ok {
				tally.failed++
			}
			state.reportLate(out)
			if ctx.Err() != nil {
				return fmt.Errorf("hl7 send: %w", context.Cause(ctx))
			}
		}
		tally.done = true
		state.printSummaries(out)
	}
	if len(state.silent) > 0 {
		// The negative ACKs of the last messages sent without an
		// expected ACK arrive after them, so wait for them at the end,
		// for at most lateACKWait in all.
		wait, cancel := context.WithTimeout(ctx, lateACKWait)
		for len(state.silent) > 0 {
			ack, err := client.Receive(wait)
			if err != nil {
				break
			}
			state.noteLate(ack)
		}
		cancel()
		state.reportLate(out)
		state.settle()
		state.printSummaries(out)
	}
	fmt.Fprintln(out, sendSummary(state.total.messages, state.total.sent, state.total.failed))
	return runError("hl7 send", state.total.failed, unreadable)
}

// sendSummary formats the counts of messages of `hl7 send`, where failed
// includes the messages that were not sent, such as "2 messages: 1 sent,
// 1 accepted, 1 failed".
func sendSummary(total, sent, failed int) string {
	return fmt.Sprintf("%s: %d sent, %d accepted, %d failed", pluralize(total, "message"), sent, total-failed, failed)
}

// runError returns the error of a run of command in which failed
// messages were not accepted and unreadable files could not be read, or
// nil when both are zero.
func runError(command string, failed, unreadable int) error {
	var parts []string
	if failed > 0 {
		parts = append(parts, pluralize(failed, "message")+" failed")
	}
	if unreadable > 0 {
		parts = append(parts, pluralize(unreadable, "file")+" could not be read")
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", command, strings.Join(parts, " and "))
}

// pluralize returns n and noun, with an s unless n is 1, such as
// "1 message" or "2 messages".
func pluralize(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// unframable returns why message cannot be sent over MLLP, or "" when it
// can. A start block (0x0B) or end block (0x1C) in the content would end
// or restart the frame, so the receiver would read a different message
// than the one in the file.
func unframable(message fileMessage) string {
	i := bytes.IndexAny(message.data, string([]byte{mllp.StartBlock, mllp.EndBlock}))
	if i < 0 {
		return ""
	}
	block := "end block"
	if message.data[i] == mllp.StartBlock {
		block = "start block"
	}
	controlID := ""
	if hdr, _ := hl7v2.ParseHeader(message.data); hdr != nil {
		controlID = hdr.ControlID
	}
	return fmt.Sprintf("control id %s: not sent: line %d contains the byte 0x%02X (MLLP %s), which MLLP "+
		"cannot frame; remove it from the file", controlID, message.lineOf(i), message.data[i], block)
}

// sendOne sends one message and describes its ACKs. It reports whether the
// message was accepted. In enhanced mode it reads as many ACKs as MSH-15
// and MSH-16 request, and it skips a late ACK of an earlier message, which
// a receiver sends when an ER or SU condition gave more ACKs than expected.
func sendOne(ctx context.Context, client *mllp.Client, message []byte, policy mllp.RetryPolicy,
	state *sendState, sending sentMessage) (string, bool) {
	hdr, _ := hl7v2.ParseHeader(message)
	controlID := ""
	if hdr != nil {
		controlID = hdr.ControlID
	}
	defer func() { state.sent[controlID] = true }()
	if hdr != nil && inbound.ExpectedACKs(hdr, hl7v2.AckAccept) == 0 {
		// No ACK comes for success, so waiting for one would time out.
		// A negative ACK that ER requests is read as a late ACK before
		// the next message's.
		err := client.Retry(ctx, policy, func(ctx context.Context) error {
			_, err := client.SendReplies(ctx, message, 0)
			return err
		})
		if err != nil {
			return fmt.Sprintf("control id %s: not sent: %v%s", controlID, err, state.noACKHint(err)), false
		}
		if inbound.ExpectedACKs(hdr, hl7v2.AckError) > 0 {
			state.silent[controlID] = sending
			sending.file.unsettled++
		}
		return fmt.Sprintf("control id %s: sent; MSH-15 and MSH-16 request no ACK on success", controlID), true
	}
	// Once this message's ACK arrives, or its connection is lost, no late
	// ACK of an earlier message can follow.
	defer state.settle()
	ack, late, err := sendSkippingLate(ctx, client, message, controlID, policy, state)
	if err != nil {
		return fmt.Sprintf("control id %s: no ACK: %v%s", controlID, err, state.noACKHint(err)), false
	}
	code, acked, err := mllp.AckCode(ack)
	if err != nil {
		return fmt.Sprintf("control id %s: %v", controlID, err), false
	}
	if acked != controlID {
		return ackMismatch(controlID, acked, code), false
	}
	accepted := code == hl7v2.AckAccept || code == hl7v2.AckCommitAccept
	line := fmt.Sprintf("control id %s: %s", controlID, code)
	if locations := ackErrors(ack); locations != "" {
		line += " " + locations
	}
	if len(late) > 0 {
		line += " (skipped " + strings.Join(late, ", ") + ")"
	}
	if hdr != nil && isCommitCode(code) && inbound.ExpectedACKs(hdr, code) == 2 {
		app, err := client.Receive(ctx)
		if err != nil {
			return line + fmt.Sprintf("; no application ACK: %v", err), false
		}
		appCode, _, err := mllp.AckCode(app)
		if err != nil {
			return line + fmt.Sprintf("; application ACK: %v", err), false
		}
		line += ", application ACK " + appCode
		accepted = accepted && appCode == hl7v2.AckAccept
	}
	return line, accepted
}

// sendSkippingLate sends message, whose MSH-10 is controlID, and returns
// its ACK and a description of each late ACK of an earlier message that
// came first. A timeout or a lost connection while it waits for either
// sends the message again, as policy allows, so that the message gets the
// retries of a message without late ACKs. The ACK returned may name
// another message when more late ACKs came than can be skipped.
func sendSkippingLate(ctx context.Context, client *mllp.Client, message []byte, controlID string,
	policy mllp.RetryPolicy, state *sendState) ([]byte, []string, error) {
	// Each message sent without an expected ACK can add one late ACK.
	maxSkipped := len(state.silent) + maxLateACKs
	var ack []byte
	var late []string
	err := client.Retry(ctx, policy, func(ctx context.Context) error {
		reply, err := client.Send(ctx, message)
		for err == nil {
			state.acked = true
			ack = reply
			code, acked, invalid := mllp.AckCode(reply)
			if invalid != nil || acked == controlID || !state.sent[acked] || len(late) == maxSkipped {
				// The caller reports an invalid ACK, which sending the
				// message again would not change.
				return nil
			}
			late = append(late, fmt.Sprintf("late ACK MSA-1 %s for control id %s", code, acked))
			state.noteLate(reply)
			reply, err = client.Receive(ctx)
		}
		return err
	})
	return ack, late, err
}

// ackMismatch describes an ACK whose MSA-2 names neither the message sent,
// with control id controlID, nor a message sent before it.
func ackMismatch(controlID, acked, code string) string {
	if acked == "" {
		return fmt.Sprintf("control id %s: the ACK (MSA-1 %s) has no MSA-2, so it cannot be matched to the message; "+
			"check that the receiver copies MSH-10 into MSA-2", controlID, code)
	}
	return fmt.Sprintf("control id %s: ACK for control id %s does not match MSH-10 %s of the message sent (MSA-1 %s); "+
		"check that the receiver copies MSH-10 into MSA-2", controlID, acked, controlID, code)
}

// sendState tracks the messages sent before the current one. An ACK that
// names one of them is a late ACK, which an ER or SU condition can send
// before the ACK of a later message or after the last one.
type sendState struct {
	// sent contains the control ids of the messages sent so far.
	sent map[string]bool
	// silent maps the control id of each message sent without an
	// expected ACK, whose negative ACK may still arrive, to its file and
	// number.
	silent map[string]sentMessage
	// failures are the report lines of late negative ACKs not yet printed.
	failures []string
	// files are the files whose summary is not printed yet, in order.
	files []*fileTally
	// total adds up the files whose summary is printed.
	total fileTally
	// plain is set when the connection does not use TLS.
	plain bool
	// acked is set once any reply arrived, which shows that the receiver
	// speaks the protocol of the connection.
	acked bool
}

// sentMessage names a message of `hl7 send` and its file.
type sentMessage struct {
	// name is the file and message number, such as "adt.hl7 #2".
	name string
	file *fileTally
}

// fileTally counts the messages of one file of `hl7 send`. A late negative
// ACK counts against the file of the message that its MSA-2 names, so the
// summary of a file waits until none of its messages can get one.
type fileTally struct {
	name                   string
	messages, sent, failed int
	// unsettled is the number of messages of the file that were sent
	// without an expected ACK and whose negative ACK may still arrive.
	unsettled int
	// done is set once every message of the file was handled.
	done bool
}

// noteLate records a late ACK. AE, AR, CE and CR of a message sent
// without an expected ACK mark that message, and its file, as failed.
func (s *sendState) noteLate(ack []byte) {
	code, acked, err := mllp.AckCode(ack)
	if err != nil {
		return
	}
	message, ok := s.silent[acked]
	if !ok {
		return
	}
	delete(s.silent, acked)
	message.file.unsettled--
	if code == hl7v2.AckAccept || code == hl7v2.AckCommitAccept {
		return
	}
	message.file.failed++
	line := fmt.Sprintf("%s: control id %s: %s", message.name, acked, code)
	if locations := ackErrors(ack); locations != "" {
		line += " " + locations
	}
	s.failures = append(s.failures, line)
}

// settle counts the messages sent without an expected ACK as accepted
// when no negative ACK came for them. It runs once the ACK of a later
// message arrived, because the receiver sends the ACKs of one connection
// in order, or once no more ACKs can arrive.
func (s *sendState) settle() {
	for controlID, message := range s.silent {
		message.file.unsettled--
		delete(s.silent, controlID)
	}
}

// reportLate prints the recorded failures.
func (s *sendState) reportLate(out io.Writer) {
	for _, line := range s.failures {
		fmt.Fprintln(out, line)
	}
	s.failures = s.failures[:0]
}

// printSummaries prints the summary of each file, in order, whose
// messages were all handled and settled, and adds its counts to s.total.
func (s *sendState) printSummaries(out io.Writer) {
	for len(s.files) > 0 && s.files[0].done && s.files[0].unsettled == 0 {
		file := s.files[0]
		s.files = s.files[1:]
		fmt.Fprintf(out, "%s: %s\n", file.name, sendSummary(file.messages, file.sent, file.failed))
		s.total.messages += file.messages
		s.total.sent += file.sent
		s.total.failed += file.failed
	}
}

// noACKHint returns advice for a send that failed with err, or "" when
// there is none. A receiver that accepts only TLS reads a plain MLLP frame
// as a failed TLS handshake and closes the connection without a reply, so
// a connection closed before the first reply of the run suggests TLS.
func (s *sendState) noACKHint(err error) string {
	if !s.plain || s.acked || !closedByPeer(err) {
		return ""
	}
	return "; the receiver closed the connection before any ACK of this run, so it may require TLS: " +
		"if it does, send with --tls-ca and the CA certificate that issued the receiver's certificate"
}

// closedByPeer reports whether err shows that the other end closed or
// reset the connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, mllp.ErrIncompleteFrame) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// lateACKWait bounds the wait for a negative ACK after the last message.
// NOTE: 2s is a guess that covers a receiver applying one message, so the
// negative ACK of a slower receiver is missed and the message counted as
// accepted.
const lateACKWait = 2 * time.Second

// maxLateACKs bounds the ACKs of earlier messages that sendOne skips,
// beyond one for each message sent without an expected ACK.
const maxLateACKs = 2

func isCommitCode(code string) bool {
	return code == hl7v2.AckCommitAccept || code == hl7v2.AckCommitError || code == hl7v2.AckCommitReject
}

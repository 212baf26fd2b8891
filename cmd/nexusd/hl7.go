package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
)

// hl7Actor is the author of the versions that HL7 v2 messages write.
const hl7Actor = "system/nexusd-hl7v2"

func hl7Command() *cli.Command {
	return &cli.Command{
		Name:  "hl7",
		Usage: "send or import HL7 v2 message files",
		Subcommands: []*cli.Command{
			hl7SendCommand(),
			hl7ImportCommand(),
		},
	}
}

// processingIDFlag selects the MSH-11 processing IDs whose messages are
// applied. A production record takes P alone by default, because a
// training or debugging message would add made-up data to real patients.
func processingIDFlag() cli.Flag {
	return &cli.StringFlag{Name: "hl7-processing-id", Value: "P", EnvVars: []string{"NEXUS_HL7_PROCESSING_ID"},
		Usage: "comma-separated MSH-11 processing IDs whose HL7 v2 messages are applied (P production, " +
			"T training, D debugging), or \"any\"; other messages get AR with code 202"}
}

// parseProcessingIDs reads the --hl7-processing-id value; "any" gives nil,
// which accepts every message.
func parseProcessingIDs(value string) ([]string, error) {
	if strings.TrimSpace(value) == "any" {
		return nil, nil
	}
	var ids []string
	for _, id := range strings.Split(value, ",") {
		id = strings.TrimSpace(id)
		switch id {
		case "P", "T", "D":
			ids = append(ids, id)
		default:
			return nil, fmt.Errorf("invalid --hl7-processing-id %q: use P, T or D, separated by commas, or any", value)
		}
	}
	return ids, nil
}

func lenientFlag() cli.Flag {
	return &cli.BoolFlag{Name: "hl7-lenient", Value: true, EnvVars: []string{"NEXUS_HL7_LENIENT"},
		Usage: "accept the common deviations from the HL7 v2 standard (LF line ends, blank lines, short " +
			"time zone offsets, unknown 2.x versions); --hl7-lenient=false rejects them with AE"}
}

// newInboundHandler returns the handler that both the MLLP listener and
// `hl7 import` use, so that both acknowledge and deduplicate alike. Both
// set its Group, so that each message commits whole; the Applier and Seen
// set here serve tests and the listener's test hook.
func newInboundHandler(svc *emr.Service, log *slog.Logger, lenient bool, zone *time.Location) *inbound.Handler {
	return &inbound.Handler{
		Applier: newApplier(svc, zone),
		Log:     log,
		Parse:   hl7v2.ParseOptions{Lenient: lenient},
		Seen:    inbound.RecordSeen{Service: svc},
	}
}

// ackErrors formats the ERR segments of an ACK as "ERR PID^1^3 code 101",
// joined with "; ". ERR-2 and ERR-3 hold locations and codes, never values
// of the message.
func ackErrors(ack []byte) string {
	msg, _ := hl7v2.Parse(ack, hl7v2.ParseOptions{Lenient: true})
	if msg == nil {
		return ""
	}
	var parts []string
	for i := range msg.SegmentsByID("ERR") {
		n := i + 1
		location := msg.Get(fmt.Sprintf("ERR(%d)-2", n))
		code := msg.Get(fmt.Sprintf("ERR(%d)-3.1", n))
		text := msg.Get(fmt.Sprintf("ERR(%d)-3.2", n))
		part := "ERR " + location + " code " + code
		if text != "" {
			part += " (" + text + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

func hl7ImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "apply HL7 v2 message files to the database without a network",
		ArgsUsage: "FILE...",
		Description: "Applies every message of each FILE in order, through the same steps as the MLLP\n" +
			"listener of `nexusd serve`: a message already applied is not applied again, and errors\n" +
			"are located as in an ACK. Text outside a message, before the first MSH or after an FHS,\n" +
			"BHS, BTS or FTS segment and before the next MSH, is reported with its lines, not applied,\n" +
			"and counts as a failed message. Prints one line per message, a summary per file and one\n" +
			"for the run. The exit status is non-zero when any message was not accepted. --db has the\n" +
			"default of `nexusd serve`. Without --db or NEXUS_DB, a missing default database is an\n" +
			"error rather than created, so that messages never go into a new, empty record by mistake.",
		Flags: []cli.Flag{dbFlag(), lenientFlag(), processingIDFlag(), timezoneFlag(), masterKeyFlag()},
		Action: func(c *cli.Context) error {
			if err := checkFiles("hl7 import", c.Args().Slice()); err != nil {
				return err
			}
			processingIDs, err := parseProcessingIDs(c.String("hl7-processing-id"))
			if err != nil {
				return err
			}
			if err := checkImportDB(c.String("db"), c.IsSet("db")); err != nil {
				return err
			}
			zone, err := facilityZone(c.String("timezone"))
			if err != nil {
				return err
			}
			log, err := newLogger(c)
			if err != nil {
				return err
			}
			db, svc, err := openServiceKeys(c.Context, c.String("db"), emr.Config{Logger: log}, masterKeyFrom(c))
			if err != nil {
				return err
			}
			defer db.Close()
			h := newInboundHandler(svc, log, c.Bool("hl7-lenient"), zone)
			h.ProcessingIDs = processingIDs
			// The listener's group commit, here with one message per
			// transaction: a message's effects and its duplicate record
			// commit together or not at all.
			h.Group = &inbound.GroupCommit{Applier: newBatchApplier(svc, zone)}
			ctx := emr.ContextWithActor(c.Context, hl7Actor)
			return importMessages(ctx, h, c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
		},
	}
}

// importMessages processes every message of files with h.
func importMessages(ctx context.Context, h *inbound.Handler, files []string, out, errOut io.Writer) error {
	var total, accepted, duplicates, failed, unreadable int
	for _, file := range files {
		messages, err := readMessages(file)
		if err != nil {
			unreadable++
			fmt.Fprintf(errOut, "%s: %v\n", file, err)
			continue
		}
		var fileAccepted, fileDuplicates int
		for i, message := range messages {
			total++
			if message.outside != "" {
				fmt.Fprintf(out, "%s #%d: %s: not applied: %s\n", file, i+1, message.lineRange(), message.outside)
				continue
			}
			res, err := h.Process(ctx, message.data)
			line, ok := describeResult(res, err)
			fmt.Fprintf(out, "%s #%d: %s\n", file, i+1, line)
			switch {
			case !ok:
			case res.Duplicate:
				fileDuplicates++
				fileAccepted++
			default:
				fileAccepted++
			}
			if ctx.Err() != nil {
				return fmt.Errorf("hl7 import: %w", context.Cause(ctx))
			}
		}
		fileFailed := len(messages) - fileAccepted
		accepted, duplicates, failed = accepted+fileAccepted, duplicates+fileDuplicates, failed+fileFailed
		fmt.Fprintf(out, "%s: %s: %d accepted (%d already applied), %d failed\n",
			file, pluralize(len(messages), "message"), fileAccepted, fileDuplicates, fileFailed)
	}

	fmt.Fprintf(out, "%s: %d accepted (%d already applied), %d failed\n", pluralize(total, "message"), accepted, duplicates, failed)
	return runError("hl7 import", failed, unreadable)
}

// describeResult formats one processed message as "control id C1: AA
// created=1 updated=0 unchanged=0" and reports whether it was accepted.
func describeResult(res *inbound.Result, err error) (string, bool) {
	controlID := ""
	if res != nil && res.Header != nil {
		controlID = res.Header.ControlID
	}
	if err != nil {
		return fmt.Sprintf("control id %s: not applied: %v", controlID, err), false
	}
	if res.IgnoredACK {
		return fmt.Sprintf("control id %s: an acknowledgement, not applied", controlID), true
	}
	// A message whose MSH-15 and MSH-16 request no ACK has no code, so
	// acceptance is the absence of errors.
	accepted := len(res.Errors) == 0
	code := res.Code
	if code == "" {
		code = "no ACK requested"
	}
	line := fmt.Sprintf("control id %s: %s", controlID, code)
	switch {
	case res.Duplicate:
		line += " already applied"
	case accepted:
		line += " " + res.Outcome.String()
	}
	if locations := ackErrors(res.ACK); locations != "" {
		line += " " + locations
	}
	return line, accepted
}

func timezoneFlag() cli.Flag {
	return &cli.StringFlag{Name: "timezone", EnvVars: []string{"NEXUS_TIMEZONE"},
		Usage: "the facility's IANA time zone, such as Europe/Berlin: schedules are planned in it, and HL7 v2 times " +
			"without a UTC offset are read in it (default: UTC for schedules; such HL7 v2 times then take MSH-7's offset or are rejected)"}
}

// facilityZone loads the --timezone value; empty gives nil.
func facilityZone(name string) (*time.Location, error) {
	if name == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("invalid --timezone %q: use an IANA zone name such as Europe/Berlin", name)
	}
	return loc, nil
}

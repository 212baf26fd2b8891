package inbound

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// maxLoggedErrors bounds the ERR locations written into one log line.
const maxLoggedErrors = 5

// logResult writes one line for a processed message: info for AA and CA
// and for a received ACK, warning for a negative ACK or for lenient
// repairs, error when no ACK is sent.
func (h *Handler) logResult(res *Result, err error, elapsed time.Duration) {
	attrs := make([]slog.Attr, 0, 10)
	if hdr := res.Header; hdr != nil {
		attrs = append(attrs,
			slog.String("message_type", hdr.MessageType),
			slog.String("control_id", hdr.ControlID),
			slog.String("sender", hdr.SendingApplication+"/"+hdr.SendingFacility))
	}
	attrs = append(attrs, slog.String("ack", res.Code), slog.Duration("duration", elapsed))
	if res.ApplicationCode != "" {
		attrs = append(attrs, slog.String("application_ack", res.ApplicationCode))
	}
	if res.Duplicate {
		attrs = append(attrs, slog.Bool("duplicate", true))
	}
	if len(res.Errors) == 0 && !res.Duplicate && !res.IgnoredACK {
		attrs = append(attrs, slog.String("outcome", res.Outcome.String()))
	}
	if len(res.Errors) > 0 {
		attrs = append(attrs, slog.Int("errors", len(res.Errors)),
			slog.String("error_locations", describeErrors(res.Errors)))
	}
	if len(res.Warnings) > 0 {
		attrs = append(attrs, slog.Int("lenient_repairs", len(res.Warnings)),
			slog.String("repair_locations", describeErrors(res.Warnings)))
	}

	log := h.logger()
	switch {
	case res.IgnoredACK:
		log.LogAttrs(context.Background(), slog.LevelInfo, "hl7v2 inbound: acknowledgement received and not acknowledged", attrs...)
	case err != nil:
		attrs = append(attrs, slog.Any("err", err))
		log.LogAttrs(context.Background(), slog.LevelError, "hl7v2 inbound: message not acknowledged", attrs...)
	case len(res.Errors) > 0:
		log.LogAttrs(context.Background(), slog.LevelWarn, "hl7v2 inbound: message rejected", attrs...)
	case len(res.Warnings) > 0:
		log.LogAttrs(context.Background(), slog.LevelWarn, "hl7v2 inbound: message accepted after lenient repairs", attrs...)
	default:
		log.LogAttrs(context.Background(), slog.LevelInfo, "hl7v2 inbound: message accepted", attrs...)
	}
}

// describeErrors formats the locations, kinds and messages of the first
// maxLoggedErrors of errs. ParseError.Message carries no value of the
// message, so it can be logged.
func describeErrors(errs []*hl7v2.ParseError) string {
	locations := make([]string, 0, maxLoggedErrors)
	for i, e := range errs {
		if i == maxLoggedErrors {
			break
		}
		locations = append(locations, e.Location()+" "+e.Kind.String()+": "+e.Message)
	}
	return strings.Join(locations, "; ")
}

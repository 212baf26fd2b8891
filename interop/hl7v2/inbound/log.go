package inbound

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// maxLoggedErrors bounds the ERR locations written into one log line.
const maxLoggedErrors = 5

// logResult writes one line for a processed message: info for AA and CA,
// warning for a negative ACK, error when no ACK is sent.
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
	if len(res.Errors) == 0 && !res.Duplicate {
		attrs = append(attrs, slog.String("outcome", res.Outcome.String()))
	}
	if len(res.Errors) > 0 {
		locations := make([]string, 0, maxLoggedErrors)
		for i, e := range res.Errors {
			if i == maxLoggedErrors {
				break
			}
			// ParseError.Message carries no value of the message, so the
			// cause can be logged.
			locations = append(locations, e.Location()+" "+e.Kind.String()+": "+e.Message)
		}
		attrs = append(attrs, slog.Int("errors", len(res.Errors)),
			slog.String("error_locations", strings.Join(locations, "; ")))
	}

	log := h.logger()
	switch {
	case err != nil:
		attrs = append(attrs, slog.Any("err", err))
		log.LogAttrs(context.Background(), slog.LevelError, "hl7v2 inbound: message not acknowledged", attrs...)
	case len(res.Errors) > 0:
		log.LogAttrs(context.Background(), slog.LevelWarn, "hl7v2 inbound: message rejected", attrs...)
	default:
		log.LogAttrs(context.Background(), slog.LevelInfo, "hl7v2 inbound: message accepted", attrs...)
	}
}

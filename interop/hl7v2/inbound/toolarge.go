package inbound

import (
	"bytes"
	"context"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

var _ mllp.TooLargeHandler = (*Handler)(nil)

// HandleTooLarge replies to a message over the MLLP server's maximum frame
// size, of which the server passes only the first bytes. When they
// contain the whole MSH segment, the message gets the replies that
// Process gives a message over Parse.Limits.MaxMessageBytes: an AR (or
// CR) with an ERR at MSH^1 that gives the size and the limit. The rules
// of Process for an unreadable header, a received ACK and an empty MSH-10
// apply first. The message is never applied.
func (h *Handler) HandleTooLarge(_ context.Context, _ mllp.ConnInfo, frame mllp.TooLargeFrame) ([][]byte, error) {
	start := h.now()
	res, err := h.rejectTooLarge(frame)
	h.logResult(res, err, h.now().Sub(start))
	if err != nil {
		return nil, err
	}
	return res.Replies(), nil
}

func (h *Handler) rejectTooLarge(frame mllp.TooLargeFrame) (*Result, error) {
	if err := h.Validate(); err != nil {
		return &Result{}, err
	}
	var hdr *hl7v2.Header
	// A segment cut off at the end of Head would give a header with
	// fields missing, so MSH is read only when its terminator arrived.
	if bytes.ContainsAny(frame.Head, "\r\n") {
		hdr, _ = hl7v2.ParseHeader(frame.Head)
	}
	res := &Result{Header: hdr}
	switch {
	case !addressable(hdr):
		return res, ErrNoControlID
	case hdr.MessageCode == "ACK":
		res.IgnoredACK = true
		return res, nil
	case hdr.ControlID == "":
		return h.rejectNoControlID(res)
	}
	return h.rejectParse(res, true, hl7v2.ErrorList{hl7v2.MessageSizeError(frame.Size, frame.Limit)})
}

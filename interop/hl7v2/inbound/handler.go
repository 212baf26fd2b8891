package inbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// Applier writes the effects of one parsed message.
type Applier interface {
	// Apply commits the message's effects before it returns. An error in
	// which hl7v2.Errors finds a *hl7v2.ParseError is a fault of the
	// message, acknowledged with AE or CE. An error wrapping
	// ErrUnsupportedMessage or ErrUnsupportedEvent is acknowledged with AR or
	// CR. Any other error is internal, and the message gets no ACK.
	Apply(ctx context.Context, msg *hl7v2.Message) (Outcome, error)
}

// ApplierFunc adapts a function to the Applier interface.
type ApplierFunc func(ctx context.Context, msg *hl7v2.Message) (Outcome, error)

// Apply calls f.
func (f ApplierFunc) Apply(ctx context.Context, msg *hl7v2.Message) (Outcome, error) {
	return f(ctx, msg)
}

// Outcome counts the resources that applying one message wrote, by the
// result of each write.
type Outcome struct {
	Created   int
	Updated   int
	Unchanged int
	// Late counts results older than their stored version, which were
	// kept without being made current (see v2fhir.Apply). They are also
	// counted in Unchanged.
	Late int
}

// String formats the counts as "created=1 updated=0 unchanged=2", with
// " late=1" after them when Late is not 0.
func (o Outcome) String() string {
	s := fmt.Sprintf("created=%d updated=%d unchanged=%d", o.Created, o.Updated, o.Unchanged)
	if o.Late > 0 {
		s += fmt.Sprintf(" late=%d", o.Late)
	}
	return s
}

// Errors an Applier wraps to reject a message it has no mapping for. The
// ACK is AR (CR in enhanced mode) with an ERR segment pointing at MSH-9.
var (
	// ErrUnsupportedMessage rejects the message type (MSH-9.1), with HL7
	// table 0357 code 200.
	ErrUnsupportedMessage = errors.New("inbound: no mapping for this message type")
	// ErrUnsupportedEvent rejects the trigger event (MSH-9.2), with HL7
	// table 0357 code 201.
	ErrUnsupportedEvent = errors.New("inbound: no mapping for this trigger event")
)

// ErrNoControlID is returned by Process for input whose MSH header cannot
// be read, which gets no ACK: input that does not start with an MSH
// segment, or an MSH segment whose MSH-2 is invalid and whose MSH-10 is
// empty.
var ErrNoControlID = errors.New("inbound: message has no readable MSH header and control id, so no ACK can be sent")

// Handler parses received messages, applies them through Applier and
// builds their ACKs. Applier is required, and the other fields are
// optional. A Handler must not be copied after first use.
type Handler struct {
	// Applier writes each accepted message.
	Applier Applier
	// Log receives one line per message. Nil discards them.
	Log *slog.Logger
	// Parse selects strict or lenient parsing and the input limits.
	Parse hl7v2.ParseOptions
	// Clock gives the ACK time (MSH-7) and durations. Nil means time.Now.
	Clock func() time.Time
	// Seen records applied messages so that a resent message is
	// acknowledged without being applied twice. Nil disables duplicate
	// detection.
	Seen SeenStore
	// ProcessingIDs are the MSH-11 processing IDs (HL7 table 0103: P
	// production, T training, D debugging) whose messages are applied.
	// Another one gets AR (CR) with table 0357 code 202 at MSH-11, so that
	// training messages never reach a production record. Empty accepts
	// every message.
	ProcessingIDs []string
	// Group, when set, applies messages in group commits in place of
	// Applier and Seen, so that messages from all connections share
	// transactions. Its BatchApplier then checks and records the keys.
	Group *GroupCommit

	senders senderLocks
}

var _ mllp.Handler = (*Handler)(nil)

// Result is the outcome of Process for one message.
type Result struct {
	// ACK is the encoded acknowledgement of original mode or the commit
	// ACK of enhanced mode, nil when none is sent.
	ACK []byte
	// Code is MSA-1 of ACK (AA, AE, AR, CA, CE or CR), "" without ACK.
	Code string
	// ApplicationACK is the application ACK of enhanced mode, nil when
	// MSH-16 requests none or the message is in original mode.
	ApplicationACK []byte
	// ApplicationCode is MSA-1 of ApplicationACK (AA, AE or AR).
	ApplicationCode string
	// Header is the message header, nil when MSH could not be read.
	Header *hl7v2.Header
	// Outcome counts the writes of an applied message.
	Outcome Outcome
	// Duplicate marks a message that was applied before and was
	// acknowledged again without being applied.
	Duplicate bool
	// Errors are the faults that the ACK's ERR segments report.
	Errors []*hl7v2.ParseError
	// Warnings are the deviations from the standard that lenient parsing
	// accepted.
	Warnings []*hl7v2.ParseError
	// IgnoredACK marks a received acknowledgement (MSH-9.1 ACK), which
	// is not applied and gets no ACK.
	IgnoredACK bool
}

// Replies returns the ACKs to send, in order: the commit ACK before the
// application ACK. It is empty when the message requests no ACK.
func (r *Result) Replies() [][]byte {
	var out [][]byte
	if r.ACK != nil {
		out = append(out, r.ACK)
	}
	if r.ApplicationACK != nil {
		out = append(out, r.ApplicationACK)
	}
	return out
}

// Validate returns an error naming the first invalid field.
func (h *Handler) Validate() error {
	if h.Group != nil {
		if err := h.Group.Validate(); err != nil {
			return err
		}
	} else if h.Applier == nil {
		return errors.New("inbound: Handler.Applier is nil; set an Applier or a Group")
	}
	return h.Parse.Validate()
}

var _ mllp.ReplyHandler = (*Handler)(nil)

// HandleMessage processes one message received over MLLP and returns its
// first ACK (see Result.Replies). It returns an error and no ACK when the
// message has no readable control id or applying it failed for an internal
// reason, so that the server closes the connection and the sender retries.
// An mllp.Server calls HandleReplies instead, which also returns the
// application ACK of enhanced mode.
func (h *Handler) HandleMessage(ctx context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
	res, err := h.Process(ctx, message)
	if err != nil {
		return nil, err
	}
	if replies := res.Replies(); len(replies) > 0 {
		return replies[0], nil
	}
	return nil, nil
}

// HandleReplies processes one message received over MLLP and returns every
// ACK that its MSH-15 and MSH-16 request, in the order to send them. It
// returns an error and no ACK as HandleMessage does.
func (h *Handler) HandleReplies(ctx context.Context, _ mllp.ConnInfo, message []byte) ([][]byte, error) {
	res, err := h.Process(ctx, message)
	if err != nil {
		return nil, err
	}
	return res.Replies(), nil
}

// Process parses, applies and acknowledges one message. The error is not
// nil when the message could not be acknowledged, and the result then
// still carries the header when it was readable. Without an error the
// result holds the ACKs that the message requests, which in enhanced mode
// may be none.
func (h *Handler) Process(ctx context.Context, message []byte) (*Result, error) {
	start := h.now()
	res, err := h.process(ctx, message)
	h.logResult(res, err, h.now().Sub(start))
	return res, err
}

func (h *Handler) process(ctx context.Context, message []byte) (*Result, error) {
	if err := h.Validate(); err != nil {
		return &Result{}, err
	}
	msg, parseErr := hl7v2.Parse(message, h.Parse)
	var hdr *hl7v2.Header
	if msg != nil {
		hdr = msg.Header()
	}
	if hdr == nil {
		// Parse returns no message when a limit was exceeded, but the
		// header alone may still be readable for an AR.
		hdr, _ = hl7v2.ParseHeader(message)
	}
	res := &Result{Header: hdr}
	if !addressable(hdr) {
		return res, ErrNoControlID
	}
	if hdr.MessageCode == "ACK" {
		// Acknowledging an acknowledgement would start an endless
		// exchange with a peer that does the same.
		res.IgnoredACK = true
		return res, nil
	}
	if msg != nil {
		res.Warnings = msg.Warnings()
	}
	if hdr.ControlID == "" {
		return h.rejectNoControlID(res)
	}
	if parseErr != nil {
		return h.rejectParse(res, msg == nil, parseErr)
	}
	if e := h.checkProcessingID(msg); e != nil {
		return h.negative(res, true, []*hl7v2.ParseError{e})
	}

	unlock, err := h.senders.lock(ctx, senderKey(hdr))
	if err != nil {
		return res, fmt.Errorf("inbound: waiting for the previous message of the sender: %w", err)
	}
	if h.Group != nil {
		// The sender's lock is held only until the message is queued,
		// because the queue keeps the order of the sender's messages
		// and their transactions commit in queue order.
		item := &BatchItem{Message: msg, Key: ContentKey(res.Header, message)}
		wait := h.Group.submit(senderKey(hdr), item)
		unlock()
		if err := wait(ctx); err != nil {
			return res, fmt.Errorf("inbound: the group commit failed: %w", err)
		}
		return h.acknowledge(res, item.Outcome, item.Duplicate, item.Err)
	}
	defer unlock()
	return h.apply(ctx, res, msg, message)
}

// rejectNoControlID builds the AR of a readable header without MSH-10,
// which names the field, so the sender stops resending a message that can
// never succeed.
func (h *Handler) rejectNoControlID(res *Result) (*Result, error) {
	missing := &hl7v2.ParseError{Kind: hl7v2.KindRequiredField, Severity: hl7v2.SeverityError,
		SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 10, Message: "MSH-10 (message control id) is missing"}
	return h.negative(res, true, []*hl7v2.ParseError{missing})
}

// apply runs the duplicate check, the Applier and the record of the
// message. The caller holds the sender's lock.
func (h *Handler) apply(ctx context.Context, res *Result, msg *hl7v2.Message, raw []byte) (*Result, error) {
	key := ContentKey(res.Header, raw)
	if h.Seen != nil {
		seen, err := h.Seen.Seen(ctx, key)
		if err != nil {
			return res, fmt.Errorf("inbound: looking up the control id failed: %w", err)
		}
		if seen {
			res.Duplicate = true
			return h.accept(res)
		}
	}

	outcome, err := h.Applier.Apply(ctx, msg)
	if err != nil {
		return h.acknowledge(res, outcome, false, err)
	}
	if h.Seen != nil {
		if err := h.Seen.Record(ctx, key); err != nil {
			return res, fmt.Errorf("inbound: the message was applied, but recording its control id failed: %w", err)
		}
	}
	return h.acknowledge(res, outcome, false, nil)
}

// acknowledge builds the ACKs of a message from the result of applying
// it, with err as Applier.Apply documents it.
func (h *Handler) acknowledge(res *Result, outcome Outcome, duplicate bool, err error) (*Result, error) {
	switch {
	case errors.Is(err, ErrUnsupportedMessage):
		return h.rejectUnsupported(res, unsupportedType)
	case errors.Is(err, ErrUnsupportedEvent):
		return h.rejectUnsupported(res, unsupportedEvent)
	case err != nil && len(hl7v2.Errors(err)) > 0:
		return h.negative(res, false, hl7v2.Errors(err))
	case err != nil:
		return res, fmt.Errorf("inbound: applying the message failed: %w", err)
	}
	res.Outcome, res.Duplicate = outcome, duplicate
	return h.accept(res)
}

// rejectParse builds the negative ACK of a message that did not parse. An ErrorList without
// entries means invalid ParseOptions, which is internal.
func (h *Handler) rejectParse(res *Result, unreadable bool, parseErr error) (*Result, error) {
	errs := hl7v2.Errors(parseErr)
	if len(errs) == 0 {
		return res, fmt.Errorf("inbound: parse: %w", parseErr)
	}
	if !res.Header.ValidEncoding() {
		// Later faults follow from delimiters that cannot be read, so
		// the ACK reports the faults of MSH-1 and MSH-2 alone.
		errs = encodingErrors(errs)
	}
	return h.negative(res, unreadable || rejectsMessage(errs), errs)
}

// addressable reports whether the message with header hdr gets an ACK. An
// empty MSH-10 is named in an AR only when MSH-2 is valid, so that the
// rest of the header is readable. With an invalid MSH-2 as well, as in the
// bare segment "MSH|", nothing in the header identifies the message, so
// the sender could not match an ACK to it, as with input without MSH.
func addressable(hdr *hl7v2.Header) bool {
	return hdr != nil && (hdr.ControlID != "" || hdr.ValidEncoding())
}

// encodingErrors returns the errors of kind encoding characters, or errs
// when there are none.
func encodingErrors(errs []*hl7v2.ParseError) []*hl7v2.ParseError {
	var out []*hl7v2.ParseError
	for _, e := range errs {
		if e.Kind == hl7v2.KindEncodingCharacters {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return errs
	}
	return out
}

// checkProcessingID returns the error for a message whose MSH-11.1 is
// missing or not one of ProcessingIDs, in any case, or nil.
func (h *Handler) checkProcessingID(msg *hl7v2.Message) *hl7v2.ParseError {
	if len(h.ProcessingIDs) == 0 {
		return nil
	}
	id := msg.Get("MSH-11.1")
	if id == "" {
		return &hl7v2.ParseError{Kind: hl7v2.KindRequiredField, Severity: hl7v2.SeverityError,
			SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 11, Offset: -1,
			Message: "MSH-11 (processing ID) is missing, so the receiver cannot tell production from training"}
	}
	if slices.ContainsFunc(h.ProcessingIDs, func(accepted string) bool { return strings.EqualFold(accepted, id) }) {
		return nil
	}
	return &hl7v2.ParseError{Kind: hl7v2.KindProcessingID, Severity: hl7v2.SeverityError,
		SegmentID: "MSH", Segment: 1, Occurrence: 1, Field: 11, Offset: -1,
		Message: "MSH-11 names a processing ID that this receiver does not apply, such as training (T) on a production record"}
}

func (h *Handler) now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock()
}

func (h *Handler) logger() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

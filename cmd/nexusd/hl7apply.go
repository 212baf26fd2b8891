package main

import (
	"context"
	"errors"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
)

// newApplier returns the Applier that maps HL7 v2 messages to FHIR with
// v2fhir and writes them to the clinical record. zone, when not nil,
// completes v2 times that carry no UTC offset.
func newApplier(svc *emr.Service, zone *time.Location) inbound.Applier {
	return mappingApplier{target: svc, opts: v2fhir.Options{DefaultZone: zone}}
}

// mappingApplier adapts v2fhir.Convert and v2fhir.Apply to inbound.Applier.
type mappingApplier struct {
	target v2fhir.Target
	opts   v2fhir.Options
}

func (a mappingApplier) Apply(ctx context.Context, msg *hl7v2.Message) (inbound.Outcome, error) {
	plan, err := v2fhir.Convert(msg, a.opts)
	if err != nil {
		return inbound.Outcome{}, ackError(err)
	}
	res, err := v2fhir.Apply(ctx, a.target, plan)
	if err != nil {
		return inbound.Outcome{}, ackError(err)
	}
	return inbound.Outcome{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged}, nil
}

// ackError turns a v2fhir error into the error kinds that inbound.Handler
// acknowledges: unsupported type or event (AR), located faults (AE), and
// any other error as internal (no ACK, so the sender retries).
func ackError(err error) error {
	var list v2fhir.ErrorList
	var one *v2fhir.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = v2fhir.ErrorList{one}
	case errors.Is(err, emr.ErrInvalid), errors.Is(err, emr.ErrConflict):
		// The record rejected the converted resources, which sending the
		// message again would not change, so it is acknowledged with AE.
		return &hl7v2.ParseError{Kind: hl7v2.KindOther, Offset: -1,
			Message: "the clinical record rejected the resources mapped from the message"}
	default:
		return err
	}
	for _, e := range list {
		switch e.Code {
		case v2fhir.CodeUnsupportedMessage:
			return inbound.ErrUnsupportedMessage
		case v2fhir.CodeUnsupportedEvent:
			return inbound.ErrUnsupportedEvent
		}
	}
	return hl7v2.ErrorList(list.ParseErrors())
}

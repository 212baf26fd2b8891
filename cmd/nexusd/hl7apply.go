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
	return inbound.Outcome{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Late: res.Late}, nil
}

// newBatchApplier returns the BatchApplier of the MLLP listener's group
// commits: the mapping of newApplier, with the duplicate check and record
// of inbound.RecordSeen, all in one emr.WriteBatch transaction.
func newBatchApplier(svc *emr.Service, zone *time.Location) inbound.BatchApplier {
	return batchApplier{svc: svc, opts: v2fhir.Options{DefaultZone: zone}}
}

type batchApplier struct {
	svc  *emr.Service
	opts v2fhir.Options
}

// ApplyBatch converts each message outside the transaction, because
// Convert does no I/O, and runs one unit per converted message.
func (a batchApplier) ApplyBatch(ctx context.Context, items []*inbound.BatchItem) error {
	units := make([]emr.BatchUnit, 0, len(items))
	owners := make([]*inbound.BatchItem, 0, len(items))
	for _, item := range items {
		plan, err := v2fhir.Convert(item.Message, a.opts)
		if err != nil {
			item.Err = ackError(err)
			continue
		}
		units = append(units, applyUnit(item, plan))
		owners = append(owners, item)
	}
	if len(units) == 0 {
		return nil
	}
	errs, err := a.svc.WriteBatch(ctx, units)
	if err != nil {
		return err
	}
	for i, item := range owners {
		if errs[i] != nil {
			item.Err = ackError(errs[i])
		}
	}
	return nil
}

// applyUnit returns the unit that checks, applies and records one message.
// It sets the item's fields anew on each run, because a batch may run
// again.
func applyUnit(item *inbound.BatchItem, plan *v2fhir.Plan) emr.BatchUnit {
	return func(ctx context.Context, svc *emr.Service) error {
		item.Outcome, item.Duplicate = inbound.Outcome{}, false
		seen := inbound.RecordSeen{Service: svc}
		done, err := seen.Seen(ctx, item.Key)
		if err != nil {
			return err
		}
		if done {
			item.Duplicate = true
			return nil
		}
		res, err := v2fhir.Apply(ctx, svc, plan)
		if err != nil {
			return err
		}
		item.Outcome = inbound.Outcome{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Late: res.Late}
		return seen.Record(ctx, item.Key)
	}
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
	case errors.Is(err, emr.ErrTransient):
		// A concurrent transaction may succeed when the sender resends.
		return err
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

package inbound_test

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
)

// countingBatches is a BatchApplier that accepts every message. A real one
// writes the batch in one transaction and commits before it returns.
type countingBatches struct{ batches int }

func (c *countingBatches) ApplyBatch(_ context.Context, items []*inbound.BatchItem) error {
	c.batches++
	for _, item := range items {
		item.Outcome = inbound.Outcome{Created: 1}
	}
	return nil
}

func ExampleGroupCommit() {
	applier := &countingBatches{}
	h := &inbound.Handler{
		Group: &inbound.GroupCommit{Applier: applier},
		Parse: hl7v2.ParseOptions{Lenient: true},
	}
	message := []byte("MSH|^~\\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|CTRL0002|P|2.5|||AL|AL\r" +
		"PID|1||100002^^^HOSP^MR||TESTER^AVA\r")
	res, err := h.Process(context.Background(), message)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Code, res.ApplicationCode, len(res.Replies()), applier.batches)
	// Output: CA AA 2 1
}

func ExampleExpectedACKs() {
	// MSH-15 requests a commit ACK always, MSH-16 an application ACK on
	// success only.
	hdr := &hl7v2.Header{AcceptAckType: "AL", ApplicationAckType: "SU"}
	fmt.Println(inbound.ExpectedACKs(hdr, hl7v2.AckAccept), inbound.ExpectedACKs(hdr, hl7v2.AckError))
	// Output: 2 1
}

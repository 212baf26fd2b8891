package inbound_test

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
)

func ExampleHandler_Process() {
	h := &inbound.Handler{
		Applier: inbound.ApplierFunc(func(ctx context.Context, msg *hl7v2.Message) (inbound.Outcome, error) {
			// A real Applier maps the message and commits it here.
			return inbound.Outcome{Created: 1}, nil
		}),
		Parse: hl7v2.ParseOptions{Lenient: true},
		Seen:  &inbound.MemorySeen{},
	}
	message := []byte("MSH|^~\\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|CTRL0001|P|2.5\r" +
		"PID|1||100001^^^HOSP^MR||TESTER^AVA\r")
	for range 2 {
		res, err := h.Process(context.Background(), message)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Code, res.Duplicate, res.Outcome)
	}
	// Output:
	// AA false created=1 updated=0 unchanged=0
	// AA true created=0 updated=0 unchanged=0
}

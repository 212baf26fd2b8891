package inbound_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/inbound"
	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
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

// Reply to a message over the MLLP server's maximum frame size, of which
// the server passes the first bytes.
func ExampleHandler_HandleTooLarge() {
	h := &inbound.Handler{
		Applier: inbound.ApplierFunc(func(ctx context.Context, msg *hl7v2.Message) (inbound.Outcome, error) {
			return inbound.Outcome{}, errors.New("an oversize message is never applied")
		}),
	}
	message := "MSH|^~\\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||MDM^T02^MDM_T02|CTRL0002|P|2.5\r" +
		"OBX|1|ED|PDF^Report||" + strings.Repeat("A", 2000) + "\r"
	frame := mllp.TooLargeFrame{Head: []byte(message[:1024]), Size: len(message), Limit: 1024}
	replies, err := h.HandleTooLarge(context.Background(), mllp.ConnInfo{}, frame)
	if err != nil {
		fmt.Println(err)
		return
	}
	ack, _ := hl7v2.Parse(replies[0], hl7v2.ParseOptions{})
	fmt.Println(ack.Get("MSA-1"), ack.Get("MSA-2"))
	fmt.Println(ack.Get("ERR-2"), ack.Get("ERR-3.1"))
	fmt.Println(ack.Get("ERR-7"))
	// Output:
	// AR CTRL0002
	// MSH^1 207
	// the message is 2103 bytes, more than the maximum message size of 1024 bytes
}

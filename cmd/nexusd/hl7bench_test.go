package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// mllpBenchRuns are the sub-benchmarks of BenchmarkMLLPAdmit: the MLLP
// connections that send at once, and whether each connection is its own
// sender (MSH-3) or all share one. One connection is the usual ADT feed of
// one registration system, which waits for each ACK. More connections give larger group
// commits, and several senders can use several group commit lanes.
var mllpBenchRuns = []struct {
	clients     int
	eachSenders bool
}{{1, false}, {4, false}, {16, false}, {16, true}}

// mllpTargetRate is the rate in messages per second that the ADT^A01
// benchmark should reach on 2 cores.
const mllpTargetRate = 2000

// mllpBenchRun numbers the runs of BenchmarkMLLPAdmit, so that each
// run sends control ids and record numbers that no run sent before.
var mllpBenchRun atomic.Int64

// BenchmarkMLLPAdmit sends ADT^A01 messages, each with its own control id
// and record number, to serve's MLLP listener over several connections.
// Each client waits for the ACK before it sends the next message, and
// serve commits the mapped Patient and Encounter before it sends AA, so
// msgs/s is the committed rate.
func BenchmarkMLLPAdmit(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			db := backend.Open(b)
			svc := migratedService(b, db)
			addr := startBenchMLLP(b, serveOptions{db: db, svc: svc})
			for _, r := range mllpBenchRuns {
				senders := 1
				if r.eachSenders {
					senders = r.clients
				}
				b.Run(fmt.Sprintf("clients=%d/senders=%d", r.clients, senders), func(b *testing.B) {
					benchAdmits(b, addr, r.clients, r.eachSenders)
				})
			}
		})
	}
}

// benchAdmits sends b.N admissions over n connections to addr. With
// eachSender, connection i sends as application ADTi.
func benchAdmits(b *testing.B, addr string, n int, eachSender bool) {
	clients := make([]*mllp.Client, n)
	for i := range clients {
		var err error
		clients[i], err = mllp.Dial(context.Background(), addr, mllp.ClientOptions{AckTimeout: 30 * time.Second})
		require.NoError(b, err)
		b.Cleanup(func() { clients[i].Close() })
	}

	run := mllpBenchRun.Add(1)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for i, client := range clients {
		sender := "ADT"
		if eachSender {
			sender = fmt.Sprintf("ADT%d", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				if err := sendAdmit(client, sender, fmt.Sprintf("B%d-%d", run, n)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(rate/mllpTargetRate, "x-target")
}

// sendAdmit sends an ADT^A01 from application sender with control id and
// record number id and checks that the ACK accepts it.
func sendAdmit(client *mllp.Client, sender, id string) error {
	message := strings.Replace(admitMessage(id, "MRN-"+id), "MSH|^~\\&|ADT|", "MSH|^~\\&|"+sender+"|", 1) +
		"PV1|1|I|WARD^101^1\r"
	ack, err := client.Send(context.Background(), []byte(message))
	if err != nil {
		return fmt.Errorf("send control id %s: %w", id, err)
	}
	code, controlID, err := mllp.AckCode(ack)
	if err != nil {
		return fmt.Errorf("read ACK of control id %s: %w", id, err)
	}
	if code != "AA" || controlID != id {
		return fmt.Errorf("ACK of control id %s: MSA-1 %s and MSA-2 %s, expected AA and %s", id, code, controlID, id)
	}
	return nil
}

// startBenchMLLP runs serve on loopback ports with the MLLP listener and
// the v2 to FHIR mapping, stops it at cleanup and returns the MLLP
// address.
func startBenchMLLP(b *testing.B, o serveOptions) string {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	mllpReady := make(chan string, 1)
	done := make(chan error, 1)
	o.addr, o.ready, o.shutdown, o.log = "127.0.0.1:0", ready, 5*time.Second, slog.New(slog.DiscardHandler)
	o.mllp.addr, o.mllp.ready, o.mllp.lenient = "127.0.0.1:0", mllpReady, true
	go func() { done <- serve(ctx, o) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("serve: %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		b.Fatalf("serve: %v", err)
	}
	return <-mllpReady
}

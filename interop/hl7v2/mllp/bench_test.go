package mllp_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// echo is a handler that returns the message as its ACK, so the benchmark
// measures framing and transport only.
var echo = mllp.HandlerFunc(func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
	return message, nil
})

// BenchmarkLoopbackEcho sends frames one at a time through a loopback
// server and reports completed exchanges (message and ACK) per second.
func BenchmarkLoopbackEcho(b *testing.B) {
	addr := startServer(b, &mllp.Server{Handler: echo, IdleTimeout: time.Minute, ReadTimeout: time.Minute})
	message := testMessage("CTRL0001")

	b.Run("one connection", func(b *testing.B) {
		client := dialClient(b, addr, mllp.ClientOptions{})
		b.SetBytes(int64(len(message)))
		b.ReportAllocs()
		start := time.Now()
		for b.Loop() {
			if _, err := client.Send(context.Background(), message); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
	})

	b.Run("parallel connections", func(b *testing.B) {
		b.SetBytes(int64(len(message)))
		b.ReportAllocs()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			client, err := mllp.Dial(context.Background(), addr, mllp.ClientOptions{})
			if err != nil {
				b.Error(err)
				return
			}
			defer client.Close()
			for pb.Next() {
				if _, err := client.Send(context.Background(), message); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "frames/s")
	})
}

// BenchmarkDecoder decodes frames from memory, without a network.
func BenchmarkDecoder(b *testing.B) {
	const framesPerStream = 100
	var stream []byte
	for range framesPerStream {
		stream = mllp.AppendFrame(stream, testMessage("CTRL0001"))
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		dec := mllp.NewDecoder(bytes.NewReader(stream), mllp.DecoderConfig{})
		for range framesPerStream {
			if _, err := dec.ReadFrame(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*framesPerStream)/b.Elapsed().Seconds(), "frames/s")
}

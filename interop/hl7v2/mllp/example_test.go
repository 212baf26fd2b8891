package mllp_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

// Serve on a loopback port, send one ADT message and read the code of its
// ACK.
func Example() {
	handler := mllp.HandlerFunc(func(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
		// A real handler parses and commits the message here, before the
		// ACK goes out. This one copies MSH-10 into MSA-2.
		header, _, _ := bytes.Cut(message, []byte("\r"))
		controlID := strings.Split(string(header), "|")[9]
		ack := "MSH|^~\\&|EHR|HOSP|ADTSYS|HOSP|20240314101011||ACK^A01^ACK|ACK" + controlID + "|P|2.5\r" +
			"MSA|AA|" + controlID + "\r"
		return []byte(ack), nil
	})
	server := &mllp.Server{Handler: handler, ReadTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go server.Serve(ln)
	defer server.Shutdown(context.Background())

	ctx := context.Background()
	client, err := mllp.Dial(ctx, ln.Addr().String(), mllp.ClientOptions{AckTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	message := "MSH|^~\\&|ADTSYS|HOSP|EHR|HOSP|20240314101010||ADT^A01^ADT_A01|CTRL0012|P|2.5\r" +
		"EVN|A01|20240314101010\r" +
		"PID|1||MRN0001^^^HOSP^MR||DOE^JANE\r"
	ack, err := client.SendWithRetry(ctx, []byte(message), mllp.RetryPolicy{Attempts: 3})
	if err != nil {
		log.Fatal(err)
	}
	code, controlID, err := mllp.AckCode(ack)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(code, controlID)
	// Output: AA CTRL0012
}

func ExampleAckCode() {
	ack := []byte("MSH|^~\\&|EHR|HOSP|ADTSYS|HOSP|20240314101010||ACK^A01^ACK|ACK0012|P|2.5\r" +
		"MSA|AE|CTRL0012\r")
	code, controlID, err := mllp.AckCode(ack)
	if err != nil {
		log.Fatal(err)
	}
	accepted := code == "AA" || code == "CA"
	fmt.Println(code, controlID, accepted)
	// Output: AE CTRL0012 false
}

func ExampleWriteFrame() {
	var stream bytes.Buffer
	for _, message := range []string{"MSH|^~\\&|A\r", "MSH|^~\\&|B\r"} {
		if err := mllp.WriteFrame(&stream, []byte(message)); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%q\n", stream.String())
	// Output: "\vMSH|^~\\&|A\r\x1c\r\vMSH|^~\\&|B\r\x1c\r"
}

func ExampleDecoder() {
	stream := "\n\x0bMSH|^~\\&|A\r\x1c\r\x0bMSH|^~\\&|B\r\x1c\r"
	dec := mllp.NewDecoder(strings.NewReader(stream), mllp.DecoderConfig{MaxFrame: 1024})
	for {
		message, err := dec.ReadFrame()
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Printf("%q\n", message)
	}
	fmt.Println("skipped bytes:", dec.Skipped())
	// Output:
	// "MSH|^~\\&|A\r"
	// "MSH|^~\\&|B\r"
	// EOF
	// skipped bytes: 1
}

func ExampleServer_Shutdown() {
	server := &mllp.Server{Handler: mllp.HandlerFunc(
		func(context.Context, mllp.ConnInfo, []byte) ([]byte, error) {
			return []byte("MSH|^~\\&|EHR\rMSA|AA|CTRL0001\r"), nil
		})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()

	// Shutdown waits for messages being handled, up to the context's
	// deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-served)
	// Output: mllp: server closed
}

// replyTwice is a ReplyHandler that replies to every message with a commit
// ACK and an application ACK, as HL7 enhanced mode with MSH-15 and MSH-16
// set to AL requests.
type replyTwice struct{}

func (replyTwice) HandleMessage(ctx context.Context, conn mllp.ConnInfo, message []byte) ([]byte, error) {
	replies, err := replyTwice{}.HandleReplies(ctx, conn, message)
	if err != nil {
		return nil, err
	}
	return replies[0], nil
}

func (replyTwice) HandleReplies(_ context.Context, _ mllp.ConnInfo, message []byte) ([][]byte, error) {
	header, _, _ := bytes.Cut(message, []byte("\r"))
	controlID := strings.Split(string(header), "|")[9]
	ack := func(code string) []byte {
		return []byte("MSH|^~\\&|EHR|HOSP|ADTSYS|HOSP|20240314101011||ACK^A01^ACK|" + code + controlID + "|P|2.5\r" +
			"MSA|" + code + "|" + controlID + "\r")
	}
	return [][]byte{ack("CA"), ack("AA")}, nil
}

func ExampleClient_SendReplies() {
	server := &mllp.Server{Handler: replyTwice{}, ReadTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go server.Serve(ln)
	defer server.Shutdown(context.Background())

	ctx := context.Background()
	client, err := mllp.Dial(ctx, ln.Addr().String(), mllp.ClientOptions{AckTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	message := "MSH|^~\\&|ADTSYS|HOSP|EHR|HOSP|20240314101010||ADT^A01^ADT_A01|CTRL0013|P|2.5|||AL|AL\r" +
		"PID|1||MRN0001^^^HOSP^MR||DOE^JANE\r"
	replies, err := client.SendReplies(ctx, []byte(message), 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, reply := range replies {
		code, controlID, _ := mllp.AckCode(reply)
		fmt.Println(code, controlID)
	}
	// Output:
	// CA CTRL0013
	// AA CTRL0013
}

// Retry an exchange of two steps, the commit ACK and the application ACK
// that follows it, so that a timeout of either step sends the message
// again on a new connection.
func ExampleClient_Retry() {
	server := &mllp.Server{Handler: replyTwice{}, ReadTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go server.Serve(ln)
	defer server.Shutdown(context.Background())

	ctx := context.Background()
	client, err := mllp.Dial(ctx, ln.Addr().String(), mllp.ClientOptions{AckTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	message := "MSH|^~\\&|ADTSYS|HOSP|EHR|HOSP|20240314101010||ADT^A01^ADT_A01|CTRL0014|P|2.5|||AL|AL\r" +
		"PID|1||MRN0001^^^HOSP^MR||DOE^JANE\r"
	var codes []string
	err = client.Retry(ctx, mllp.RetryPolicy{Attempts: 3}, func(ctx context.Context) error {
		commit, err := client.Send(ctx, []byte(message))
		if err != nil {
			return err
		}
		application, err := client.Receive(ctx)
		if err != nil {
			return err
		}
		codes = codes[:0]
		for _, ack := range [][]byte{commit, application} {
			code, _, _ := mllp.AckCode(ack)
			codes = append(codes, code)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(codes)
	// Output: [CA AA]
}

// rejectingHandler acknowledges every message with AA and rejects a frame
// over Server.MaxFrame with AR, addressed from MSH-10 in its first bytes.
type rejectingHandler struct{}

func (rejectingHandler) HandleMessage(_ context.Context, _ mllp.ConnInfo, message []byte) ([]byte, error) {
	return exampleACK("AA", message), nil
}

func (rejectingHandler) HandleTooLarge(_ context.Context, _ mllp.ConnInfo, frame mllp.TooLargeFrame) ([][]byte, error) {
	// A real handler parses the MSH segment, and returns an error, which
	// closes the connection, when Head does not contain all of it.
	return [][]byte{exampleACK("AR", frame.Head)}, nil
}

// exampleACK returns an ACK with code to the message whose MSH segment
// starts message.
func exampleACK(code string, message []byte) []byte {
	header, _, _ := bytes.Cut(message, []byte("\r"))
	controlID := strings.Split(string(header), "|")[9]
	return []byte("MSH|^~\\&|EHR|HOSP|ADTSYS|HOSP|20240314101011||ACK^A01^ACK|ACK" + controlID + "|P|2.5\r" +
		"MSA|" + code + "|" + controlID + "\r")
}

// Reject a message over the maximum frame size with AR, and go on with
// the next message on the same connection.
func ExampleTooLargeHandler() {
	server := &mllp.Server{Handler: rejectingHandler{}, MaxFrame: 256, ReadTimeout: 30 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go server.Serve(ln)
	defer server.Shutdown(context.Background())

	ctx := context.Background()
	client, err := mllp.Dial(ctx, ln.Addr().String(), mllp.ClientOptions{AckTimeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	header := "MSH|^~\\&|ADTSYS|HOSP|EHR|HOSP|20240314101010||ADT^A01^ADT_A01|%s|P|2.5\r"
	large := fmt.Sprintf(header, "CTRL0013") + "OBX|1|ED|PDF^Report||" + strings.Repeat("A", 300) + "\r"
	small := fmt.Sprintf(header, "CTRL0014")
	for _, message := range []string{large, small} {
		ack, err := client.Send(ctx, []byte(message))
		if err != nil {
			log.Fatal(err)
		}
		code, controlID, err := mllp.AckCode(ack)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(code, controlID)
	}
	// Output:
	// AR CTRL0013
	// AA CTRL0014
}

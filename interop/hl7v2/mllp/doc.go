// Package mllp carries HL7 v2 messages over TCP with the Minimal Lower
// Layer Protocol (MLLP). A Server passes each received message to a
// Handler and writes the ACK that the handler returns. A Client sends a
// message and waits for its ACK.
//
// # Framing
//
// A frame is a start block VT (0x0B), the message bytes, an end block FS
// (0x1C) and a carriage return CR (0x0D). The server and the client read
// frames with the same Decoder:
//
//   - It buffers across reads, so a frame split over several TCP segments
//     yields one message, and several frames in one segment yield several
//     messages in order.
//   - Bytes before a start block are skipped, counted (Decoder.Skipped) and
//     reported to DecoderConfig.OnSkip. The server logs them. A start block
//     inside a frame abandons the partial frame, which counts as skipped.
//   - A frame ends at the first FS followed by CR. An FS followed by any
//     other byte stays in the content, for the parser to reject.
//   - The end of the stream, a timeout or a read error inside a frame is an
//     error wrapping ErrIncompleteFrame, and the partial bytes are dropped.
//
// WriteFrame writes one frame and rejects a message that contains VT or FS.
//
// The package never decodes character sets, which is the parser's job:
// frames are bytes, and a UTF-8 payload passes unchanged, because no byte of
// a multi-byte UTF-8 sequence is below 0x80. UTF-16 payloads are not
// supported, because MLLP framing with single-byte VT and FS cannot carry
// them: their bytes may contain 0x0B, 0x1C and 0x0D.
//
// # Ordering and acknowledgment
//
// The server reads one frame at a time per connection and does not read the
// next frame before the ACK of the previous one has been written. So the
// messages of one connection reach the handler one after another, in the
// order they were sent. The ACK is written only after Handler.HandleMessage
// returns, so an application that commits before returning acknowledges
// only committed messages. When the handler returns an error and no ACK,
// the connection is closed without an acknowledgment and the sender
// resends. The server then sends FIN first and discards further input for
// up to 2 seconds before it closes, so that the ACKs of earlier messages
// reach a sender that pipelines, instead of being lost to a TCP reset.
// Delivery is therefore at least once, so a receiver should discard
// duplicates by their control id (MSH-10).
//
// A handler that implements ReplyHandler may return several replies, such
// as the commit ACK and then the application ACK of HL7 enhanced mode. The
// server writes them in order as separate frames. It may also return none,
// for a message whose sender requested no ACK. Client.SendReplies reads a
// given number of replies, and Client.Receive reads one more frame.
//
// # Limits
//
//   - MaxFrame (default DefaultMaxFrame, 1 MiB) bounds the content of one
//     frame, and with it the memory of each connection. When the handler
//     implements TooLargeHandler, the server reads a larger frame to its
//     end block and discards it, keeping only its first MaxFrame bytes.
//     It does so while the content stays within MaxDiscardFactor (4) times
//     MaxFrame and no start block interrupts it. The handler then gets
//     those bytes, the size and the limit, and may reply, such as with an
//     HL7 AR, so that the sender stops resending a message that can never
//     fit. The connection then goes on with the next frame. Without a
//     TooLargeHandler, or when the frame passes the bound, times out or is
//     interrupted, the server closes the connection without a reply. It
//     does not resynchronise at a VT inside an oversize frame, because the
//     rest of the frame may contain bytes that look like a frame, and a
//     truncated message is never passed to HandleMessage.
//   - More than MaxFrame bytes without a start block are rejected with
//     ErrNoStartBlock, so a peer that does not speak MLLP cannot hold a
//     connection by sending data.
//   - Server.IdleTimeout bounds the silence between and inside frames, and
//     Server.ReadTimeout bounds the time to receive one whole frame, which
//     stops a sender that drips one byte per idle period. Both are off by
//     default, because MLLP senders often keep a connection open and idle
//     for hours. Set ReadTimeout on servers reachable by untrusted peers.
//   - Server.MaxConnections bounds the open connections, and
//     Server.MaxConnectionsPerIP (default DefaultMaxConnectionsPerIP, 32)
//     the open connections from one remote IP address. A connection
//     accepted beyond either is closed at once, with a warning logged at
//     most once a second that counts the rejections.
//   - ClientOptions.AckTimeout (default DefaultAckTimeout, 30 s) bounds one
//     Send.
//
// # Concurrency
//
// A Server serves each connection in its own goroutine, so the handler is
// called concurrently for different connections, and must be safe for
// that. Server methods are safe for concurrent use. Shutdown lets messages
// being handled finish and their ACKs go out, and drops frames still being
// received. A Client is safe for concurrent use and sends one message at a
// time. A Decoder is not safe for concurrent use.
//
// # Logging
//
// Server and Client log through log/slog. They log connections opened and
// closed, with their remote address and connection id, and they log
// timeouts, oversize frames, handler errors and retries. The warning about
// an oversize frame advises raising the maximum frame size and names the
// setting given in Server.MaxFrameSetting. The first run of skipped bytes
// on a connection is logged at warning level and later runs at debug
// level, and the line of the closed connection has the total. No log line
// and no error text of this package contains message bytes. A handler's error is logged as it is, so it must not
// contain patient data either.
//
// # Known limits
//
//   - Only HL7 ACK messages are exchanged. MLLP variants that acknowledge
//     with a single-byte ACK or NAK block in place of an ACK message are not
//     supported, and batches (FHS and BHS) are framed like any other
//     message. A sender cannot tell from the frames alone whether an ER or
//     SU condition will produce a reply, so the count it reads is its own
//     choice.
//   - Send does not check that MSA-2 of the ACK matches MSH-10 of the
//     message. Callers can compare them with AckCode.
//   - The server reads nothing while a handler runs, so it notices a
//     sender that closed its connection only after the handler returns.
package mllp

// Package inbound turns a received HL7 v2 message into an applied change
// and an acknowledgement. Handler parses the message, passes it to an
// Applier that writes its effects, and builds the ACK. It implements
// mllp.Handler, and Process runs the same steps for messages read from
// files.
//
// # Acknowledgement
//
// Original mode (MSH-15 and MSH-16 empty) replies with one application
// ACK: AA once the Applier has committed the message, AE for an error in
// the message, and AR for a message that cannot be processed at all. Such
// a message has an unsupported version, encoding characters or message
// type, or a header only partly readable.
//
// Enhanced mode (MSH-15 or MSH-16 not empty) replies with up to two ACKs,
// each its own message, over the same connection and in this order:
//
//   - the commit ACK, when MSH-15 requests it: CA once the message is
//     committed, CE for an error in the message, CR for a rejection;
//   - the application ACK, when MSH-16 requests it: AA, AE or AR, for the
//     same outcome, unless a CE or CR was sent, because a message that was
//     not accepted for processing gets no application ACK.
//
// Both conditions take the values of HL7 table 0155: AL always, NE never,
// ER only for CE/CR or AE/AR, SU only for CA or AA. An empty condition
// requests nothing, and an unknown one is treated as AL, because its
// sender most likely waits for an ACK. Strict parsing also rejects an
// unknown one with AE (or CE) and ERR code 103 at MSH-15 or MSH-16. The effects of a message are
// applied and committed in one step, so both ACKs are built after the
// commit, and neither a CA nor an AA is ever sent for a message that is
// not committed. A message that requests no ACK gets none, and the MLLP
// connection stays open (see mllp.ReplyHandler). Result.Replies lists what
// to send, and ExpectedACKs returns how many frames a sender reads.
//
// Every ACK has MSA-2 set to the message's MSH-10, and MSH-3 and MSH-4
// swapped with MSH-5 and MSH-6. ERR segments locate each fault by segment,
// occurrence, field, repetition and component in ERR-2, give the HL7
// table 0357 code in ERR-3, the severity in ERR-4 and the rule that failed
// in ERR-7, and never carry a value of the message. A message whose MSH-2
// (encoding characters) is invalid and whose MSH-10 (control id) is not
// empty gets an AR (or CR) whose only ERR segments locate MSH-2, written
// with the default delimiters "|^~\&", because its own cannot be trusted.
//
// A header with a valid MSH-2 and an empty MSH-10 gets an AR whose ERR
// names MSH-10, so the sender stops resending a message that can never
// succeed. Input with no readable header gets no ACK, because such an ACK
// could not be matched by the sender: Process returns ErrNoControlID and
// the MLLP server closes the connection. A header is unreadable when the
// input does not start with an MSH segment, or when both its MSH-2 and
// its MSH-10 are unusable, as in the bare segment "MSH|".
//
// A message over the MLLP server's maximum frame size reaches
// HandleTooLarge with only its first bytes. When they contain its whole
// MSH segment, it gets the AR (or CR) that Process gives a message over
// Parse.Limits.MaxMessageBytes, whose ERR at MSH^1 states the size and the
// limit, and the connection carries the next message. The rules above for
// an unreadable header, an empty MSH-10 and a received ACK apply first.
// Such a message is never applied.
//
// An Applier reports every fault of the message's content, including a
// rejection by the clinical record (an identifier that matches two stored
// patients, an invalid or forbidden resource), as a located
// *hl7v2.ParseError, which gets an AE or CE with its ERR segment. Only an
// Applier error that is not located, such as a database that is down, is
// returned without an ACK, so the sender retries later. The MLLP server
// then closes the connection after the ACKs it already wrote (see mllp). The Applier
// commits before it returns, so an AA or CA is sent only for committed
// messages.
//
// # Duplicates and order
//
// Delivery over MLLP is at least once. A message whose sender (MSH-3 and
// MSH-4), control id (MSH-10) and bytes were already applied is
// acknowledged again without being applied twice. A reused control id
// with other content is applied. Without a Group, the SeenStore records
// the message after Apply returns, so a crash between the two applies the
// message again when it is resent. Mappings that write with conditional
// updates make this harmless. With a Group, the record is written in the
// transaction of the message's effects. RecordSeen stores the record in
// the clinical record as MessageHeader resources, and MemorySeen keeps it
// in memory.
//
// Messages of one sender are applied one at a time, in the order they
// arrive, even across connections. Messages of different senders run
// concurrently.
//
// # Group commit
//
// With Handler.Group set, messages are applied in group commits: the
// messages that arrive on all connections while one transaction runs are
// applied together in the next, up to GroupCommit.MaxBatch (64 by
// default). The BatchApplier checks each message's key, applies it and
// records the key in that one transaction, so a crash can no longer
// separate a message's effects from its record. Each message is isolated:
// a message that fails gets its AE or AR (or no ACK, for an internal
// error), and the others commit. Every ACK of a batch is built only after
// its transaction commits, and a batch that fails to commit sends no ACK
// for any of its messages, so their senders resend them.
//
// The order of a sender's messages is kept, because a message enters the
// queue while its sender's lock is held, the lock is released once it is
// queued, and batches commit in queue order. A later message of the same
// sender can so share the transaction of an earlier one. A batch runs
// with the context of the message that leads it (see GroupCommit).
// GroupCommit.Lanes runs the batches of different senders concurrently,
// each sender always in the same lane, for databases with concurrent
// writers.
//
// # Concurrency
//
// A Handler is safe for concurrent use once its fields are set, and its
// fields must not change afterwards. The Applier, the SeenStore and the
// BatchApplier must be safe for concurrent use. A BatchApplier is called
// for one batch at a time per lane.
//
// # Logging
//
// Each message is logged with its type (MSH-9), control id, sender,
// acknowledgement code and duration, and errors with their HL7 location,
// kind and ParseError.Message, which names the cause without a value.
// No other field of a message is logged. Errors of the Applier and the
// SeenStore are logged as they are, so they must not contain patient data.
package inbound

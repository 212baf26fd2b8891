// Package inbound turns a received HL7 v2 message into an applied change
// and an acknowledgement. Handler parses the message, passes it to an
// Applier that writes its effects, and builds the ACK. It implements
// mllp.Handler, and Process runs the same steps for messages read from
// files.
//
// # Acknowledgement
//
// Original mode (MSH-15 and MSH-16 empty) replies with an application
// ACK. It is AA once the Applier has committed the message, AE for an
// error in the message, and AR for a message that cannot be processed at
// all: an unsupported version, encoding characters or message type, or a
// header only partly readable. Enhanced mode (MSH-15 or MSH-16 not empty)
// replies with a commit ACK: CA once the message is stored, CE or CR on
// error. The handler always sends the commit ACK, whatever MSH-15 requests
// (AL, ER, SU or NE), because an MLLP sender waits for one frame per
// message. It never sends an application ACK in enhanced mode, because
// that needs a connection back to the sender, which this package does not
// open. ERR segments locate each fault by segment and field, and never
// carry a value of the message.
//
// A readable header with an empty MSH-10 (control id) gets an AR whose ERR
// names MSH-10, so the sender stops resending a message that can never
// succeed. Input with no readable header gets no ACK, because such an ACK
// could not be matched by the sender: Process returns ErrNoControlID and
// the MLLP server closes the connection.
//
// An Applier error that is not located (a database that is down, say) is
// returned without an ACK, so the sender retries later. The Applier
// commits before it returns, so an AA or CA is sent only for committed
// messages.
//
// # Duplicates and order
//
// Delivery over MLLP is at least once. A message whose sender (MSH-3 and
// MSH-4), control id (MSH-10) and bytes were already applied is
// acknowledged again without being applied twice. A reused control id
// with other content is applied. The SeenStore records the message
// after Apply returns, so a crash between the two applies the message
// again when it is resent; mappings that write with conditional updates
// make this harmless. RecordSeen keeps the record in the clinical record
// as MessageHeader resources and MemorySeen keeps it in memory.
//
// Messages of one sender are applied one at a time, in the order they
// arrive, even across connections. Messages of different senders run
// concurrently.
//
// # Concurrency
//
// A Handler is safe for concurrent use once its fields are set, and its
// fields must not change afterwards. The Applier and the SeenStore must be
// safe for concurrent use.
//
// # Logging
//
// Each message is logged with its type (MSH-9), control id, sender,
// acknowledgement code and duration, and errors with their HL7 location.
// No other field of a message is logged. Errors of the Applier and the
// SeenStore are logged as they are, so they must not contain patient data.
package inbound

// Package hl7v2 parses and writes HL7 v2 messages (versions 2.1 to 2.9.1)
// in the pipe-delimited encoding, strictly by the standard or leniently for
// the deviations real senders make, and builds acknowledgements.
//
// # Coverage
//
// Parse reads one message and ParseFile reads several messages and batch
// files (FHS, BHS, BTS, FTS). The tree is Message → Segment → Field →
// Repetition → Component → Subcomponent, and every level returns both its
// encoded text (Raw) and its decoded text (Text). A Path such as
// "OBX(2)-5", "PID-3[2].4" or "PID-3.4.1" reaches any part; see Path for
// the grammar. Lookup distinguishes absent, empty ("||") and the explicit null
// ("\"\""). Set and SetNull edit a message, and Encode writes it.
// ParseHeader reads only MSH for routing, and BuildACK builds the
// acknowledgement of a message, with the default delimiters when the
// message's MSH-1 or MSH-2 is invalid.
// DateTime holds DTM values with their precision and offset and converts
// them to FHIR dateTime.
//
// Delimiters come from MSH-1 and MSH-2. MSH-2 is read up to the next field
// separator. Its characters are taken by position (component, repetition,
// escape, subcomponent, truncation), so a short MSH-2 such as "^~&" means
// component "^", repetition "~" and escape "&", with no subcomponent
// separator. The standard lets a sender omit the characters it does not
// use. Missing positions are never filled with the usual characters, and
// the writer and BuildACK copy MSH-2 byte for byte. The fifth character
// (truncation, "#" in "^~\&#") is recorded but is not a delimiter. Field
// numbering does not change, so MSH-3 follows MSH-2.
//
// A message starts only at a segment that begins with "MSH" and a
// delimiter character, at the start of the input or after a segment
// terminator. "MSH" anywhere else (a facility called MSH, an assigning
// authority MSH_MRN) is data.
//
// Escape sequences are decoded once per leaf: \F\ \S\ \T\ \R\ \E\ and \P\
// (truncation) give the delimiter, \Xhh..\ gives the bytes of one sequence
// decoded in the message's character set (UTF-8 when that set is ASCII),
// \.br\ and \.sp n\ give LF characters, and \H\, \N\ and the other
// formatting commands are kept out of the decoded text. \Z..\ (locally
// defined) stays in the text as sent. Set escapes delimiters and control
// characters (CR as \X0D\, LF as \X0A\), and a truncation character only
// as the last character of a value.
//
// Character sets come from MSH-18: ASCII (the default when MSH-18 is
// empty), UNICODE UTF-8 and ISO 8859 parts 1 to 9 and 15. The text of the
// tree is UTF-8. The writer keeps the original bytes of segments that were
// not edited. Edited segments are encoded in the message's set, and a
// character the set cannot represent becomes \Xhh..\ when writing ASCII
// and is an error otherwise.
//
// # Strict and lenient
//
// Strict mode (ParseOptions{}) applies the standard:
//   - every segment, the last included, ends with CR; an LF or CRLF is a
//     "non-CR segment terminator" error and is reported once per input;
//   - no blank segments and no byte order mark;
//   - segment ids are three uppercase letters or digits followed by the
//     field separator;
//   - bytes must be valid in the declared character set;
//   - escape sequences must be complete and known;
//   - MSH-7, MSH-9, MSH-10, MSH-11 and MSH-12 are required, MSH-7 must be a
//     valid DTM, with a four-digit offset when it has one, and MSH-12 must be a known version
//     that allows the features used (the truncation character needs 2.7);
//   - MSH-15 and MSH-16 are empty or a code of HL7 table 0155 (AL, NE,
//     ER, SU).
//
// Lenient mode (ParseOptions{Lenient: true}) also accepts the following,
// recording each as a warning in Message.Warnings unless noted:
//   - LF and CRLF terminators: CR and CRLF always end a segment, and a lone
//     LF does too when the input has no CR without an LF after it (else the
//     LF is data);
//   - blank or whitespace-only lines, anywhere (warned only inside a
//     message), and a leading UTF-8 byte order mark (not warned);
//   - a missing final terminator (not warned);
//   - bytes that are invalid in the declared set: the message is then read
//     as UTF-8 if it is valid UTF-8, else as ISO 8859-1;
//   - common spellings of MSH-18 such as "UTF-8", and unsupported sets
//     (read as UTF-8);
//   - escape sequences it cannot decode, which stay in the text as sent;
//   - a short MSH-7 offset (+08), missing required MSH fields, an unknown
//     2.x version, the truncation character before 2.7, and MSH-15 or
//     MSH-16 values outside table 0155, which inbound reads as AL.
//
// Both modes reject invalid segment ids, invalid encoding characters (an
// empty MSH-2 included), an MSH-12 that is not an HL7 v2 version (such as 1.0), input without MSH and
// exceeded limits. Output always uses CR.
//
// # Errors and limits
//
// Parse collects errors instead of stopping at the first. Each
// *ParseError carries its Kind, segment id, segment position, field,
// repetition, component, subcomponent and byte offset, and never a value
// from the message, so errors and ACKs are safe to log. Its Message names
// the failed rule in words, not in Go identifiers, because BuildACK sends
// it to the sender in ERR-7. The limits bound what one message from an
// unauthenticated peer can cost, because the tree takes several times the
// memory of its input: Limits.MaxMessageBytes (1
// MiB), MaxSegments (10,000), MaxFieldBytes (64 KiB), MaxFileBytes (64
// MiB, for ParseFile) and MaxErrors (100). Raise MaxFieldBytes and
// MaxMessageBytes for messages that embed documents.
//
// BuildACK writes one ERR per error, with ERR-2 as segment id, sequence,
// field, repetition, component and subcomponent. Every error about one
// segment names that segment whenever its id is valid, with its occurrence
// among the segments of the message with that id as sequence. This covers
// a wrong terminator, a missing final CR and a byte that is invalid in the
// character set, which is also located at its field and component. A
// segment whose id is a standard id in the wrong case ("pid") is named as
// sent, with its occurrence among segments of that spelling. A blank
// segment, or one with any other id, has an empty segment id and its
// position in the message in place of the sequence, counting every
// segment from MSH as 1, blank ones included. Such an id is left out
// because its first characters may be patient data cut off by a stray
// terminator. A fault of the whole input or of the bytes before MSH (the
// size, a byte order mark, a blank line or segment before MSH) is located
// at MSH^1, because ERR-2 cannot point outside the message.
//
// # Timestamps
//
// ParseDateTime reads YYYY[MM[DD[HH[MM[SS[.S{1,4}]]]]]][+/-ZZZZ] and keeps
// the precision and whether an offset was sent. FHIR output keeps the
// precision of dates (with no zone) and the fraction digits and offset of
// times. FHIR requires seconds whenever a time is present, so hour and
// minute precision are written with zero seconds. A time of day without an
// offset is never converted silently: Complete and Message.DateTimeIn take
// a default location (DateTimeIn falls back to MSH-7's offset) and return
// ErrNoTimeZone when none is known.
//
// # Cost
//
// Parse splits each segment into fields in one pass over its bytes and
// builds no strings, because every value is a substring of one copy of the
// message. A field with separators but no escape character is split into
// repetitions and components when it is first read, because splitting it
// cannot find an error. A field with an escape character is split and
// decoded by Parse, so that its escape errors are reported at once. Empty
// values share one node. Parsing a typical 1 KB ADT^A01 allocates about
// 11 KB in 16 objects (BenchmarkParseADT1K).
//
// # Concurrency
//
// Parse, ParseFile, ParseHeader and BuildACK are safe for concurrent use. A
// Message may be read from several goroutines, because the first read of
// an unsplit field splits it under a lock of its Message. Set and SetNull
// must not run concurrently with any other use of the same Message.
//
// # Known gaps
//
//   - No message structure definitions: segment order, groups, data types
//     and field optionality are not validated, except for the MSH fields
//     listed above. Only MSH-7 is checked as a timestamp during parsing.
//   - Character set switching (MSH-18 repetitions, MSH-20, \C..\ and \M..\)
//     and the multi-byte sets (ISO IR87, GB 18030, BIG-5, UTF-16) are not
//     supported.
//   - A raw "&" in text fields is always split as a subcomponent separator,
//     as the standard says; there is no option to keep it literal.
//   - The ACK fills ERR-2 to ERR-4 (defined from v2.5) for every version;
//     receivers of older versions that read ERR-1 see an empty field.
//   - The XML encoding of HL7 v2 is not supported.
package hl7v2

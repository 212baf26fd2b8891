// Package v2fhir maps HL7 v2 ADT and ORU^R01 messages onto the FHIR R4
// clinical record of package emr.
//
// Convert turns a parsed *hl7v2.Message into a Plan without any I/O. The
// Plan holds a FHIR transaction Bundle of conditional creates and
// conditional updates, whose resources refer to each other by conditional
// references. It also holds the A40 merges and a MessageKey (MSH-3, MSH-4,
// MSH-10) that a caller can use to detect an exact resend. Apply runs a
// Plan against a Target, which *emr.Service implements.
//
// # Mapping
//
// The mapping follows the HL7 V2-to-FHIR implementation guide (STU1),
// ConceptMaps included, except where listed under Differences.
//
//   - ADT A01, A02, A03, A04, A05, A06, A07, A08, A11, A12, A13, A28, A31
//     and A40. PID gives the Patient: identifiers from PID-3 (else PID-2 or
//     PID-4) with their assigning authorities, every name of PID-5 with
//     its use from the name type, birth date PID-7 at the precision sent
//     (day at most), sex PID-8, addresses PID-11, phones and e-mail
//     PID-13 (home) and PID-14 (work), marital status PID-16 and deceased
//     PID-29 or PID-30.
//   - PV1 gives the Encounter: class from PV1-2, status from the event
//     (A01, A02, A04, A06, A07, A12 and A13 in-progress, A05 planned, A03
//     finished, A11 cancelled), period from PV1-44 and PV1-45 (else, for
//     A01 and A04 the start and for A03 the end, EVN-6, EVN-2 or MSH-7),
//     the location PV1-3 as a Reference with an identifier and a display
//     on Encounter.location (no Location resource), the attending,
//     referring, consulting and admitting doctors (PV1-7, 8, 9, 17) as
//     Practitioners conditional on XCN-1 with its authority, and the
//     discharge disposition PV1-36. A28 and A31 write only the Patient, and
//     A08 writes the Encounter only when PV1-19 is sent. Each location's
//     period starts at the event that moves the patient there and ends at
//     the event that moves the patient on (EVN-6, EVN-2 or MSH-7).
//   - PR1 gives a Procedure with code PR1-3, text PR1-4 and time PR1-5.
//   - A40 merges the patient found by MRG-1 into the one found by PID-3
//     with emr's Merge, which links the source as replaced-by. Both must
//     be stored: the A40 updates the surviving patient from PID but never
//     creates it, because an A40 joins two existing records (a change of
//     patient identifier is A47, which is not mapped).
//   - ORU^R01: each OBX gives an Observation and each OBR a DiagnosticReport
//     (code OBR-4, status OBR-25, effective OBR-7, issued OBR-22 else
//     MSH-7, result the Observations of the OBR), both with the subject found by PID-3.
//     OBX-5 maps by OBX-2: NM to valueQuantity with the decimal written
//     exactly as sent, ST, TX and FT to valueString, CE, CWE and CNE to
//     valueCodeableConcept, SN to valueQuantity with comparator, valueRange
//     or valueRatio, DT, TS and DTM to valueDateTime. Units OBX-6 take the
//     UCUM system when the coding system is UCUM or the unit is a known MDC
//     unit. OBX-7 gives referenceRange low and high ("1.5-7.0") or text,
//     OBX-8 interpretation, OBX-11 status, OBX-14 (else OBR-7) the
//     effective time, OBR-22 (else MSH-7) the issued time, OBX-16
//     performers and OBX-18 the Device.
//   - Vital signs in the IHE PCD-01 style: an MDC code in OBX-3 keeps its
//     coding, gets the matching LOINC codes of the FHIR vital signs
//     profile after it and the vital-signs category, and MDC units become
//     UCUM. An EUI-64 in OBX-18 identifies the Device.
//   - IHE PCD-01 device rows describe the device containment tree
//     (MDS.VMD.channel.metric in OBX-4) rather than a measurement. Such a
//     row has an MDC code in OBX-3, no OBX-2 and no OBX-5. Its OBX-4 has
//     four levels with a metric level of 0: 1.0.0.0 for the medical device
//     system (MDS), 1.2.0.0 for a virtual medical device (VMD) and 1.2.1.0
//     for a channel. It gives no Observation, whatever its OBX-11.
//     The MDS row's code becomes Device.type of the Device of its OBX-18,
//     because the MDS is the device as a whole, and a stored Device takes
//     that type. VMD and channel rows, and an MDS row without OBX-18, are
//     skipped without a warning.
//
// Each OBX other than a device row gives its own Observation, because the
// mapping guide's segment map from OBX to Observation makes one resource
// of each OBX segment. An OBX with the identity of an earlier OBX of the
// message (see Idempotency) is kept as a second Observation. An OBR with
// the order number of an earlier OBR names the same DiagnosticReport: its
// results join that report, its own OBR-4, OBR-7 and OBR-25 are not
// mapped, and Plan.Warnings locates it with code 205.
//
// Coded fields with an HL7 table must hold a code of it. A value outside
// table 0001 in PID-8, table 0125 in OBX-2 or table 0085 in OBX-11 fails
// the message with code 103 at that field. Codes are matched without
// regard to case. An empty field is not an error.
//
// Text is the parser's decoded text, so each escape sequence is decoded
// once, and the Bundle is encoded with encoding/json, which escapes
// backslashes and control characters.
//
// # Differences from the mapping guide
//
//   - A04 sets the Encounter in-progress (the guide: planned), because a
//     registered outpatient visit has begun. A08 keeps a stored status (the
//     guide: unknown) and sets one only for a new Encounter, from PV1-44
//     and PV1-45.
//   - A missing or unknown PV1-2 gives class U of the v2 table 0004,
//     because Encounter.class is required.
//   - An OBR-25 outside table 0123 gives status unknown rather than an
//     error, because senders put OBX-11 codes such as W there, and a
//     report of status unknown never replaces a stored one.
//   - OBX-11 codes that the guide leaves unmapped take the nearest status:
//     I and O registered, R and S preliminary, U and V final, B amended, N
//     cancelled. A missing OBX-11 or OBR-25 gives status unknown.
//   - A time in PID-7 is dropped (the guide keeps it in an extension).
//   - No MessageHeader or Provenance resources are written.
//   - An identifier without an assigning authority takes the sending
//     facility (MSH-4, else MSH-3) as its authority, so that it has a
//     system and can be searched.
//
// # Idempotency
//
// Every resource is found by an identifier, so a message sent again
// resolves to the resources it wrote the first time:
//
//   - Patient: the identifiers of PID-3, any of which matches. One emr
//     search takes at most emr.MaxSearchConditions (64) values, so the
//     conditional searches of the Bundle name the first 64 identifiers in
//     message order, and Apply runs one search per 64 to cover them all.
//     A patient with more identifiers is found by any of them, and the
//     message fails with code 205 when they match more than one stored
//     patient, as when they fit in one search. MRG-1 is searched the same
//     way.
//   - Encounter: the visit number PV1-19, else one derived from the sender
//     and MSH-10.
//   - Practitioner: XCN-1 with XCN-9. Device: OBX-18, written only when
//     no stored Device matches, except that an MDS row updates the type.
//   - DiagnosticReport: the filler order number OBR-3, else the placer
//     order number OBR-2, else one derived from the message.
//   - Observation: the order number, OBX-1 (else the position in the OBR
//     group), OBX-3 and OBX-4; with OBX-18 also the effective time, so a
//     monitor that sends every reading under one order number makes one
//     Observation per reading. The second and later OBX with the same
//     identity in one message add their ordinal among those OBX.
//   - Procedure: a hash of the first patient identifier, PR1-3 and PR1-5.
//
// Every system and value placed into a search (Entry.Criteria, the
// conditional references and ifNoneExist) is escaped by the FHIR search
// rules. A backslash goes before each "\\", ",", "|" and "$", so an
// identifier of the message matches only that identifier.
//
// Apply writes only what changes the stored version, so a resend makes no
// new versions.
//
// An ADT message updates a stored Patient or Encounter field by field. An
// empty field keeps the stored element, and "" deletes it. A result is a
// new version instead, so an OBX or OBR replaces every element it maps
// (value[x], dataAbsentReason, interpretation, referenceRange, status,
// issued, effective[x], performer, device) and an empty OBX-7 or OBX-8
// removes the stored range or flag. Identifiers and DiagnosticReport.result
// are kept as sets, and elements the mapping never writes, such as note,
// are kept.
//
// # Order of results
//
// Results may arrive out of order: a lab system resends an old final
// result under a new control id after it sent a correction. Apply never
// lets such a message replace a newer version. For each Observation and
// DiagnosticReport with a stored match it compares, in this order:
//
//  1. the status, ranked registered, then preliminary, partial and
//     cancelled, then final, then corrected and amended, then
//     entered-in-error (unknown ranks lowest), so a correction (C)
//     supersedes a final (F) and an old final never replaces a
//     correction;
//  2. for equal status, issued, which is OBR-22 or else MSH-7, so a later
//     correction replaces an earlier one;
//  3. for equal or missing issued times, the effective time (OBX-14 or
//     OBR-7).
//
// A message found older than the stored version is acknowledged and
// recorded, but does not become current. Apply writes a Provenance whose
// target is the current version (a versioned reference), whose contained
// resource is the result as the message mapped it, and whose recorded time
// is Plan.Received. So no result is dropped and none overwrites a newer
// one. Search Provenance?target=Observation/ID to find them, and
// Result.Late counts them. A late copy identical to the stored version is
// a plain resend and writes nothing.
//
// # Time zones
//
// A time sent with an offset keeps its instant and offset. A time of day
// without one takes Options.DefaultZone, else the offset of MSH-7, and
// fails with a located error when neither exists: no dateTime with hours
// but no offset is written. Dates without a time stay dates.
//
// # Periods
//
// No Encounter.period or Encounter.location period is written that ends
// before it starts. FHIR R4 forbids such a Period (invariant per-1), and
// the clinical record's validation does not check it. An end is before
// the start only when its latest instant is before the start's earliest
// instant, with offsets applied. So the end "2024-03-01" does not
// contradict a start at 08:00 that day, and an end at 08:00:00 does not
// contradict a start at 08:00:00.5. A date has no offset, so it counts as
// its day in every offset from -12:00 to +14:00. A time of day sent in
// minutes is written, and so compared, with zero seconds, because FHIR
// needs seconds.
//
// A message that would write such a period fails with code 207 and
// writes nothing:
//
//   - Convert fails when the message's own end is before its start. The
//     error is at the field that gave the end: PV1-45, or for an A03
//     without it the event time.
//   - Apply fails when the message's end is before the stored start, at
//     the same field. It fails when the message's start is after the
//     stored end, at the field that gave the start: PV1-44, or for an A01
//     or A04 without it the event time.
//   - Apply fails when the event time would end the stay at a stored
//     location before that stay began, as an A02 delivered after a later
//     A02 would. The error is at the field that gave the event time.
//
// The event time is EVN-6, else EVN-2, else MSH-7, and the error names
// the one used. The code is 207 (application internal error), as for
// other content that the clinical record cannot accept, because table
// 0357 has no code for a time that contradicts another. Code 102 would
// mean that the value is not a valid timestamp, which it is. The *Error of
// Apply wraps emr.ErrInvalid.
//
// A message that arrives late but gives no such period is applied, such
// as an A03 that arrives before the A01 of an earlier time. Periods that
// a message leaves as stored are not checked, so a period stored that
// way, as a write through the FHIR API can store it, does not block later
// messages of the visit.
//
// # Errors
//
// Convert returns an ErrorList of *Error, each with an HL7 table 0357 code
// and the segment and field it concerns and never a value from the
// message, so it can go into an ACK's ERR segments. Parts that are
// skipped, such as an OBX without OBX-3 or a missing PV1, are in
// Plan.Warnings. Apply returns an *Error for every fault of the message's
// content, located at the segment and field of the entry concerned. A
// Practitioner is located at the repetition of PV1-7, PV1-8, PV1-9, PV1-17
// or OBX-16 that first names it, and a Device at OBX-18. A Patient is
// located at PID-3, an Encounter at PV1-19, a DiagnosticReport at OBR-3,
// and an Observation or Procedure at its segment. A failed transaction that the clinical record
// does not tie to one entry is located at MSH. The
// code is 204 when no stored patient matches MRG-1 or an A40's PID-3. It
// is 205 when the identifiers of one entry (such as the repetitions of
// PID-3) match more than one stored resource or one used by another. It
// is 207 when the clinical record rejects the mapped resource
// (emr.ErrInvalid, ErrConflict, ErrForbidden). The *Error wraps the emr
// error. Other errors, such as a failed database or a concurrent
// transaction, are returned wrapped and are internal, so a resend may
// succeed.
//
// An A40 whose MRG-1 names the same stored patient as its PID-3 fails at
// MRG-1 with code 207, wrapping emr.ErrInvalid, because emr's Merge rejects
// a merge of a patient into itself as invalid. Table 0357 has no code for
// it: 204 is a key that names no stored record, and 205 one that names
// more than one or is already in use.
//
// # Concurrency
//
// Convert is safe for concurrent use. Apply is safe for concurrent use
// when the Target is. It reads before it writes, and a version changed by
// another writer in between makes it start again, up to three times.
//
// A visit number (PV1-19), order number (OBR-3) or result row can match a
// stored Encounter, DiagnosticReport or Observation of another patient.
// Such a message fails with code 205 at that field or row, and nothing is
// written, because applying it would move the record to the patient of
// the message. A patient merged into the message's patient counts as the
// same patient.
//
// # Known gaps
//
//   - Other message types (ORM, SIU, MDM, VXU and more) and ADT events
//     other than those listed are rejected with HL7 error 200 or 201.
//   - NK1, PD1, DG1, AL1, IN1, GT1, NTE, SPM, ORC and PV2 are not mapped.
//     PV1 in an ORU is not mapped, so Observations carry no encounter.
//   - Only the first repetition of a non-text OBX-5 is kept.
//   - The VMD and channel rows of a PCD-01 message are dropped, because
//     the mapping writes one Device per OBX-18 and no Device.parent
//     hierarchy. Device.type comes only from an MDS row that carries its
//     own OBX-18, so a sender that puts OBX-18 on the metrics alone gets
//     Devices without a type.
//   - Value types other than those above (ED, RP, TM, CX and more) give
//     dataAbsentReason "unsupported".
//   - An Encounter keyed on MSH-10 (no PV1-19) is not found by later
//     events for the same visit.
//   - An A40 whose MRG-1 or PID-3 names no stored patient, or whose MRG-1
//     names the patient of PID-3, fails before anything is written. On a
//     plain emr.Service, the merge runs in its own transaction after the
//     bundle's, so a merge that emr's Merge rejects, such as one of a
//     patient already merged into a third, leaves the bundle's changes.
//     Inside a unit of emr.Service.WriteBatch, as nexusd runs it for the
//     MLLP listener and for hl7 import, the whole message commits or
//     nothing does.
//   - A late result is kept in a Provenance and not in the history of its
//     resource, because a Store version is always current. A late
//     DiagnosticReport does not gain the results of new Observations of the
//     same message, so those link only from the contained copy. Two late
//     copies of one result under different control ids give two
//     Provenances.
//   - An event delivered after a later one fails when its time would end
//     a period before it starts (see Periods), instead of going into the
//     location history at its place in time.
//   - BuildACK derives ERR-3 from hl7v2.Kind, so codes 200 and 201 reach
//     an ACK built from Error.ParseError as 207.
package v2fhir

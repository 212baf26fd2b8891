// Package fhir serves the FHIR R4 (4.0.1) REST API over the clinical record
// as an http.Handler.
//
// NewHandler returns a handler whose paths are relative to where it is
// mounted. To serve it under /fhir, strip the prefix and register both the
// bare prefix and the subtree, so a batch posted to /fhir is not redirected:
//
//	h := http.StripPrefix("/fhir", fhir.NewHandler(fhir.Config{Service: svc}))
//	mux.Handle("/fhir", h)
//	mux.Handle("/fhir/", h)
//
// # Interactions
//
//	GET    metadata                        CapabilityStatement
//	GET    [type]/[id]                     read, conditional with If-None-Match or If-Modified-Since
//	GET    [type]/[id]/_history/[vid]      vread
//	PUT    [type]/[id]                     update, or create with that id
//	PUT    [type]?criteria                 conditional update
//	PATCH  [type]/[id]                     patch with a JSON Patch or FHIRPath Patch body
//	DELETE [type]/[id]                     delete
//	DELETE [type]?criteria                 conditional delete of one match
//	GET    [type]/[id]/_history            instance history
//	GET    [type]/_history                 type history
//	GET    _history                        system history
//	GET    [type]?params                   search
//	POST   [type]/_search                  search, form body added to the query
//	POST   [type]                          create, conditional with If-None-Exist
//	POST   [type]/$validate                validate a resource, also on [type]/[id]
//	POST   (the base)                      batch or transaction Bundle
//
// HEAD is served wherever GET is, with the status and headers of GET and no
// body. An update body must carry the id of the URL, as FHIR R4 requires,
// and one without it, or with another id, gets 400.
//
// # Conditional interactions
//
// A conditional create, update or delete takes search criteria (the
// If-None-Exist header, or the query of PUT and DELETE [type]), checked as
// a search is: invalid criteria, or criteria without a search parameter,
// get 400. Several matches give 412 and change nothing. A conditional
// create returns 201 when it creates and 200 with the stored resource when
// one resource matches, and concurrent requests with the same criteria
// create one resource. A conditional update creates when nothing matches
// (201) and updates the one match (200). A body id other than the match's
// gets 400. A conditional delete of one match or of none succeeds, as a
// delete by id does. If-Match on a conditional update or delete gets 400,
// because no version check is available for them.
//
// A read with If-None-Match naming the current version (W/"3", "3" or *),
// or, without If-None-Match, with an If-Modified-Since not before
// meta.lastUpdated, gets 304 with the ETag and Last-Modified headers and
// no body. HTTP dates have whole seconds, so If-Modified-Since can miss a
// change made in the same second.
//
// PATCH takes an RFC 6902 JSON Patch sent as application/json-patch+json,
// or a FHIRPath Patch (a Parameters resource of operation parameters, as
// FHIR R4 defines it) sent as application/fhir+json or application/json.
// Both honour If-Match. A failed JSON Patch test operation gets 412, and a
// patch that cannot be applied, changes id or resourceType, or leaves an
// invalid resource gets 422. In a FHIRPath Patch, a body that is not such
// a Parameters resource, an unknown operation type, a missing part or a
// path that is not FHIRPath gets 400. An operation gets 422 when its path
// selects no element or several where it needs one, or an element without
// the named child. The issue expression is the operation's index
// (Parameters.parameter[n]), and the diagnostics give the path with the
// text of string literals replaced by "...". A
// delete whose path selects nothing changes nothing, as FHIR R4
// defines. Operations run in order and nothing is stored when any fails.
// Complex values may be sent as value[x] or as parts, and the element model
// of github.com/google/fhir/go decides which parts repeat and which type
// suffix a choice element takes. Other Content-Types get 415.
//
// A PATCH entry of a batch or transaction carries a JSON Patch as a Binary
// resource (contentType application/json-patch+json, the patch in data)
// or a FHIRPath Patch as a Parameters resource, and honours
// request.ifMatch. Entries run in the order DELETE, POST, PUT and PATCH,
// then GET, so a GET reads the transaction's changes.
//
// $validate takes the resource, or a Parameters with a resource part and
// optionally mode create or update, and returns 200 with an
// OperationOutcome: one information issue when the resource is valid, or
// its errors. Mode update also checks the id against the URL.
//
// Every resource type of FHIR R4 is served. The CapabilityStatement lists
// these interactions for every type, with the search parameters of the
// registry that search supports, and a test runs a search with each listed
// parameter. Search supports what emr.Service.Search does:
// string, token, date, reference, number, quantity and uri parameters, _id,
// _lastUpdated, _count, _total and _summary=count. Next links carry the
// whole query with the paging cursor _cursor, so a client that keeps only a
// next link's query string can page. The cursor is opaque and contains the
// position after the page's last row (see package emr), so rows created or
// deleted before it do not shift later pages, sorted or not. An altered
// cursor, or one sent with another search, gets 400. Reads, creates and
// updates send ETag W/"version" and Last-Modified. If-Match on update,
// patch and delete gives 412 when the version is not the current one. Prefer:
// return=minimal, return=representation and return=OperationOutcome are
// honoured on creates, updates and patches, return=minimal on deletes and
// return=representation in batches and transactions. With Prefer:
// handling=lenient, a search drops parameters the type does not have and
// reports them in a warning entry (search.mode outcome) instead of 400.
//
// Responses are application/fhir+json; charset=utf-8. Requests may send
// application/fhir+json or application/json, and _format=json. Other
// bodies, XML included, get 415 and an Accept header or _format without
// JSON gets 406. A body that is not one JSON object, or is empty, gets 400,
// and a resource that parses but is invalid gets 422. Stored
// resources are written byte for byte as emr stored them; _pretty=true only
// adds whitespace. Every error is an OperationOutcome: diagnostics carry the
// error message of emr, which names paths and codes but no resource values,
// and a 500 carries only the request id while the log has the cause.
//
// # Search
//
// Search supports the string, token, date, reference, number, quantity,
// uri and composite parameters of R4, _id, _lastUpdated and _list. It
// supports the modifiers :missing, :exact, :contains, :not, :text,
// :of-type, :below, :above, :identifier and reference types, chained
// parameters and _has, and _sort on any parameter (several keys, "-" for
// descending). _include and _revinclude, with :iterate, add entries with
// search.mode include.
//
// # Bulk Data export
//
// GET $export, Patient/$export and Group/[id]/$export start an
// asynchronous export, as the FHIR Bulk Data Access IG describes. The
// request must carry Prefer: respond-async. It takes _type
// (comma-separated types), _since (an instant) and _outputFormat
// (application/fhir+ndjson, application/ndjson or ndjson), and gets 202
// with a Content-Location of $export-status/[id]. Patient/$export exports
// the compartments of every patient; Group/[id]/$export those of the
// Group's active Patient members. Polling $export-status/[id] returns 202
// with X-Progress and Retry-After while the job runs, 200 with the JSON
// manifest when it is done, and 500 with an OperationOutcome when it
// failed. DELETE $export-status/[id] cancels the job and deletes its
// files. Each file downloads from $export-file/[id]/[type].ndjson. With
// an Authorizer the manifest sets requiresAccessToken, and only the
// principal that started a job reads its status and files. Jobs and
// their owners are kept in the memory of one handler and their files on
// its disk. A restart loses them, and another process on the same
// database returns 404 for them. At most Config.MaxExportJobs
// run at once (429 above), and files are deleted Config.ExportRetention
// after the job finishes or when the handler is closed (it is an
// io.Closer). The export reads without a snapshot, so a resource changed
// during it may appear in its old or its new version.
//
// Patient/[id]/$everything returns the patient's compartment as one
// searchset Bundle, with _since, _type and _count.
//
// # Scheduling
//
// With Config.Scheduling set, Schedule, Slot, Appointment and
// AppointmentResponse are served from the scheduling service instead of
// the clinical record, so every booking passes its capacity and workflow
// rules:
//
//	GET  Schedule/[id], Schedule?actor&active     read, search
//	POST Schedule                                 create
//	GET  Slot/[id], Slot?schedule&start&status&service-type
//	GET  Appointment/[id], Appointment/[id]/_history[/vid]
//	GET  Appointment?actor&patient&date&status&service-type
//	POST Appointment                              book (booked) or hold (pending)
//	PUT  Appointment/[id]                         change status, or reschedule
//	GET  Appointment/$find, POST with Parameters  free Slots
//	GET  AppointmentResponse/[id], AppointmentResponse?appointment&actor&part-status
//	POST AppointmentResponse                      a participant's response
//
// Searches also take _count, and POST [type]/_search works as for other
// types. Comma-separated values of a parameter match any of them, and
// repeated parameters must all match. Dates without an offset are read in
// the facility's zone. Next links carry the whole query with _cursor,
// an offset, so a page may shift when bookings change between requests,
// and paging stops after 5000 results. Any other interaction on these
// types gets 404 or 405, and a batch or transaction with an entry for one
// of them gets 400. The CapabilityStatement lists exactly this for the
// four types.
//
// POST AppointmentResponse takes appointment, actor (the Patient or one of
// the appointment's actors), participantStatus and comment, and returns
// 201 with the stored response. Responses are never changed, so each is
// version 1. Every participant is required: a decline cancels a proposed
// or pending appointment, and the last acceptance books it. When the
// seats are gone by then, the response is still stored and returned with
// 201, and the appointment keeps its status. An unknown appointment or a
// participant not on it gives 422, because the body names them, and a
// cancelled, fulfilled or entered-in-error appointment gives 409. An
// Appointment's participant.status is the participant's latest response,
// or without one a status implied by the appointment's.
//
// The mapping:
//
//   - Schedule: actor is the schedule's actor (Practitioner/[id],
//     Location, Device or HealthcareService), with the schedule's name as
//     its display, and a second Location actor when the schedule is tied
//     to a location. serviceType lists the appointment types the
//     availability rules allow, planningHorizon the span of the rules
//     when they are bounded. POST Schedule creates an active schedule in
//     the facility's zone and grid without overbooking; availability,
//     appointment types and other settings are set through the Go API of
//     package scheduling, because R4 has no resource for them.
//   - Slot: generated, never stored, and read-only. The id is
//     "[schedule id].[start in Unix seconds].[type code]", so a slot keeps
//     its id while its status changes between free and busy. A search
//     without service-type returns the schedule's grid cells, whose ids
//     have no type part. Start and end carry the facility's offset, and
//     only slots from now on exist. A search without schedule covers every
//     active schedule, one without start the next 31 days.
//   - Appointment: status codes are those of R4. participant lists the
//     patient as Patient/[id] and each actor, all required.
//     appointmentType and serviceType carry the type code in the system
//     AppointmentTypeSystem. slot references, for each actor with a
//     schedule, the slot with the appointment's start and type. The
//     replaced appointment of a reschedule is in the R5 cross-version
//     extension Appointment.replaces, the replacement in the extension
//     urn:nexus-health-360:fhir:appointment-replaced-by, and a hold's
//     expiry in urn:nexus-health-360:fhir:appointment-hold-expires.
//     cancelationReason holds the reason text. Elements the service does
//     not keep, such as comment and priority, are not stored.
//
// POST Appointment names its slots, or a start with the actors as
// participants; the type comes from appointmentType, the slot, or the one
// type that lasts from start to end. A full slot or a busy actor gets 409
// with an OperationOutcome. PUT Appointment/[id] moves the status through
// the service's transitions: cancelled (with cancelationReason),
// checked-in, arrived, fulfilled, noshow, entered-in-error, and booked
// from pending. A transition the workflow forbids gets 409 naming the
// from and to statuses. A new start or new actors reschedule: the service
// cancels the appointment and books a replacement, and the response is
// the cancelled appointment whose replaced-by extension names the new one.
// PUT does not create. History and vread take each version's status,
// start, end and reason from the service, and the other elements from the
// current version. Searches of other types do not reach these types:
// _include and _revinclude of Appointment read the clinical record.
//
// # Billing
//
// With Config.Billing set, Account, ChargeItem, ChargeItemDefinition,
// Invoice and PaymentReconciliation are served from the billing service
// instead of the clinical record, so every write passes the billing rules
// (prices from the chargemaster, gapless invoice numbers, a balanced
// ledger):
//
//	GET  [type]/[id], [type]/[id]/_history[/vid]    read, history, vread
//	GET  Account?identifier&patient&subject&status
//	POST Account, PUT Account/[id]                  open, change
//	GET  ChargeItem?account&patient&subject&code&identifier&entered-date&occurrence
//	POST ChargeItem                                 a charge entered by hand
//	PUT  ChargeItem/[id]                            entered-in-error reverses it
//	GET  ChargeItemDefinition?code&status&url
//	POST ChargeItemDefinition, PUT ChargeItemDefinition/[code]  new version
//	GET  Invoice?account&patient&subject&status&identifier&date
//	POST Invoice                                    draft, or draft and issue
//	PUT  Invoice/[id]                               issue, discard, or cancel
//	GET  PaymentReconciliation?created&identifier&status
//	POST PaymentReconciliation                      post a payment
//
// Searches take _count and POST [type]/_search as above. Every request
// needs access to every patient, because billing does not filter by
// compartment. A batch or transaction with an entry for one of these types
// gets 400, and any other interaction 404 or 405.
//
// The rules: an issued invoice never changes, so a PUT that alters its
// lines, totals, account or identifiers gets 422, and status cancelled
// with cancelledReason issues a credit note. Charges and payments never
// change: a ChargeItem is corrected by a PUT with status entered-in-error,
// which may change only status and note and stores a reversing charge,
// and both have one version. A rule the body breaks (an unknown code, another currency,
// a payment over the balance) gets 422 and a clash with the stored state
// 409, each with an OperationOutcome, and nothing is stored. PUT of
// Account, Invoice and ChargeItemDefinition checks If-Match and gets 412
// when the resource has moved on. Identifiers a client sends on Account,
// ChargeItem and Invoice are stored and found by the identifier search.
// A read returns them after those the service assigns (the invoice
// number, the source event of a captured charge), and a client identifier
// in an assigned system gets 422. meta.versionId and lastUpdated are billing's version and time, and
// the extension urn:nexus-health-360:fhir:version-author on meta names the
// user who made the version.
//
// Nothing a client sends is dropped. An element, a nested element or an
// extension the mapping has no field for, such as ChargeItem.performer,
// Invoice.participant, note.time, meta.tag, text, display texts or
// another party's extension, is kept verbatim. The handler splits the
// body and sends the modelled part through the billing rules as before.
// It stores the rest as a JSON document with the version it wrote, in
// the billing store's KeptElementStore. Read, vread, search and history
// merge the document back. An element billing writes is never taken from
// it, so amounts, statuses and identifiers always come from billing. A
// kept array item goes back into the rendered item equal to the one sent,
// else the item at its sent index. The end of a ChargeItem's
// occurrencePeriod is kept too, and the occurrence is then returned as
// that period with billing's start in UTC. An element the service sets
// itself on create, such as Invoice.date, ChargeItem.enteredDate or
// enterer, still gets 422, and so does one the mapping models but cannot
// store in the form sent, such as a second ChargeItem.note, an
// Invoice.issuer that is not the facility, a modifierExtension or
// implicitRules. Without a store that keeps documents, any unmodelled
// element gets 422 naming it. Each FHIR write replaces the kept document,
// and a version made by the billing service alone shows the document of
// the latest earlier version.
//
// Limits: the store narrows a search by account, by an Account's
// patient, and by a client identifier with its system. Other parameters
// filter the first 5000 records the store returns. Each ChargeItem and
// PaymentReconciliation version is the current one, whose derived status
// (billable, billed) can change without a new version. An invoice version
// takes its status, number, reason, time and author from billing's
// history, its balance from the ledger entries posted up to that time,
// and its lines and totals, fixed since drafting, from the current one.
// The coding of a ChargeItem's code is the chargemaster's, with its
// display. The kept document is written in its own transaction after
// the billing record, so a failure between the two leaves the record
// without its kept elements and returns 500. Instance history takes no parameters and
// returns one page. Type history of a billing type gets 404, and system
// history lists only the clinical record.
//
// # Not served yet
//
// If-Match on conditional update and delete, the profile parameter and
// delete mode of $validate, and other operations such as $merge are not
// served, nor are conditional PATCH entries (Type?criteria) in batches and
// transactions. Search, read, vread and history take _elements
// (top-level names), _summary=data and _summary=text (the narrative, id,
// meta and the elements with minimum cardinality 1 in the google/fhir/go
// descriptors), which leave elements out and tag each resource SUBSETTED.
// _summary=count is served by search only. _summary=true gets 400,
// because neither the google/fhir/go descriptors nor the data in this
// repository record which elements are isSummary. Search lacks special
// parameters, wildcard includes (Type:*), and compartment search. The
// CapabilityStatement lists composite parameters, which search serves, with
// type composite. _text, _content and _query are rejected because nothing
// is indexed for them. History lacks _at and
// _list, and XML is not supported. A request that uses any of these gets
// 400 (404 for a path or an operation, 405 for a method, 415 for a patch
// media type), so no parameter is silently ignored. Under Prefer:
// handling=lenient the unknown ones are dropped with a warning entry.
//
// # Limits
//
// Request bodies are limited to Config.MaxBodyBytes, 32 MiB by default, and
// larger ones get 413. emr bounds the number of bundle entries and the page
// size of search and history.
//
// # Security and logging
//
// The handler authenticates no one. Config.Actor names who makes each
// request, and the handler passes it to emr with emr.ContextWithActor, so
// each stored version records it. An authentication layer wraps the
// handler and supplies Actor. Every request gets an X-Request-Id (the client's when
// it is 1 to 64 letters, digits, '.', '_' or '-'). One log line per request
// at Info level gives the request id, method, route pattern without ids,
// resource type, status, duration and size; query strings and bodies are
// never logged because they carry names and identifiers.
//
// # Concurrency
//
// The handler keeps no state between requests and is safe for concurrent
// use. Concurrent writes are serialised by emr, which makes a conflicting
// If-Match fail with 412 rather than overwrite.
package fhir

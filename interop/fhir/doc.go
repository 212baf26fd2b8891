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
//	PATCH  [type]/[id]                     patch with a JSON Patch body
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
// PATCH takes an RFC 6902 JSON Patch sent as application/json-patch+json
// and honours If-Match. A failed test operation gets 412, and a patch that
// cannot be applied, changes id or resourceType, or leaves an invalid
// resource gets 422. FHIRPath Patch, a Parameters body sent as
// application/fhir+json, gets 415 with an OperationOutcome saying that only
// JSON Patch is supported.
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
// next link's query string can page. Reads, creates and updates send
// ETag W/"version" and Last-Modified; If-Match on update, patch and delete
// gives 412 when the version is not the current one. Prefer:
// return=minimal, return=representation and return=OperationOutcome are
// honoured on creates, updates and patches, return=minimal on deletes and
// return=representation in batches and transactions. Prefer:
// handling=lenient is ignored, so search stays strict.
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
// Search supports the string, token, date, reference, number, quantity and
// uri parameters of R4, _id and _lastUpdated, the modifiers :missing,
// :exact, :contains, :not, :text, :below, :above and reference types,
// chained parameters and _has, _sort on any parameter (several keys, "-"
// for descending, paged by _offset), and _include and _revinclude with
// :iterate, which add entries with search.mode include.
//
// # Not served yet
//
// FHIRPath Patch, If-Match on conditional update and delete, the profile
// parameter and delete mode of $validate, and other operations such as
// $merge and $everything are not served. Search lacks
// _elements, _summary other than count and false, the :identifier and
// :of-type modifiers, composite and special parameters, wildcard includes
// (Type:*), and compartment search. _text, _content and _query are
// rejected because nothing is indexed for them. History lacks _at and
// _list, and XML is not supported. A request that uses any of these gets
// 400 (404 for a path or an operation, 405 for a method, 415 for a patch
// format), so no parameter is silently ignored. Prefer: handling=lenient
// is the exception: it is ignored, and search stays strict.
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

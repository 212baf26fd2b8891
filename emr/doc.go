// Package emr is the clinical record: FHIR R4 resources with all their
// versions, validated, indexed by the R4 search parameters and searched
// with FHIR search, plus patient registration with a master patient index.
// Service applies the rules and Store keeps the data. emr/sqlstore
// implements Store on SQLite and PostgreSQL, and emr/emrtest is its
// conformance suite.
//
// Every create, update, patch and delete, including bundle entries and
// imports, appends an emr.resource.created, emr.resource.updated or
// emr.resource.deleted event to the outbox in the same transaction. Its
// Data holds the interaction ("method") and the ids of the patients in
// whose compartments the version is ("patients"), never resource values.
//
// A caller is restricted by an Access in its context (ContextWithAccess).
// The store applies it in its queries on every read path, and writes check
// it before they store anything.
//
// Search pages by keyset. The _cursor of a next link contains the last row's
// sort key values and row key, so rows inserted or deleted before it
// between requests shift no row of later pages. A row whose sort value
// changes between pages may be skipped or returned twice. The cursor is
// base64url JSON with an HMAC-SHA256 over it (Config.CursorKey), bound to
// the search's type, conditions and _sort. ParseSearch rejects an altered
// cursor, or one from another search, with ErrInvalid. _count may change
// between pages.
//
// Concurrency: a Service is safe for concurrent use. Writes run in store
// transactions that are retried when a concurrent writer won a race for
// the same row.
//
// Limits:
//   - Versions stored before the version_patients table existed have no
//     compartment rows. A restricted caller does not get them from history or
//     version reads, and reads such a deleted resource as ErrNotFound.
//   - A delete by a restricted caller checks the compartments of the
//     content it deletes, but an update checks only the new content. So a
//     caller limited to patient A may update a resource that is in the
//     compartments of A and B into one that is in A's only.
//   - Store.Events is not restricted by Access, because it serves the
//     outbox consumers, not end users.
//   - Without Config.CursorKey, cursors are signed with a key built into
//     the package: tampering is detected, but a client that knows the key
//     can forge a cursor. A forged cursor picks only the starting row of
//     the same search, and Access still applies.
//   - A sorted search computes the sort values of every match for each
//     page, so its cost grows with the match count, not the page size.
//   - One resource may have at most MaxRepeatedElements items in a list
//     and MaxIndexEntries search index entries, and a FHIRPath Patch at
//     most MaxPatchOperations operations. Larger writes fail with
//     ErrTooLarge.
package emr

// Package emr is the clinical record: FHIR R4 resources with all their
// versions, validated, indexed by the R4 search parameters and searched
// with FHIR search, plus patient registration with a master patient index.
// Service holds the rules and Store the data. emr/sqlstore implements
// Store on SQLite and PostgreSQL, and emr/emrtest is its conformance suite.
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
// Concurrency: a Service is safe for concurrent use. Writes run in store
// transactions that are retried when a concurrent writer won a race for
// the same row.
//
// Limits:
//   - Versions stored before the version_patients table existed have no
//     compartment rows. A restricted caller cannot see them in history or
//     version reads, and reads such a deleted resource as ErrNotFound.
//   - A delete by a restricted caller checks the compartments of the
//     content it deletes, but an update checks only the new content. So a
//     caller limited to patient A may update a resource that is in the
//     compartments of A and B into one that is in A's only.
//   - Store.Events is not restricted by Access; it serves the outbox
//     consumers, not end users.
package emr

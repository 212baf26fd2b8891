// Package billing prices, invoices and collects hospital services. It
// owns the chargemaster, patient accounts, charges, invoices and credit
// notes, a double-entry ledger of payments, refunds, adjustments and
// write-offs, and insurance claims with their remittances, stored
// through a small Store interface. Package billing/sqlstore implements
// the interface on SQLite and PostgreSQL, and billing/billingtest is the
// conformance suite every backend runs. The package imports no other
// domain: a patient, an encounter and a payer are ids, and the
// interfaces it needs from elsewhere (ChargeSource, ClaimRecorder) are
// declared here and implemented by the daemon.
//
// # Money
//
// A Money is int64 minor units and an ISO 4217 code; no amount is ever a
// float. Rates (tax, discount, price factor) are parts per million.
// PriceLine rounds a line's discount and tax half to even in the minor
// unit, and invoice totals are sums of their lines (Totals), so a total
// always equals the sum of its lines. Arithmetic that would overflow
// int64 and amounts of different currencies are rejected.
//
// # Flow
//
// A chargemaster item (ChargeDefinition) has prices per payer and plan
// with effective dates, a tax rate and discounts, and every change is a
// new version. Capture turns a SourceEvent of another domain (a
// fulfilled appointment, a procedure, a bed day, a lab order) into a
// charge on the patient's account, idempotently per (Source, EventID).
// It stores the event's position in its source's stream in the same
// transaction, so a consumer resumes from SourcePosition after a
// restart without losing or repeating an event.
// AddManualCharge enters one by hand with a reason, and ReverseCharge
// corrects one with a reversing charge; charges are never edited.
// Accounts, charges and invoices keep the identifiers a client gives
// them, and the list filters find records by identifier.
// DraftInvoice collects open charges, IssueInvoice numbers the draft
// without gaps per facility and posts it to the ledger, and
// CancelInvoice issues a credit note. PostPayment, ApplyCredit, Refund
// and Adjust post to the ledger, and Statement sums it for a period.
// BuildClaim, SubmitClaim and PostRemittance run an insurance claim from
// draft to paid. Write837P exports a claim as X12 837P text, and Post835
// posts the claim payments of an X12 835 remittance, with its line-level
// and claim-level CAS adjustments, one payment per transaction.
//
// # Invariants
//
// The Service checks each rule below, and the database (see
// billing/sqlstore) checks it again, whichever door a write came in
// through. Invoice numbers have no gaps, and totals equal the sum of the
// lines at issue. Issued invoices, charges and ledger entries never
// change. Each source event has at most one charge, each charge is on at
// most one open invoice, and no balance goes below zero. A payment
// larger than the balance it is applied to is rejected unless
// AllowCredit keeps the rest as account credit. Every amount is in a
// supported ISO 4217 currency, and the database checks that each code
// is three upper-case letters. A ledger entry is in its account's
// currency, and the invoice it names exists, belongs to the same
// account and is in the same currency. Every write names its user (By)
// and keeps who and when.
//
// # Events
//
// Every change writes a billing.* event (charge captured or reversed,
// invoice drafted, issued or cancelled, payment or refund posted,
// adjustment posted, claim submitted or changed) to a transactional
// outbox in the same transaction. Event data holds ids, codes, amounts
// and statuses, never a patient id.
//
// # Concurrency
//
// A Service and the sqlstore Store are safe for concurrent use. Writes
// that touch an account, invoice or claim lock its row on PostgreSQL and
// are serialised by the single writer on SQLite. Payments, credit,
// refunds, adjustments and claims lock the account before any of its
// invoices, so concurrent payments on one account run one after another
// and each reads the balances the one before it left. A payment that no
// longer fits fails with ErrOverpayment. Payments on different accounts
// wait for each other only at commit on PostgreSQL, where one lock
// orders the outbox writes.
//
// A transaction holds one database connection from start to commit, and
// every read it needs goes through its Tx. Reading through the Store
// while a Tx is open would need a second connection, and on PostgreSQL
// the Store's reads and writes share one pool, so enough concurrent
// transactions would hold every connection and wait forever. The
// conformance suite runs its concurrent payments on a pool of two
// connections to check this. Adjust and BuildClaim read the invoice's
// account through the Store before their transaction starts, to learn
// which account to lock first.
//
// Deadlocks and serialisation failures are retried a few times and then
// returned as ErrTransient.
//
// # Known limits
//
//   - Quantities are whole units.
//   - A refund draws only on account credit. To refund a payment applied
//     to an invoice, its invoice must first be cancelled or credited.
//   - An invoice with payments or adjustments posted cannot be
//     cancelled.
//   - SubmitClaim writes the FHIR Claim outside the billing transaction,
//     so a failed status change can leave a Claim resource for a draft.
//   - Write837P writes one claim per interchange, for a subscriber who
//     is the patient (no 2000C loop), without referring or rendering
//     providers or prior authorisations.
//   - The identifiers of a charge or an invoice are fixed when it is
//     made. An account's identifiers change with its versions.
//   - KeepElements stores the unmodelled elements of a FHIR resource
//     as an opaque JSON object of at most MaxKeptElements bytes per
//     record version, and needs a Store that implements
//     KeptElementStore. The service never reads amounts or states from
//     it, and the document is written outside the transaction of the
//     record it belongs to.
//   - AccountHistory and ChargeDefinitionHistory need a Store that
//     implements HistoryStore. Charges and payments have no versions.
//   - A source's position only moves forward, so a consumer captures its
//     events in order: after a restart, capture resumes after the
//     highest position stored, past any earlier event that failed.
//   - Read835 rejects an 835 with PLB provider-level adjustments, which
//     have no book to post to, so such a remittance is posted by hand.
//   - Post835 posts each payment (payer TRN03 and trace number TRN02)
//     once: the store's unique key rejects a second post with
//     ErrDuplicateRemittance, concurrent posts included. A payment the
//     payer sends again under a new trace number is a new payment.
//     ImportClaimResponse posts each ClaimResponse once in the same way,
//     but PostRemittance called directly has no such guard.
package billing

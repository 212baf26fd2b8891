package billing

import (
	"context"
	"time"
)

// AccountFilter selects accounts. Empty fields match everything.
type AccountFilter struct {
	PatientID string
	// EncounterID keeps the accounts of one encounter; with NoEncounter
	// set, only the patient's general accounts are kept.
	EncounterID string
	NoEncounter bool
	// Identifier keeps the accounts with a matching identifier.
	Identifier *IdentifierMatch
	Limit      int
}

// IdentifierMatch selects records by identifier: an empty System
// matches any system, and an empty Value any identifier of System.
type IdentifierMatch struct {
	System, Value string
}

// ChargeFilter selects charges, oldest first. Empty fields match
// everything.
type ChargeFilter struct {
	AccountID string
	IDs       []string
	// OpenOnly keeps charges that no draft or issued invoice holds.
	OpenOnly bool
	// InvoiceID keeps the charges an invoice holds.
	InvoiceID  string
	Identifier *IdentifierMatch
	Limit      int
}

// InvoiceFilter selects invoices, oldest first. Empty fields match
// everything.
type InvoiceFilter struct {
	AccountID  string
	FacilityID string
	Kind       InvoiceKind
	Statuses   []InvoiceStatus
	Identifier *IdentifierMatch
	Limit      int
}

// EntryFilter selects ledger entries in posting order. Empty fields
// match everything; From and To bound Posted, To exclusive.
type EntryFilter struct {
	AccountID string
	InvoiceID string
	PaymentID string
	From, To  time.Time
}

// PaymentFilter selects payments and refunds, oldest first.
type PaymentFilter struct {
	AccountID string
	ClaimID   string
	From, To  time.Time
	Limit     int
}

// ClaimFilter selects claims, oldest first.
type ClaimFilter struct {
	AccountID string
	InvoiceID string
	Statuses  []ClaimStatus
	Limit     int
}

// Store persists the chargemaster, accounts, charges, invoices, the
// ledger, payments, claims and the outbox. It only accesses data, while
// the rules live in Service, but the schema enforces the invariants a
// second door could break: gapless numbers, immutable issued invoices
// and posted entries, balances that never go below zero. Implementations
// are safe for concurrent use, and reads return times in UTC.
type Store interface {
	// GetChargeDefinition returns one version of an item, the latest
	// when version is 0.
	GetChargeDefinition(ctx context.Context, code string, version int64) (*ChargeDefinition, error)
	// ListChargeDefinitions returns the latest version of every item,
	// ordered by code.
	ListChargeDefinitions(ctx context.Context) ([]ChargeDefinition, error)
	GetAccount(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)
	GetCharge(ctx context.Context, id string) (*Charge, error)
	ListCharges(ctx context.Context, f ChargeFilter) ([]Charge, error)
	// GetInvoice returns an invoice with its lines and balance.
	GetInvoice(ctx context.Context, id string) (*Invoice, error)
	ListInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error)
	// InvoiceHistory returns every version of an invoice, oldest first.
	InvoiceHistory(ctx context.Context, id string) ([]InvoiceVersion, error)
	ListEntries(ctx context.Context, f EntryFilter) ([]Entry, error)
	GetPayment(ctx context.Context, id string) (*Payment, error)
	ListPayments(ctx context.Context, f PaymentFilter) ([]Payment, error)
	GetClaim(ctx context.Context, id string) (*Claim, error)
	ListClaims(ctx context.Context, f ClaimFilter) ([]Claim, error)
	// Events returns outbox events after position, oldest first.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// SourcePosition returns the position charge capture has reached in
	// a source's event stream, 0 before the first capture.
	SourcePosition(ctx context.Context, source string) (int64, error)
	// InTx runs fn in one write transaction, committed when fn returns
	// nil.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Close() error
}

// InvoiceUpdate moves an invoice from one status to another. The store
// applies it only when the stored invoice still has FromStatus and
// Version-1, and records the new version in the invoice's history.
type InvoiceUpdate struct {
	ID         string
	FromStatus InvoiceStatus
	Status     InvoiceStatus
	// Version is the new version.
	Version int64
	// Number is set when a draft is issued.
	Number     int64
	CreditedBy string
	Reason     string
	At         time.Time
	By         string
}

// Tx is the write side of a Store within one transaction. Code that has
// a Tx reads only through it, never through the Store, because the Tx
// keeps a database connection until it ends. On PostgreSQL the Store's
// reads draw from the same pool, so enough concurrent transactions that
// each wait for a second connection take every connection and deadlock.
type Tx interface {
	GetChargeDefinition(ctx context.Context, code string, version int64) (*ChargeDefinition, error)
	// PutChargeDefinition inserts version d.Version of an item; a version
	// that exists already is ErrConflict.
	PutChargeDefinition(ctx context.Context, d ChargeDefinition) error
	// GetAccount returns an account locked against other writers until
	// the transaction ends.
	GetAccount(ctx context.Context, id string) (*Account, error)
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)
	// PutAccount inserts an account at version 1 or replaces the stored
	// one, whose version must be a.Version-1 (else ErrConflict), and
	// records the version in its history.
	PutAccount(ctx context.Context, a Account) error
	GetCharge(ctx context.Context, id string) (*Charge, error)
	// ChargeBySource returns the charge captured from an event, or
	// ErrNotFound.
	ChargeBySource(ctx context.Context, source, eventID string) (*Charge, error)
	ListCharges(ctx context.Context, f ChargeFilter) ([]Charge, error)
	// InsertCharge stores a new charge. A second charge for one source
	// event, or a second reversal of one charge, is ErrConflict.
	InsertCharge(ctx context.Context, c Charge) error
	// InsertInvoice stores a draft with its lines and takes hold of the
	// lines' charges; a charge another invoice holds is ErrConflict.
	InsertInvoice(ctx context.Context, inv Invoice) error
	// GetInvoice returns an invoice locked against other writers.
	GetInvoice(ctx context.Context, id string) (*Invoice, error)
	// ListInvoices returns the invoices that match f without locking
	// them. A caller that changes one locks it with GetInvoice and
	// checks it again.
	ListInvoices(ctx context.Context, f InvoiceFilter) ([]Invoice, error)
	// UpdateInvoice applies u under the guard described on InvoiceUpdate.
	// Issuing also checks in the database that the totals equal the sums
	// of the lines. Cancelling releases the charges of the invoice.
	UpdateInvoice(ctx context.Context, u InvoiceUpdate) error
	// NextNumber returns the next invoice number of a facility and kind.
	// The counter row stays locked until the transaction ends, and a
	// rollback returns the number, so numbers have no gaps.
	NextNumber(ctx context.Context, facilityID string, kind InvoiceKind) (int64, error)
	// Post appends ledger entries and moves the balances they touch. An
	// entry that would take an invoice's receivable or an account's
	// credit below zero fails with ErrOverpayment.
	Post(ctx context.Context, entries []Entry) error
	// InvoiceBalance and AccountCredit return the current balances.
	InvoiceBalance(ctx context.Context, invoiceID, currency string) (Money, error)
	AccountCredit(ctx context.Context, accountID, currency string) (Money, error)
	InsertPayment(ctx context.Context, p Payment) error
	// GetClaim returns a claim locked against other writers.
	GetClaim(ctx context.Context, id string) (*Claim, error)
	ListClaims(ctx context.Context, f ClaimFilter) ([]Claim, error)
	// PutClaim inserts a claim at version 1 or replaces the stored one at
	// c.Version-1, and records the version in its history.
	PutClaim(ctx context.Context, c Claim) error
	// InsertRemittanceAdvice records that an advice is being posted. A
	// second advice with the same PayerID and Reference fails with
	// ErrDuplicateRemittance, enforced by a unique key.
	InsertRemittanceAdvice(ctx context.Context, a RemittanceAdvice) error
	// AdvanceSourcePosition moves a source's position forward to
	// position. A position at or below the stored one changes nothing.
	AdvanceSourcePosition(ctx context.Context, source string, position int64, at time.Time) error
	// Emit appends an event to the outbox.
	Emit(ctx context.Context, e Event) error
}

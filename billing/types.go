package billing

import (
	"encoding/json"
	"time"
)

// Code systems of chargemaster items.
const (
	SystemCPT   = "http://www.ama-assn.org/go/cpt"
	SystemHCPCS = "urn:oid:2.16.840.1.113883.6.285"
	// SystemLocal is the system of a facility's own codes.
	SystemLocal = "urn:nexus-health-360:charge-code"
)

// ChargeDefinition is one billable item of the chargemaster, with its
// prices. Every change stores a new version, and earlier versions stay
// readable, so a charge can always show what it was priced by.
type ChargeDefinition struct {
	// Code identifies the item within System, such as CPT "99213".
	Code    string
	System  string
	Display string
	// TaxRate applies to the net amount of every line of this item.
	TaxRate Rate
	Prices  []Price
	Active  bool
	Version int64
	Updated time.Time
	// UpdatedBy is the user who stored this version.
	UpdatedBy string
}

// Price is the unit price of an item for one payer and plan over a range
// of service dates. An empty PayerID is the list price (self-pay), and an
// empty PlanID covers every plan of the payer.
type Price struct {
	PayerID string `json:"payer,omitempty"`
	PlanID  string `json:"plan,omitempty"`
	// UnitPrice is the gross price of one unit before discount.
	UnitPrice Money `json:"unit_price"`
	// Discount is taken off the gross line amount before tax.
	Discount Rate `json:"discount,omitempty"`
	// From and Until bound the service dates, Until exclusive; zero is
	// unbounded.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
}

// Identifier is a business identifier that a client gives an account,
// charge or invoice, as a FHIR Identifier's system and value. Billing
// stores it as given, and the store finds records by it.
type Identifier struct {
	// System is the namespace of Value; empty when the client gave none.
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

// AccountStatus is a FHIR R4 Account.status code.
type AccountStatus string

// Account statuses.
const (
	AccountActive   AccountStatus = "active"
	AccountInactive AccountStatus = "inactive"
)

// Account collects the charges, invoices and payments of one patient,
// optionally for one encounter. Its currency is fixed when it opens.
type Account struct {
	ID        string
	PatientID string
	// EncounterID is empty for the patient's general account.
	EncounterID string
	Currency    string
	Status      AccountStatus
	Identifiers []Identifier
	Guarantors  []Guarantor
	// Coverages are in order of benefits: the first is primary.
	Coverages []Coverage
	Version   int64
	Created   time.Time
	Updated   time.Time
	UpdatedBy string
}

// Guarantor is the party responsible for the account's balance.
type Guarantor struct {
	// Party is a FHIR reference such as "Patient/p1",
	// "RelatedPerson/r1" or "Organization/o1".
	Party string `json:"party"`
	// OnHold suspends the guarantor, as FHIR Account.guarantor.onHold.
	OnHold bool `json:"on_hold,omitempty"`
}

// Coverage is an insurance the account bills, read from or kept in step
// with a FHIR Coverage of the clinical record.
type Coverage struct {
	PayerID  string `json:"payer"`
	PlanID   string `json:"plan,omitempty"`
	MemberID string `json:"member"`
	// Order is the order of benefits, 1 for primary.
	Order int `json:"order"`
	// CoverageID is the FHIR Coverage id in the clinical record, if any.
	CoverageID string `json:"coverage_id,omitempty"`
}

// ChargeStatus is the state of a charge as FHIR R4 ChargeItem.status
// codes name it.
type ChargeStatus string

// Charge statuses. A charge is billable until an invoice draft takes it,
// and billed while it is on an issued invoice. A reversed charge and its
// reversal are entered-in-error once neither is on an open draft.
const (
	ChargeBillable ChargeStatus = "billable"
	ChargeBilled   ChargeStatus = "billed"
	ChargeReversed ChargeStatus = "entered-in-error"
)

// Charge is one captured, manual or reversing charge. Charges are never
// changed: a correction is a reversing charge with negated quantity and
// amounts that names the charge it reverses.
type Charge struct {
	ID        string
	AccountID string
	// Code and System name the chargemaster item, and DefinitionVersion
	// the version that priced it.
	Code              string
	System            string
	Display           string
	DefinitionVersion int64
	Quantity          int64
	// UnitPrice, Discount and TaxRate come from the chargemaster unless
	// overridden with a reason.
	UnitPrice Money
	Discount  Rate
	TaxRate   Rate
	// Factor is FHIR ChargeItem.factorOverride as a Rate; zero when not
	// given.
	Factor Rate
	// OverrideReason explains a price set by hand.
	OverrideReason string
	// Source and SourceEventID identify the event of another domain the
	// charge was captured from ("scheduling", "appointment/a1/fulfilled").
	// They are empty for manual charges, which carry a Reason.
	Source        string
	SourceEventID string
	Reason        string
	// Reverses is the charge this one reverses; ReversedBy is set on
	// reads of a charge that has been reversed.
	Reverses   string
	ReversedBy string
	// ServiceDate is when the billed service took place.
	ServiceDate time.Time
	Entered     time.Time
	EnteredBy   string
	// Identifiers are the client's identifiers of the charge.
	Identifiers []Identifier
	// InvoiceID is the draft or issued invoice that holds the charge, set
	// on reads.
	InvoiceID string
	Status    ChargeStatus
}

// Line returns the charge's amounts.
func (c Charge) Line() (LineAmounts, error) {
	return PriceLine(c.UnitPrice, c.Quantity, c.Discount, c.TaxRate)
}

// LineAmounts are the priced amounts of one line. Gross is unit price
// times quantity, Discount is rounded half to even from it, Net is Gross
// minus Discount, Tax is rounded half to even from Net, and Total is Net
// plus Tax.
type LineAmounts struct {
	Gross, Discount, Net, Tax, Total Money
}

// InvoiceStatus is a FHIR R4 Invoice.status code.
type InvoiceStatus string

// Invoice statuses. A discarded draft is kept as cancelled with no
// number.
const (
	InvoiceDraft     InvoiceStatus = "draft"
	InvoiceIssued    InvoiceStatus = "issued"
	InvoiceBalanced  InvoiceStatus = "balanced"
	InvoiceCancelled InvoiceStatus = "cancelled"
)

// InvoiceKind separates invoices from the credit notes that cancel them.
// Each kind is numbered in its own sequence per facility.
type InvoiceKind string

// Invoice kinds.
const (
	KindInvoice    InvoiceKind = "invoice"
	KindCreditNote InvoiceKind = "credit-note"
)

// Invoice is a draft or issued invoice or credit note. Once issued, its
// lines and totals never change; a credit note cancels it.
type Invoice struct {
	ID         string
	Kind       InvoiceKind
	AccountID  string
	FacilityID string
	// Number is gapless per facility and kind, starting at 1, and 0 while
	// a draft.
	Number   int64
	Status   InvoiceStatus
	Currency string
	// Identifiers are the client's identifiers of the invoice, fixed when
	// it is drafted. The number is not among them.
	Identifiers []Identifier
	Lines       []InvoiceLine
	// TotalNet, TotalTax and TotalGross are sums of the lines: FHIR
	// Invoice.totalNet is TotalNet and Invoice.totalGross is TotalGross.
	TotalNet   Money
	TotalTax   Money
	TotalGross Money
	// Balance is the amount still due, from the ledger. It is zero on
	// drafts.
	Balance Money
	// Credits is the invoice a credit note cancels; CreditedBy is the
	// credit note that cancelled this invoice.
	Credits    string
	CreditedBy string
	Issued     time.Time
	IssuedBy   string
	Version    int64
	Created    time.Time
	Updated    time.Time
	UpdatedBy  string
	// Reason is the text given when the invoice was cancelled.
	Reason string
}

// InvoiceLine is one charge on an invoice, priced as the charge was.
type InvoiceLine struct {
	Sequence  int
	ChargeID  string
	Code      string
	System    string
	Display   string
	Quantity  int64
	UnitPrice Money
	TaxRate   Rate
	LineAmounts
}

// InvoiceVersion is one recorded change of an invoice.
type InvoiceVersion struct {
	InvoiceID string
	Version   int64
	Status    InvoiceStatus
	Number    int64
	Reason    string
	Changed   time.Time
	ChangedBy string
}

// Book is a ledger book. Receivable and Unapplied are kept per account
// (Receivable also per invoice); the others are the facility's.
type Book string

// Ledger books.
const (
	// BookReceivable is what invoices are owed.
	BookReceivable Book = "receivable"
	// BookRevenue and BookTax are credited when an invoice is issued.
	BookRevenue Book = "revenue"
	BookTax     Book = "tax"
	// BookCash is money received or paid back.
	BookCash Book = "cash"
	// BookUnapplied is money received and not allocated to an invoice,
	// a credit the account holds.
	BookUnapplied Book = "unapplied"
	// BookAdjustment is contractual allowance agreed with payers.
	BookAdjustment Book = "adjustment"
	// BookWriteOff is debt given up as uncollectable.
	BookWriteOff Book = "write-off"
)

// Entry is one posting of the double-entry ledger: Amount moves from
// Credit to Debit. Every entry balances on its own, so the sum of all
// debits always equals the sum of all credits, and every balance is a sum
// of entries. Entries are never changed or deleted.
type Entry struct {
	ID int64
	// JournalID groups the entries of one business event.
	JournalID string
	Kind      EntryKind
	Debit     Book
	Credit    Book
	// Amount is positive.
	Amount    Money
	AccountID string
	// InvoiceID is set on entries that touch an invoice's receivable.
	InvoiceID string
	// PaymentID is set on entries of payments and refunds.
	PaymentID string
	Posted    time.Time
	PostedBy  string
	Memo      string
}

// EntryKind names the business event an entry belongs to.
type EntryKind string

// Entry kinds.
const (
	EntryInvoice    EntryKind = "invoice"
	EntryCreditNote EntryKind = "credit-note"
	EntryPayment    EntryKind = "payment"
	EntryAllocation EntryKind = "allocation"
	EntryRefund     EntryKind = "refund"
	EntryAdjustment EntryKind = "adjustment"
	EntryWriteOff   EntryKind = "write-off"
)

// PaymentKind separates payments received from refunds paid.
type PaymentKind string

// Payment kinds.
const (
	PaymentReceived PaymentKind = "payment"
	PaymentRefund   PaymentKind = "refund"
)

// Payment is money received from a patient, guarantor or payer, or paid
// back as a refund, with its allocations to invoices. FHIR R4 maps it to
// PaymentReconciliation.
type Payment struct {
	ID        string
	Kind      PaymentKind
	AccountID string
	Amount    Money
	// Payer is "patient", a guarantor reference or a payer id.
	Payer string
	// Method is free text such as "card", "cash" or "eft".
	Method string
	// Reference is the payer's reference, such as a check or EFT number.
	Reference   string
	ClaimID     string
	Allocations []Allocation
	// Unapplied is the part kept as account credit.
	Unapplied Money
	Received  time.Time
	Posted    time.Time
	PostedBy  string
}

// Allocation is the part of a payment applied to one invoice.
type Allocation struct {
	InvoiceID string `json:"invoice"`
	Amount    Money  `json:"amount"`
}

// ClaimStatus is the state of an insurance claim.
type ClaimStatus string

// Claim statuses.
const (
	ClaimDraft         ClaimStatus = "draft"
	ClaimSubmitted     ClaimStatus = "submitted"
	ClaimAccepted      ClaimStatus = "accepted"
	ClaimRejected      ClaimStatus = "rejected"
	ClaimPaid          ClaimStatus = "paid"
	ClaimPartiallyPaid ClaimStatus = "partially-paid"
)

// Claim is an insurance claim for an issued invoice, built from its
// charges, the diagnoses and the account's coverage.
type Claim struct {
	ID        string
	AccountID string
	InvoiceID string
	// PatientID is copied from the account for the FHIR Claim.
	PatientID string
	Coverage  Coverage
	Diagnoses []Diagnosis
	Lines     []ClaimLine
	Total     Money
	Status    ClaimStatus
	// RecordID is the id of the FHIR Claim written to the clinical
	// record when the claim was submitted.
	RecordID string
	// Paid, Adjusted and PatientResponsibility sum the posted
	// remittances.
	Paid                  Money
	Adjusted              Money
	PatientResponsibility Money
	Version               int64
	Created               time.Time
	Updated               time.Time
	UpdatedBy             string
	// Reason is the reason of the last status change, such as a payer's
	// rejection text.
	Reason string
}

// Diagnosis is an ICD-10 code on a claim, in order of importance.
type Diagnosis struct {
	Sequence int    `json:"sequence"`
	Code     string `json:"code"`
}

// ClaimLine is one service line of a claim.
type ClaimLine struct {
	Sequence int    `json:"sequence"`
	ChargeID string `json:"charge"`
	Code     string `json:"code"`
	System   string `json:"system"`
	Quantity int64  `json:"quantity"`
	// Amount is the line total billed.
	Amount Money `json:"amount"`
	// DiagnosisPointers are sequences of Diagnoses that justify the line.
	DiagnosisPointers []int     `json:"diagnosis_pointers"`
	ServiceDate       time.Time `json:"service_date"`
}

// Remittance is a payer's response to a claim: the amounts it pays,
// adjusts off under its contract and leaves to the patient, per line and
// for the whole claim.
type Remittance struct {
	ClaimID string
	// Outcome is "complete", "error" or "partial" as FHIR
	// ClaimResponse.outcome; "error" rejects the claim.
	Outcome string
	// Reference is the payer's remittance or payment id.
	Reference string
	// PayerID identifies the payer in the remittance, TRN03 of an 835.
	PayerID string
	Lines   []RemittanceLine
	// Adjusted and PatientResponsibility are the claim-level amounts
	// that no line carries, such as the CAS segments of an 835 claim
	// outside its service lines. Zero when there are none.
	Adjusted              Money
	PatientResponsibility Money
	Received              time.Time
	By                    string
	// Reason is the payer's disposition text.
	Reason string
}

// RemittanceAdvice is one payment of a payer that a remittance advice
// announces, such as one 835 transaction set. The payer and its trace
// number identify it, and billing posts each advice once.
type RemittanceAdvice struct {
	// PayerID is the payer's identifier, TRN03 of an 835.
	PayerID string
	// Reference is the payer's trace number of the payment, the check or
	// EFT number in TRN02 of an 835.
	Reference string
	// Claims is how many claim payments the advice carries.
	Claims   int
	Received time.Time
	Posted   time.Time
	PostedBy string
}

// RemittanceLine is the adjudication of one claim line.
type RemittanceLine struct {
	Sequence              int
	Paid                  Money
	Adjusted              Money
	PatientResponsibility Money
}

// Statement is the summary of an account over a period: its invoices with
// balances, its payments, and its credit.
type Statement struct {
	AccountID string
	PatientID string
	Currency  string
	From, To  time.Time
	// Opening is the receivable balance before From, less credit.
	Opening  Money
	Invoices []Invoice
	Payments []Payment
	// Entries are the account's ledger entries in the period.
	Entries []Entry
	// Credit is unapplied money the account holds at To.
	Credit Money
	// Due is the sum of open invoice balances at To, less Credit.
	Due Money
}

// Event is a domain event in the outbox.
type Event struct {
	// Position orders events; subscribers read from a position onwards.
	Position int64
	// Type is a name such as "billing.invoice.issued".
	Type string
	// Subject is the id of the charge, invoice, payment or claim.
	Subject string
	Version int64
	Time    time.Time
	// Data is a JSON object with ids, amounts, codes and statuses, never
	// patient values.
	Data json.RawMessage
}

// Event types.
const (
	EventChargeCaptured  = "billing.charge.captured"
	EventChargeReversed  = "billing.charge.reversed"
	EventInvoiceDrafted  = "billing.invoice.drafted"
	EventInvoiceIssued   = "billing.invoice.issued"
	EventInvoiceCanceled = "billing.invoice.cancelled"
	EventPaymentPosted   = "billing.payment.posted"
	EventRefundPosted    = "billing.refund.posted"
	EventAdjustment      = "billing.adjustment.posted"
	EventClaimSubmitted  = "billing.claim.submitted"
	EventClaimStatus     = "billing.claim.status-changed"
	EventAccountChanged  = "billing.account.changed"
)

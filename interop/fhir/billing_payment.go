package fhir

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

// PaymentTypeSystem is the R4 code system of PaymentReconciliation.detail.type.
const PaymentTypeSystem = "http://terminology.hl7.org/CodeSystem/payment-type"

// paymentResource is the FHIR R4 PaymentReconciliation as this package
// writes and reads it: one payment or refund, with one detail per
// invoice it is applied to. The account, method, kind, claim and the
// part kept as account credit are extensions.
type paymentResource struct {
	ResourceType      string             `json:"resourceType"`
	ID                string             `json:"id,omitempty"`
	Meta              *billingMeta       `json:"meta,omitempty"`
	Extension         []billingExtension `json:"extension,omitempty"`
	Status            string             `json:"status"`
	Created           string             `json:"created,omitempty"`
	PaymentIssuer     *billingReference  `json:"paymentIssuer,omitempty"`
	Outcome           string             `json:"outcome,omitempty"`
	PaymentDate       string             `json:"paymentDate,omitempty"`
	PaymentAmount     *fhirMoney         `json:"paymentAmount,omitempty"`
	PaymentIdentifier *fhirIdentifier    `json:"paymentIdentifier,omitempty"`
	Detail            []paymentDetail    `json:"detail,omitempty"`
}

type paymentDetail struct {
	Type    codeableConcept   `json:"type"`
	Request *billingReference `json:"request,omitempty"`
	Amount  *fhirMoney        `json:"amount,omitempty"`
}

func paymentResourceOf(p *billing.Payment) (*emr.Resource, error) {
	res := paymentResource{
		ResourceType: "PaymentReconciliation",
		ID:           p.ID,
		Meta:         metaOf(1, p.Posted, p.PostedBy),
		Extension: []billingExtension{
			{URL: extensionPaymentAccount, ValueReference: &billingReference{Reference: "Account/" + p.AccountID}},
			{URL: extensionPaymentKind, ValueCode: string(p.Kind)},
			{URL: extensionPaymentUnapplied, ValueMoney: moneyJSON(p.Unapplied)},
		},
		Status:        "active",
		Created:       dateTime(p.Posted),
		Outcome:       "complete",
		PaymentDate:   p.Received.Format(time.DateOnly),
		PaymentAmount: moneyJSON(p.Amount),
	}
	if p.Method != "" {
		res.Extension = append(res.Extension, billingExtension{URL: extensionPaymentMethod, ValueString: p.Method})
	}
	if p.ClaimID != "" {
		res.Extension = append(res.Extension, billingExtension{URL: extensionPaymentClaim, ValueString: p.ClaimID})
	}
	if p.Payer != "" {
		if strings.Contains(p.Payer, "/") {
			res.PaymentIssuer = &billingReference{Reference: p.Payer}
		} else {
			res.PaymentIssuer = &billingReference{Display: p.Payer}
		}
	}
	if p.Reference != "" {
		res.PaymentIdentifier = &fhirIdentifier{Value: p.Reference}
	}
	for _, a := range p.Allocations {
		res.Detail = append(res.Detail, paymentDetail{
			Type:    codeableConcept{Coding: []coding{{System: PaymentTypeSystem, Code: "payment"}}},
			Request: &billingReference{Reference: "Invoice/" + a.InvoiceID},
			Amount:  moneyJSON(a.Amount),
		})
	}
	return billingResource("PaymentReconciliation", p.ID, 1, p.Posted, res)
}

func (h *handler) readPayment(x *exchange) {
	readBilling(h, x, h.cfg.Billing.GetPayment, paymentResourceOf)
}

// createPayment serves POST PaymentReconciliation: it posts a payment
// received. Each detail applies part of it to the Invoice in its
// request. Without details, the payment goes to the account's open
// invoices oldest first. A payment larger than what it is applied to is
// rejected unless the allow-credit extension is true, which keeps the
// rest as account credit. Posted payments never change, so there is no
// update.
func (h *handler) createPayment(x *exchange) {
	var in paymentResource
	kept, err := h.decodeBillingBody(x, "PaymentReconciliation", &in)
	if err != nil {
		h.fail(x, err)
		return
	}

	p, err := h.parsePaymentBody(x, &in)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	pay, err := h.cfg.Billing.PostPayment(x.ctx, *p)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	writeMapped(h, x, http.StatusCreated, pay, paymentResourceOf, kept)
}

// parsePaymentBody reads a PaymentReconciliation into a payment to post.
// Without the account extension, the account is that of the Invoice in
// the first detail.
func (h *handler) parsePaymentBody(x *exchange, in *paymentResource) (*billing.PaymentParams, error) {
	if in.Status != "active" {
		return nil, badElement("invalid", "PaymentReconciliation.status", "status must be active")
	}

	amount, err := parseMoney("PaymentReconciliation.paymentAmount", in.PaymentAmount)
	if err != nil {
		return nil, err
	}

	err = rejectSent(map[string]bool{
		"PaymentReconciliation.created": in.Created != "",
		"PaymentReconciliation.outcome": in.Outcome != "" && in.Outcome != "complete",
		"PaymentReconciliation.extension": extensionOf(in.Extension, extensionPaymentUnapplied) != nil ||
			extensionOf(in.Extension, extensionPaymentClaim) != nil,
		"PaymentReconciliation.paymentIdentifier.system": in.PaymentIdentifier != nil && in.PaymentIdentifier.System != "",
		"PaymentReconciliation.paymentIssuer.display": in.PaymentIssuer != nil && in.PaymentIssuer.Reference != "" &&
			in.PaymentIssuer.Display != "",
		"PaymentReconciliation.paymentIssuer.identifier": in.PaymentIssuer != nil && in.PaymentIssuer.Identifier != nil,
	}, "the billing service sets this element or cannot store it: it keeps the payer as a reference or a display, the payer's reference as a value only, and sets created, outcome, the credit kept and the claim")
	if err != nil {
		return nil, err
	}

	p := &billing.PaymentParams{Amount: amount, By: h.by(x)}
	if e := extensionOf(in.Extension, extensionPaymentKind); e != nil && e.ValueCode != string(billing.PaymentReceived) {
		return nil, unprocessable("PaymentReconciliation.extension", "only payments received are posted here; refunds draw on account credit through the billing service")
	}
	if e := extensionOf(in.Extension, extensionPaymentAccount); e != nil && e.ValueReference != nil {
		id, ok := refID(e.ValueReference.Reference, "Account")
		if !ok {
			return nil, badElement("invalid", "PaymentReconciliation.extension", "the account extension must reference an Account")
		}
		p.AccountID = id
	}
	if e := extensionOf(in.Extension, extensionPaymentMethod); e != nil {
		p.Method = e.ValueString
	}
	if e := extensionOf(in.Extension, extensionAllowCredit); e != nil && e.ValueBoolean != nil {
		p.AllowCredit = *e.ValueBoolean
	}

	if in.PaymentIssuer != nil {
		p.Payer = in.PaymentIssuer.Reference
		if p.Payer == "" {
			p.Payer = in.PaymentIssuer.Display
		}
	}
	if in.PaymentIdentifier != nil {
		p.Reference = in.PaymentIdentifier.Value
	}
	if in.PaymentDate != "" {
		if p.Received, err = parseInstant(in.PaymentDate, time.UTC); err != nil {
			return nil, badElement("invalid", "PaymentReconciliation.paymentDate", "paymentDate must be a date such as 2025-03-03")
		}
	}

	if in.Detail != nil {
		p.Allocations = []billing.Allocation{}
	}
	for i, d := range in.Detail {
		path := "PaymentReconciliation.detail[" + strconv.Itoa(i) + "]"
		if !paymentDetailType(d.Type) {
			return nil, unprocessable(path+".type", "each detail is a payment: code payment of system "+PaymentTypeSystem+", or the text payment")
		}
		if d.Request == nil {
			return nil, badElement("required", path+".request", "each detail must reference the Invoice it pays")
		}
		invoiceID, ok := refID(d.Request.Reference, "Invoice")
		if !ok {
			return nil, badElement("invalid", path+".request", "the request must be a reference such as Invoice/[id]")
		}
		m, err := parseMoney(path+".amount", d.Amount)
		if err != nil {
			return nil, err
		}
		p.Allocations = append(p.Allocations, billing.Allocation{InvoiceID: invoiceID, Amount: m})
		if p.AccountID == "" {
			inv, err := h.cfg.Billing.GetInvoice(x.ctx, invoiceID)
			if statusOf(billingError(err)) == http.StatusNotFound {
				return nil, unprocessable(path+".request", "the invoice does not exist")
			}
			if err != nil {
				return nil, err
			}
			p.AccountID = inv.AccountID
		}
	}

	if p.AccountID == "" {
		return nil, unprocessable("PaymentReconciliation", "name the Account in the "+extensionPaymentAccount+" extension, or reference an Invoice in a detail")
	}
	return p, nil
}

// paymentDetailType reports whether a detail type names a payment, the
// one kind of detail stored. An empty type is a payment too.
func paymentDetailType(c codeableConcept) bool {
	if c.Text != "" && c.Text != "payment" {
		return false
	}
	for _, cd := range c.Coding {
		if cd.Code != "payment" || (cd.System != "" && cd.System != PaymentTypeSystem) {
			return false
		}
	}
	return true
}

// searchPayments serves PaymentReconciliation search by created,
// identifier (the payer's reference) and status, oldest first.
func (h *handler) searchPayments(x *exchange) {
	params, p, err := h.billingSearchParams(x, "created", "identifier", "status")
	if err != nil {
		h.fail(x, err)
		return
	}
	created, err := dateBounds(params, "created")
	if err != nil {
		h.fail(x, err)
		return
	}

	list, err := h.cfg.Billing.ListPayments(x.ctx, billing.PaymentFilter{Limit: maxPageWindow})
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	identifiers, statuses := tokenValues(params, "identifier"), tokenValues(params, "status")
	var found []*emr.Resource
	for i := range list {
		pay := &list[i]
		if !matchAll(identifiers, func(tok string) bool { return pay.Reference != "" && tokenMatches(tok, "", pay.Reference) }) ||
			!matchAll(statuses, func(s string) bool { return s == "active" }) ||
			!created.contains(pay.Posted) {
			continue
		}
		res, err := paymentResourceOf(pay)
		if err != nil {
			h.fail(x, err)
			return
		}
		found = append(found, res)
	}
	h.writeBillingSearch(x, "/PaymentReconciliation", params, p, found)
}

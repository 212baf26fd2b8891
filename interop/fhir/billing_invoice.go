package fhir

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

// FacilitySystem is the identifier system of Invoice.issuer: the value is
// the facility whose sequence numbers the invoice.
const FacilitySystem = "urn:nexus-health-360:facility"

// invoiceResource is the FHIR R4 Invoice as this package writes and reads
// it. A credit note is an Invoice whose kind extension is credit-note.
type invoiceResource struct {
	ResourceType    string             `json:"resourceType"`
	ID              string             `json:"id,omitempty"`
	Meta            *billingMeta       `json:"meta,omitempty"`
	Extension       []billingExtension `json:"extension,omitempty"`
	Identifier      []fhirIdentifier   `json:"identifier,omitempty"`
	Status          string             `json:"status"`
	CancelledReason string             `json:"cancelledReason,omitempty"`
	Subject         *billingReference  `json:"subject,omitempty"`
	Date            string             `json:"date,omitempty"`
	Issuer          *billingReference  `json:"issuer,omitempty"`
	Account         *billingReference  `json:"account,omitempty"`
	LineItem        []invoiceLineItem  `json:"lineItem,omitempty"`
	TotalNet        *fhirMoney         `json:"totalNet,omitempty"`
	TotalGross      *fhirMoney         `json:"totalGross,omitempty"`
}

type invoiceLineItem struct {
	Sequence            int               `json:"sequence,omitempty"`
	ChargeItemReference *billingReference `json:"chargeItemReference,omitempty"`
	PriceComponent      []priceComponent  `json:"priceComponent,omitempty"`
}

// invoiceNumberSystem returns the system of an invoice number: invoices
// and credit notes are numbered in separate sequences per facility.
func invoiceNumberSystem(inv *billing.Invoice) string {
	s := InvoiceNumberSystem + inv.FacilityID
	if inv.Kind == billing.KindCreditNote {
		s += ":" + string(billing.KindCreditNote)
	}
	return s
}

// numberIdentifiers returns the identifier of an issued invoice's number.
func numberIdentifiers(inv *billing.Invoice) []fhirIdentifier {
	if inv.Number == 0 {
		return nil
	}
	return []fhirIdentifier{{System: invoiceNumberSystem(inv), Value: strconv.FormatInt(inv.Number, 10)}}
}

// invoiceNumberSystemOf reports whether system is one the server assigns
// to invoice numbers.
func invoiceNumberSystemOf(system string) bool { return strings.HasPrefix(system, InvoiceNumberSystem) }

func invoiceResourceOf(inv *billing.Invoice, a *billing.Account) (*emr.Resource, error) {
	res := invoiceResource{
		ResourceType: "Invoice",
		ID:           inv.ID,
		Meta:         metaOf(inv.Version, inv.Updated, inv.UpdatedBy),
		Extension: []billingExtension{
			{URL: extensionInvoiceKind, ValueCode: string(inv.Kind)},
			{URL: extensionInvoiceBalance, ValueMoney: moneyJSON(inv.Balance)},
		},
		Status:     string(inv.Status),
		Subject:    &billingReference{Reference: "Patient/" + a.PatientID},
		Issuer:     &billingReference{Identifier: &fhirIdentifier{System: FacilitySystem, Value: inv.FacilityID}},
		Account:    &billingReference{Reference: "Account/" + inv.AccountID},
		TotalNet:   moneyJSON(inv.TotalNet),
		TotalGross: moneyJSON(inv.TotalGross),
	}
	res.Identifier = append(numberIdentifiers(inv), identifiersJSON(inv.Identifiers)...)
	if !inv.Issued.IsZero() {
		res.Date = dateTime(inv.Issued)
	}
	if inv.Status == billing.InvoiceCancelled {
		res.CancelledReason = inv.Reason
	}
	if inv.Credits != "" {
		res.Extension = append(res.Extension, billingExtension{URL: extensionInvoiceCredits, ValueReference: &billingReference{Reference: "Invoice/" + inv.Credits}})
	}
	if inv.CreditedBy != "" {
		res.Extension = append(res.Extension, billingExtension{URL: extensionInvoiceCredited, ValueReference: &billingReference{Reference: "Invoice/" + inv.CreditedBy}})
	}
	for _, l := range inv.Lines {
		item := invoiceLineItem{
			Sequence:            l.Sequence,
			ChargeItemReference: &billingReference{Reference: "ChargeItem/" + l.ChargeID},
			PriceComponent:      []priceComponent{{Type: "base", Amount: moneyJSON(l.Gross)}},
		}
		if l.Discount.Amount != 0 {
			item.PriceComponent = append(item.PriceComponent, priceComponent{Type: "discount", Amount: moneyJSON(l.Discount)})
		}
		item.PriceComponent = append(item.PriceComponent, priceComponent{Type: "tax", Factor: rateJSON(l.TaxRate), Amount: moneyJSON(l.Tax)})
		res.LineItem = append(res.LineItem, item)
	}
	return billingResource("Invoice", inv.ID, inv.Version, inv.Updated, res)
}

func (h *handler) invoiceResource(ctx context.Context, inv *billing.Invoice) (*emr.Resource, error) {
	a, err := h.cfg.Billing.GetAccount(ctx, inv.AccountID)
	if err != nil {
		return nil, err
	}
	return invoiceResourceOf(inv, a)
}

func (h *handler) readInvoice(x *exchange) {
	readBilling(h, x, h.cfg.Billing.GetInvoice, func(inv *billing.Invoice) (*emr.Resource, error) {
		return h.invoiceResource(x.ctx, inv)
	})
}

// createInvoice serves POST Invoice: status draft drafts an invoice from
// the account's open charges (those of lineItem.chargeItemReference when
// given), and status issued also issues it, in one transaction. totalNet
// and totalGross, when sent, must equal the sums of the lines, or nothing
// is stored. The number identifier, date, prices and balance are set by
// the service, so a body that sends them gets 422, and other identifiers
// are stored with the invoice.
func (h *handler) createInvoice(x *exchange) {
	var in invoiceResource
	kept, err := h.decodeBillingBody(x, "Invoice", &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	p, err := h.parseInvoiceBody(x.ctx, &in)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	p.By = h.by(x)
	inv, err := h.cfg.Billing.DraftInvoice(x.ctx, *p)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	res, err := h.invoiceResource(x.ctx, inv)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	h.writeBillingWritten(x, kept, http.StatusCreated, res, "created")
}

// parseInvoiceBody reads a new Invoice into the parameters of a draft.
func (h *handler) parseInvoiceBody(ctx context.Context, in *invoiceResource) (*billing.DraftInvoiceParams, error) {
	p := &billing.DraftInvoiceParams{}
	switch billing.InvoiceStatus(in.Status) {
	case billing.InvoiceDraft:
	case billing.InvoiceIssued:
		p.Issue = true
	default:
		return nil, badElement("not-supported", "Invoice.status", "a new invoice must be draft or issued")
	}

	if e := extensionOf(in.Extension, extensionInvoiceKind); e != nil && e.ValueCode != string(billing.KindInvoice) {
		return nil, unprocessable("Invoice.extension", "credit notes are issued by cancelling an invoice")
	}

	sent := map[string]bool{
		"Invoice.date":            in.Date != "",
		"Invoice.cancelledReason": in.CancelledReason != "",
		"Invoice.extension": extensionOf(in.Extension, extensionInvoiceBalance) != nil ||
			extensionOf(in.Extension, extensionInvoiceCredits) != nil || extensionOf(in.Extension, extensionInvoiceCredited) != nil,
	}
	for i, item := range in.LineItem {
		sent["Invoice.lineItem["+strconv.Itoa(i)+"].priceComponent"] = len(item.PriceComponent) > 0
		sent["Invoice.lineItem["+strconv.Itoa(i)+"].sequence"] = item.Sequence != 0 && item.Sequence != i+1
	}
	if err := rejectSent(sent, "the billing service sets this element from the charges when it drafts or issues the invoice; leave it out"); err != nil {
		return nil, err
	}

	ids, err := clientIdentifiers("Invoice.identifier", in.Identifier, invoiceNumberSystemOf, nil)
	if err != nil {
		return nil, err
	}
	p.Identifiers = ids

	if in.Account == nil {
		return nil, badElement("required", "Invoice.account", "name the Account whose charges are invoiced")
	}
	a, err := h.referencedAccount(ctx, "Invoice.account", in.Account.Reference)
	if err != nil {
		return nil, err
	}
	p.AccountID = a.ID
	if in.Subject != nil && in.Subject.Reference != "Patient/"+a.PatientID {
		return nil, unprocessable("Invoice.subject", "the subject must be the Patient of the account")
	}

	if in.Issuer != nil {
		if in.Issuer.Identifier == nil || in.Issuer.Identifier.System != FacilitySystem || in.Issuer.Identifier.Value == "" || in.Issuer.Reference != "" {
			return nil, unprocessable("Invoice.issuer", "the issuer is the facility, given only as an identifier in system "+FacilitySystem)
		}
		p.FacilityID = in.Issuer.Identifier.Value
	}

	for i, item := range in.LineItem {
		path := "Invoice.lineItem[" + strconv.Itoa(i) + "].chargeItemReference"
		if item.ChargeItemReference == nil {
			return nil, badElement("required", path, "each line must reference a ChargeItem of the account")
		}
		id, ok := refID(item.ChargeItemReference.Reference, "ChargeItem")
		if !ok {
			return nil, badElement("invalid", path, "the line must be a reference such as ChargeItem/[id]")
		}
		p.ChargeIDs = append(p.ChargeIDs, id)
	}

	if in.TotalNet != nil {
		m, err := parseMoney("Invoice.totalNet", in.TotalNet)
		if err != nil {
			return nil, err
		}
		p.ExpectNet = &m
	}
	if in.TotalGross != nil {
		m, err := parseMoney("Invoice.totalGross", in.TotalGross)
		if err != nil {
			return nil, err
		}
		p.ExpectGross = &m
	}
	return p, nil
}

// updateInvoice serves PUT Invoice/[id], which changes only the status:
// draft to issued issues it, draft to cancelled discards it, and issued
// or balanced to cancelled issues a credit note with cancelledReason. An
// issued invoice never changes otherwise, so any other change gets 422.
// If-Match, when sent, must name the current version.
func (h *handler) updateInvoice(x *exchange) {
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}

	var in invoiceResource
	kept, err := h.decodeBillingBody(x, "Invoice", &in)
	if err != nil {
		h.fail(x, err)
		return
	}

	cur, err := h.cfg.Billing.GetInvoice(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	if ifMatch != 0 && ifMatch != cur.Version {
		h.fail(x, requestError(http.StatusPreconditionFailed, "conflict", "If-Match does not name the current version of the invoice"))
		return
	}
	if err := sameInvoice(&in, cur); err != nil {
		h.fail(x, err)
		return
	}

	from, to := cur.Status, billing.InvoiceStatus(in.Status)
	by := h.by(x)
	switch {
	case from == to:
	case from == billing.InvoiceDraft && to == billing.InvoiceIssued:
		cur, err = h.cfg.Billing.IssueInvoice(x.ctx, cur.ID, by)
	case from == billing.InvoiceDraft && to == billing.InvoiceCancelled:
		cur, err = h.cfg.Billing.DiscardDraft(x.ctx, cur.ID, in.CancelledReason, by)
	case (from == billing.InvoiceIssued || from == billing.InvoiceBalanced) && to == billing.InvoiceCancelled:
		if _, err = h.cfg.Billing.CancelInvoice(x.ctx, billing.CancelInvoiceParams{InvoiceID: cur.ID, Reason: in.CancelledReason, By: by}); err == nil {
			cur, err = h.cfg.Billing.GetInvoice(x.ctx, cur.ID)
		}
	default:
		h.fail(x, unprocessable("Invoice.status", "an invoice cannot go from "+string(from)+" to "+in.Status+
			"; issue a draft, or cancel an issued invoice with a credit note"))
		return
	}
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	res, err := h.invoiceResource(x.ctx, cur)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	h.writeBillingWritten(x, kept, http.StatusOK, res, "updated")
}

// sameInvoice rejects a PUT body whose account, totals or lines differ
// from the stored invoice, because lines and totals never change once
// drafted: an issued invoice is cancelled by a credit note, and a draft
// is discarded and drafted again.
func sameInvoice(in *invoiceResource, cur *billing.Invoice) error {
	immutable := func(path string) error {
		if cur.Status == billing.InvoiceDraft {
			return unprocessable(path, "the lines and totals of a draft come from its charges; discard it and draft again")
		}
		return unprocessable(path, "an issued invoice never changes; cancel it, which issues a credit note")
	}
	if in.Account != nil && in.Account.Reference != "Account/"+cur.AccountID {
		return immutable("Invoice.account")
	}
	ids, err := clientIdentifiers("Invoice.identifier", in.Identifier, invoiceNumberSystemOf, numberIdentifiers(cur))
	if err != nil {
		return err
	}
	if !slices.Equal(ids, cur.Identifiers) {
		return unprocessable("Invoice.identifier", "the identifiers of an invoice are set when it is drafted and never change")
	}
	for _, t := range []struct {
		path string
		sent *fhirMoney
		want billing.Money
	}{{"Invoice.totalNet", in.TotalNet, cur.TotalNet}, {"Invoice.totalGross", in.TotalGross, cur.TotalGross}} {
		if t.sent == nil {
			continue
		}
		if m, err := parseMoney(t.path, t.sent); err != nil || m != t.want {
			return immutable(t.path)
		}
	}
	if in.LineItem == nil {
		return nil
	}
	if len(in.LineItem) != len(cur.Lines) {
		return immutable("Invoice.lineItem")
	}
	for i, item := range in.LineItem {
		if item.ChargeItemReference == nil || item.ChargeItemReference.Reference != "ChargeItem/"+cur.Lines[i].ChargeID {
			return immutable("Invoice.lineItem[" + strconv.Itoa(i) + "]")
		}
	}
	return nil
}

// searchInvoices serves Invoice search, oldest first. date matches the
// issue time.
func (h *handler) searchInvoices(x *exchange) {
	params, p, err := h.billingSearchParams(x, "account", "patient", "subject", "status", "identifier", "date")
	if err != nil {
		h.fail(x, err)
		return
	}
	issued, err := dateBounds(params, "date")
	if err != nil {
		h.fail(x, err)
		return
	}

	// NOTE: as for ChargeItem, parameters other than account filter the
	// first maxPageWindow invoices.
	accounts, identifiers := tokenValues(params, "account"), tokenValues(params, "identifier")
	f := billing.InvoiceFilter{Limit: maxPageWindow, AccountID: accountParamID(accounts), Identifier: identifierFilter(identifiers, invoiceNumberSystemOf)}
	list, err := h.cfg.Billing.ListInvoices(x.ctx, f)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	patients, statuses := patientRefs(params), tokenValues(params, "status")
	cache := &accountCache{svc: h.cfg.Billing}
	var found []*emr.Resource
	for i := range list {
		inv := &list[i]
		a, err := cache.get(x.ctx, inv.AccountID)
		if err != nil {
			h.fail(x, billingError(err))
			return
		}
		ok := matchAccount(accounts, inv.AccountID) &&
			matchAll(patients, func(id string) bool { return id == a.PatientID }) &&
			matchAll(statuses, func(s string) bool { return s == string(inv.Status) }) &&
			matchAll(identifiers, func(tok string) bool {
				return identifierMatches(tok, append(numberIdentifiers(inv), identifiersJSON(inv.Identifiers)...))
			}) &&
			(params["date"] == nil || (!inv.Issued.IsZero() && issued.contains(inv.Issued)))
		if !ok {
			continue
		}
		res, err := invoiceResourceOf(inv, a)
		if err != nil {
			h.fail(x, err)
			return
		}
		found = append(found, res)
	}
	h.writeBillingSearch(x, "/Invoice", params, p, found)
}

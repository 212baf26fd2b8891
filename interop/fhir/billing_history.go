package fhir

import (
	"context"
	"net/http"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

// billingVersions returns every version of a billing resource, oldest
// first, for history and vread. Charges and payments never change, so
// they have one version.
func (h *handler) billingVersions(ctx context.Context, typ, id string) ([]*emr.Resource, error) {
	var out []*emr.Resource
	add := func(res *emr.Resource, err error) error {
		if err != nil {
			return err
		}
		if err := h.mergeKept(ctx, res); err != nil {
			return err
		}
		res.Method = "update"
		if len(out) == 0 {
			res.Method = "create"
		}
		out = append(out, res)
		return nil
	}
	switch typ {
	case "Account":
		versions, err := h.cfg.Billing.AccountHistory(ctx, id)
		if err != nil {
			return nil, err
		}
		for i := range versions {
			if err := add(accountResourceOf(&versions[i])); err != nil {
				return nil, err
			}
		}
	case "ChargeItemDefinition":
		versions, err := h.cfg.Billing.ChargeDefinitionHistory(ctx, id)
		if err != nil {
			return nil, err
		}
		for i := range versions {
			if err := add(chargeDefinitionResourceOf(&versions[i])); err != nil {
				return nil, err
			}
		}
	case "Invoice":
		return h.invoiceVersions(ctx, id)
	case "ChargeItem":
		c, err := h.cfg.Billing.GetCharge(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := add(h.chargeResource(ctx, c)); err != nil {
			return nil, err
		}
	case "PaymentReconciliation":
		p, err := h.cfg.Billing.GetPayment(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := add(paymentResourceOf(p)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// invoiceVersions returns each recorded version of an invoice. A version
// has the status, number, reason, time and user recorded for it, and the
// balance of the ledger entries posted up to its time. Lines and totals
// never change once drafted, so they are the current ones.
func (h *handler) invoiceVersions(ctx context.Context, id string) ([]*emr.Resource, error) {
	inv, err := h.cfg.Billing.GetInvoice(ctx, id)
	if err != nil {
		return nil, err
	}
	a, err := h.cfg.Billing.GetAccount(ctx, inv.AccountID)
	if err != nil {
		return nil, err
	}
	versions, err := h.cfg.Billing.InvoiceHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	entries, err := h.cfg.Billing.ListEntries(ctx, billing.EntryFilter{InvoiceID: id})
	if err != nil {
		return nil, err
	}
	out := make([]*emr.Resource, 0, len(versions))
	for _, v := range versions {
		snapshot := *inv
		snapshot.Version, snapshot.Status, snapshot.Number = v.Version, v.Status, v.Number
		snapshot.Updated, snapshot.UpdatedBy = v.Changed, v.ChangedBy
		snapshot.Balance = receivableAt(entries, inv.Currency, v.Changed)
		snapshot.Reason, snapshot.CreditedBy = "", ""
		if v.Status == billing.InvoiceCancelled {
			snapshot.Reason, snapshot.CreditedBy = v.Reason, inv.CreditedBy
		}
		if v.Number == 0 {
			snapshot.Issued, snapshot.IssuedBy = time.Time{}, ""
		}
		res, err := invoiceResourceOf(&snapshot, a)
		if err != nil {
			return nil, err
		}
		if err := h.mergeKept(ctx, res); err != nil {
			return nil, err
		}
		res.Method = "update"
		if v.Version == 1 {
			res.Method = "create"
		}
		out = append(out, res)
	}
	return out, nil
}

// receivableAt sums the receivable entries posted up to at.
//
// NOTE: entries are matched to versions by time, so an entry posted in
// the same microsecond as a version, by the next change, counts toward
// that version's balance.
func receivableAt(entries []billing.Entry, currency string, at time.Time) billing.Money {
	m := billing.Money{Currency: currency}
	for _, e := range entries {
		if e.Posted.After(at) {
			continue
		}
		if e.Debit == billing.BookReceivable {
			m.Amount += e.Amount.Amount
		}
		if e.Credit == billing.BookReceivable {
			m.Amount -= e.Amount.Amount
		}
	}
	return m
}

// billingHistory serves GET [type]/[id]/_history for a billing type,
// newest first, in one page.
func (h *handler) billingHistory(x *exchange) {
	if err := checkNoParams(x); err != nil {
		h.fail(x, err)
		return
	}
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	versions, err := h.billingVersions(x.ctx, x.path.typ, x.path.id)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	b := newBundle("history")
	path := "/" + x.path.typ + "/" + x.path.id + "/_history"
	b.Link = append(b.Link, bundleLink{Relation: "self", URL: x.link(path, nil)})
	for i := len(versions) - 1; i >= 0; i-- {
		b.Entry = append(b.Entry, x.historyEntry(versions[i]))
	}
	h.writeJSON(x, http.StatusOK, b)
}

// billingVRead serves GET [type]/[id]/_history/[vid] for a billing type.
func (h *handler) billingVRead(x *exchange) {
	version, err := vreadTarget(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	versions, err := h.billingVersions(x.ctx, x.path.typ, x.path.id)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	for _, res := range versions {
		if res.VersionID == version {
			h.writeResource(x, http.StatusOK, res)
			return
		}
	}
	h.fail(x, requestError(http.StatusNotFound, "not-found", "the "+x.path.typ+" has no version "+x.path.version))
}

package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

// accountResource is the FHIR R4 Account as this package writes and
// reads it. The encounter and currency, which R4 Account has no element
// for, are extensions.
type accountResource struct {
	ResourceType string             `json:"resourceType"`
	ID           string             `json:"id,omitempty"`
	Meta         *billingMeta       `json:"meta,omitempty"`
	Extension    []billingExtension `json:"extension,omitempty"`
	Identifier   []fhirIdentifier   `json:"identifier,omitempty"`
	Status       string             `json:"status"`
	Subject      []billingReference `json:"subject,omitempty"`
	Coverage     []accountCoverage  `json:"coverage,omitempty"`
	Guarantor    []accountGuarantor `json:"guarantor,omitempty"`
}

type accountCoverage struct {
	Coverage billingReference `json:"coverage"`
	Priority int              `json:"priority,omitempty"`
}

type accountGuarantor struct {
	Party  billingReference `json:"party"`
	OnHold bool             `json:"onHold,omitempty"`
}

func accountResourceOf(a *billing.Account) (*emr.Resource, error) {
	res := accountResource{
		ResourceType: "Account",
		ID:           a.ID,
		Meta:         metaOf(a.Version, a.Updated, a.UpdatedBy),
		Status:       string(a.Status),
		Subject:      []billingReference{{Reference: "Patient/" + a.PatientID}},
		Extension:    []billingExtension{{URL: extensionAccountCurrency, ValueCode: a.Currency}},
		Identifier:   identifiersJSON(a.Identifiers),
	}
	if a.EncounterID != "" {
		res.Extension = append(res.Extension, billingExtension{URL: extensionAccountEncounter, ValueReference: &billingReference{Reference: "Encounter/" + a.EncounterID}})
	}
	for _, c := range a.Coverages {
		ref := billingReference{Identifier: &fhirIdentifier{System: coverageSystem(c.PayerID, c.PlanID), Value: c.MemberID}}
		if c.CoverageID != "" {
			ref.Reference = "Coverage/" + c.CoverageID
		}
		res.Coverage = append(res.Coverage, accountCoverage{Coverage: ref, Priority: c.Order})
	}
	for _, g := range a.Guarantors {
		res.Guarantor = append(res.Guarantor, accountGuarantor{Party: billingReference{Reference: g.Party}, OnHold: g.OnHold})
	}
	return billingResource("Account", a.ID, a.Version, a.Updated, res)
}

// coverageSystem returns the identifier system of a coverage without a
// Coverage resource: CoverageSystem, the payer and ":" plan, escaped.
func coverageSystem(payer, plan string) string {
	s := CoverageSystem + url.PathEscape(payer)
	if plan != "" {
		s += ":" + url.PathEscape(plan)
	}
	return s
}

// accountRequest is the content of a POST or PUT Account body.
type accountRequest struct {
	status      billing.AccountStatus
	patientID   string
	encounterID string
	currency    string
	identifiers []billing.Identifier
	guarantors  []billing.Guarantor
	coverages   []billing.Coverage
}

// parseAccountBody reads an Account. A coverage that references a
// Coverage takes its payer, plan and member id from the clinical record.
// A coverage without a reference gives them in its identifier.
func (h *handler) parseAccountBody(ctx context.Context, in *accountResource) (*accountRequest, error) {
	req := &accountRequest{status: billing.AccountStatus(in.Status)}
	if req.status != billing.AccountActive && req.status != billing.AccountInactive {
		return nil, badElement("invalid", "Account.status", "status must be active or inactive")
	}
	if len(in.Subject) != 1 {
		return nil, badElement("required", "Account.subject", "an account has exactly one subject, a Patient")
	}
	id, ok := refID(in.Subject[0].Reference, "Patient")
	if !ok {
		return nil, badElement("invalid", "Account.subject[0]", "the subject must be a reference such as Patient/[id]")
	}
	req.patientID = id

	ids, err := clientIdentifiers("Account.identifier", in.Identifier, noReservedSystem, nil)
	if err != nil {
		return nil, err
	}
	req.identifiers = ids

	if e := extensionOf(in.Extension, extensionAccountEncounter); e != nil && e.ValueReference != nil {
		enc, ok := refID(e.ValueReference.Reference, "Encounter")
		if !ok {
			return nil, badElement("invalid", "Account.extension", "the encounter extension must reference an Encounter")
		}
		req.encounterID = enc
	}
	if e := extensionOf(in.Extension, extensionAccountCurrency); e != nil {
		req.currency = e.ValueCode
	}

	for i, g := range in.Guarantor {
		req.guarantors = append(req.guarantors, billing.Guarantor{Party: g.Party.Reference, OnHold: g.OnHold})
		if g.Party.Reference == "" {
			return nil, badElement("required", fmt.Sprintf("Account.guarantor[%d].party", i), "the party must be a reference")
		}
	}

	for i, c := range in.Coverage {
		path := fmt.Sprintf("Account.coverage[%d].coverage", i)
		cov, err := h.accountCoverage(ctx, path, c.Coverage)
		if err != nil {
			return nil, err
		}
		cov.Order = c.Priority
		if cov.Order == 0 {
			cov.Order = i + 1
		}
		req.coverages = append(req.coverages, cov)
	}
	return req, nil
}

// accountCoverage resolves one Account.coverage reference.
func (h *handler) accountCoverage(ctx context.Context, path string, ref billingReference) (billing.Coverage, error) {
	if ref.Reference == "" {
		if ref.Identifier == nil || !strings.HasPrefix(ref.Identifier.System, CoverageSystem) || ref.Identifier.Value == "" {
			return billing.Coverage{}, badElement("required", path, "reference a Coverage, or give an identifier whose system is "+CoverageSystem+"[payer]")
		}
		payer, plan, _ := strings.Cut(strings.TrimPrefix(ref.Identifier.System, CoverageSystem), ":")
		payer, err1 := url.PathUnescape(payer)
		plan, err2 := url.PathUnescape(plan)
		if err1 != nil || err2 != nil || payer == "" {
			return billing.Coverage{}, badElement("invalid", path, "the identifier system must be "+CoverageSystem+"[payer] or [payer]:[plan]")
		}
		return billing.Coverage{PayerID: payer, PlanID: plan, MemberID: ref.Identifier.Value}, nil
	}
	id, ok := refID(ref.Reference, "Coverage")
	if !ok {
		return billing.Coverage{}, badElement("invalid", path, "the coverage must be a reference such as Coverage/[id]")
	}
	res, err := h.svc.Read(ctx, "Coverage", id)
	if statusOf(err) == http.StatusNotFound {
		return billing.Coverage{}, unprocessable(path, "the Coverage does not exist in the clinical record")
	}
	if err != nil {
		return billing.Coverage{}, err
	}
	cov, err := coverageOf(res.Body)
	if err != nil {
		return billing.Coverage{}, unprocessable(path, err.Error())
	}
	cov.CoverageID = id
	return cov, nil
}

// coverageOf reads the payer, plan and member id of a FHIR Coverage: the
// first payor (the id of an Organization reference), the class of type
// plan, and subscriberId or else the first identifier.
func coverageOf(body []byte) (billing.Coverage, error) {
	var in struct {
		Payor        []billingReference `json:"payor"`
		SubscriberID string             `json:"subscriberId"`
		Identifier   []fhirIdentifier   `json:"identifier"`
		Class        []struct {
			Type  codeableConcept `json:"type"`
			Value string          `json:"value"`
		} `json:"class"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return billing.Coverage{}, fmt.Errorf("the Coverage cannot be read")
	}
	var c billing.Coverage
	if len(in.Payor) > 0 {
		c.PayerID = in.Payor[0].Reference
		if id, ok := refID(c.PayerID, "Organization"); ok {
			c.PayerID = id
		}
	}
	if c.PayerID == "" {
		return c, fmt.Errorf("the Coverage has no payor reference")
	}
	c.MemberID = in.SubscriberID
	if c.MemberID == "" && len(in.Identifier) > 0 {
		c.MemberID = in.Identifier[0].Value
	}
	if c.MemberID == "" {
		return c, fmt.Errorf("the Coverage has no subscriberId or identifier for the member id")
	}
	for _, cl := range in.Class {
		if slices.ContainsFunc(cl.Type.Coding, func(cd coding) bool { return cd.Code == "plan" }) {
			c.PlanID = cl.Value
		}
	}
	return c, nil
}

func (h *handler) readAccount(x *exchange) {
	readBilling(h, x, h.cfg.Billing.GetAccount, accountResourceOf)
}

// createAccount serves POST Account: it opens an account for the
// subject Patient, which must exist in the clinical record.
func (h *handler) createAccount(x *exchange) {
	var in accountResource
	kept, err := h.decodeBillingBody(x, "Account", &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	req, err := h.parseAccountBody(x.ctx, &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	if _, err := h.svc.Read(x.ctx, "Patient", req.patientID); err != nil {
		if statusOf(err) == http.StatusNotFound {
			err = unprocessable("Account.subject[0]", "the Patient does not exist in the clinical record")
		}
		h.fail(x, err)
		return
	}
	a, err := h.cfg.Billing.OpenAccount(x.ctx, billing.OpenAccountParams{
		PatientID: req.patientID, EncounterID: req.encounterID, Currency: req.currency, Identifiers: req.identifiers,
		Guarantors: req.guarantors, Coverages: req.coverages, By: h.by(x),
	})
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	if req.status == billing.AccountInactive {
		a, err = h.cfg.Billing.UpdateAccount(x.ctx, billing.UpdateAccountParams{
			ID: a.ID, Version: a.Version, Status: req.status, Identifiers: a.Identifiers, Guarantors: a.Guarantors,
			Coverages: a.Coverages, By: h.by(x),
		})
		if err != nil {
			h.fail(x, billingError(err))
			return
		}
	}
	writeMapped(h, x, http.StatusCreated, a, accountResourceOf, kept)
}

// updateAccount serves PUT Account/[id], which changes the status,
// identifiers, guarantors and coverage. The subject, encounter and
// currency must equal the stored ones. If-Match, when sent, must name the
// current version.
func (h *handler) updateAccount(x *exchange) {
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}

	var in accountResource
	kept, err := h.decodeBillingBody(x, "Account", &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	cur, err := h.cfg.Billing.GetAccount(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	req, err := h.parseAccountBody(x.ctx, &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	switch {
	case req.patientID != cur.PatientID:
		h.fail(x, unprocessable("Account.subject", "the subject of an account never changes"))
		return
	case req.encounterID != cur.EncounterID:
		h.fail(x, unprocessable("Account.extension", "the encounter of an account never changes"))
		return
	case req.currency != "" && req.currency != cur.Currency:
		h.fail(x, unprocessable("Account.extension", "the currency of an account never changes"))
		return
	}

	version := ifMatch
	if version == 0 {
		version = cur.Version
	}
	a, err := h.cfg.Billing.UpdateAccount(x.ctx, billing.UpdateAccountParams{
		ID: cur.ID, Version: version, Status: req.status, Identifiers: req.identifiers, Guarantors: req.guarantors,
		Coverages: req.coverages, By: h.by(x),
	})
	if err != nil {
		if ifMatch != 0 && statusOf(billingError(err)) == http.StatusConflict {
			err = requestError(http.StatusPreconditionFailed, "conflict", "If-Match does not name the current version of the account")
		}
		h.fail(x, billingError(err))
		return
	}
	writeMapped(h, x, http.StatusOK, a, accountResourceOf, kept)
}

// searchAccounts serves Account search by identifier, patient, subject
// and status, oldest first.
func (h *handler) searchAccounts(x *exchange) {
	params, p, err := h.billingSearchParams(x, "identifier", "patient", "subject", "status")
	if err != nil {
		h.fail(x, err)
		return
	}

	patients, identifiers := patientRefs(params), tokenValues(params, "identifier")
	f := billing.AccountFilter{Limit: maxPageWindow, Identifier: identifierFilter(identifiers, noReservedSystem)}
	if len(patients) > 0 && len(patients[0]) == 1 {
		f.PatientID = patients[0][0]
	}
	list, err := h.cfg.Billing.ListAccounts(x.ctx, f)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	statuses := tokenValues(params, "status")
	var found []*emr.Resource
	for i := range list {
		a := &list[i]
		ids := identifiersJSON(a.Identifiers)
		if !matchAll(patients, func(id string) bool { return id == a.PatientID }) ||
			!matchAll(statuses, func(s string) bool { return s == string(a.Status) }) ||
			!matchAll(identifiers, func(tok string) bool { return identifierMatches(tok, ids) }) {
			continue
		}
		res, err := accountResourceOf(a)
		if err != nil {
			h.fail(x, err)
			return
		}
		found = append(found, res)
	}
	h.writeBillingSearch(x, "/Account", params, p, found)
}

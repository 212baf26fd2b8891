package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

// chargeItemResource is the FHIR R4 ChargeItem as this package writes and
// reads it. priceOverride is the total of the line before discount and
// tax (unit price times quantity), as R4 defines it.
type chargeItemResource struct {
	ResourceType        string             `json:"resourceType"`
	ID                  string             `json:"id,omitempty"`
	Meta                *billingMeta       `json:"meta,omitempty"`
	Extension           []billingExtension `json:"extension,omitempty"`
	Identifier          []fhirIdentifier   `json:"identifier,omitempty"`
	DefinitionCanonical []string           `json:"definitionCanonical,omitempty"`
	Status              string             `json:"status"`
	Code                codeableConcept    `json:"code"`
	Subject             *billingReference  `json:"subject,omitempty"`
	Context             *billingReference  `json:"context,omitempty"`
	OccurrenceDateTime  string             `json:"occurrenceDateTime,omitempty"`
	OccurrencePeriod    *period            `json:"occurrencePeriod,omitempty"`
	Quantity            *struct {
		Value json.Number `json:"value"`
	} `json:"quantity,omitempty"`
	FactorOverride json.Number        `json:"factorOverride,omitempty"`
	PriceOverride  *fhirMoney         `json:"priceOverride,omitempty"`
	OverrideReason string             `json:"overrideReason,omitempty"`
	Enterer        *billingReference  `json:"enterer,omitempty"`
	EnteredDate    string             `json:"enteredDate,omitempty"`
	Account        []billingReference `json:"account,omitempty"`
	Note           []annotation       `json:"note,omitempty"`
}

func chargeResourceOf(c *billing.Charge, a *billing.Account) (*emr.Resource, error) {
	res := chargeItemResource{
		ResourceType:        "ChargeItem",
		ID:                  c.ID,
		Meta:                metaOf(1, c.Entered, c.EnteredBy),
		DefinitionCanonical: []string{ChargeDefinitionURL + c.Code + "|" + strconv.FormatInt(c.DefinitionVersion, 10)},
		Status:              string(c.Status),
		Code:                codeableConcept{Coding: []coding{{System: c.System, Code: c.Code, Display: c.Display}}},
		Subject:             &billingReference{Reference: "Patient/" + a.PatientID},
		OccurrenceDateTime:  dateTime(c.ServiceDate),
		Quantity: &struct {
			Value json.Number `json:"value"`
		}{json.Number(strconv.FormatInt(c.Quantity, 10))},
		Enterer:     &billingReference{Display: c.EnteredBy},
		EnteredDate: dateTime(c.Entered),
		Account:     []billingReference{{Reference: "Account/" + a.ID}},
	}
	if a.EncounterID != "" {
		res.Context = &billingReference{Reference: "Encounter/" + a.EncounterID}
	}
	res.Identifier = append(sourceIdentifiers(c), identifiersJSON(c.Identifiers)...)
	if c.OverrideReason != "" {
		total, err := c.UnitPrice.Mul(c.Quantity)
		if err != nil {
			return nil, err
		}
		res.PriceOverride, res.OverrideReason = moneyJSON(total), c.OverrideReason
	}
	if c.Factor != 0 {
		res.FactorOverride = rateJSON(c.Factor)
	}
	if c.Reason != "" {
		res.Note = []annotation{{Text: c.Reason}}
	}
	if c.Reverses != "" {
		res.Extension = append(res.Extension, billingExtension{URL: extensionChargeReverses, ValueReference: &billingReference{Reference: "ChargeItem/" + c.Reverses}})
	}
	return billingResource("ChargeItem", c.ID, 1, c.Entered, res)
}

// sourceIdentifiers returns the identifier the server gives a captured
// charge, with the source event it was captured from.
func sourceIdentifiers(c *billing.Charge) []fhirIdentifier {
	if c.Source == "" {
		return nil
	}
	return []fhirIdentifier{{System: ChargeSourceSystem + c.Source, Value: c.SourceEventID}}
}

// chargeSourceSystem reports whether system is one the server assigns
// to captured charges.
func chargeSourceSystem(system string) bool { return strings.HasPrefix(system, ChargeSourceSystem) }

// accountCache reads each account once while mapping a list of records.
type accountCache struct {
	svc      BillingService
	accounts map[string]*billing.Account
}

func (c *accountCache) get(ctx context.Context, id string) (*billing.Account, error) {
	if a, ok := c.accounts[id]; ok {
		return a, nil
	}
	a, err := c.svc.GetAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.accounts == nil {
		c.accounts = map[string]*billing.Account{}
	}
	c.accounts[id] = a
	return a, nil
}

func (h *handler) chargeResource(ctx context.Context, c *billing.Charge) (*emr.Resource, error) {
	a, err := h.cfg.Billing.GetAccount(ctx, c.AccountID)
	if err != nil {
		return nil, err
	}
	return chargeResourceOf(c, a)
}

func (h *handler) readCharge(x *exchange) {
	readBilling(h, x, h.cfg.Billing.GetCharge, func(c *billing.Charge) (*emr.Resource, error) {
		return h.chargeResource(x.ctx, c)
	})
}

// createCharge serves POST ChargeItem: a manual charge on the account it
// names, priced from the chargemaster unless priceOverride is given. The
// reason for entering it by hand is the first note, and the identifiers
// are stored with the charge.
func (h *handler) createCharge(x *exchange) {
	var in chargeItemResource
	kept, err := h.decodeBillingBody(x, "ChargeItem", &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	p, err := h.parseChargeBody(x.ctx, &in)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	p.By = h.by(x)
	c, err := h.cfg.Billing.AddManualCharge(x.ctx, *p)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	res, err := h.chargeResource(x.ctx, c)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	h.writeBillingWritten(x, kept, http.StatusCreated, res, "created")
}

// parseChargeBody reads a new ChargeItem into a manual charge.
func (h *handler) parseChargeBody(ctx context.Context, in *chargeItemResource) (*billing.ManualChargeParams, error) {
	if in.Status != string(billing.ChargeBillable) {
		return nil, badElement("not-supported", "ChargeItem.status", "a new charge must be billable")
	}
	err := rejectSent(map[string]bool{
		"ChargeItem.definitionCanonical": len(in.DefinitionCanonical) > 0,
		"ChargeItem.enterer":             in.Enterer != nil,
		"ChargeItem.enteredDate":         in.EnteredDate != "",
		"ChargeItem.extension":           extensionOf(in.Extension, extensionChargeReverses) != nil,
	}, "the billing service sets this element on a new charge; leave it out")
	if err != nil {
		return nil, err
	}
	err = rejectSent(map[string]bool{
		"ChargeItem.note[1]":   len(in.Note) > 1,
		"ChargeItem.code.text": in.Code.Text != "",
	}, "the billing service cannot store this element: a charge keeps one note (the reason it was entered by hand) and the chargemaster's coding")
	if err != nil {
		return nil, err
	}

	ids, err := clientIdentifiers("ChargeItem.identifier", in.Identifier, chargeSourceSystem, nil)
	if err != nil {
		return nil, err
	}

	if len(in.Account) != 1 {
		return nil, badElement("required", "ChargeItem.account", "name exactly one Account")
	}
	a, err := h.referencedAccount(ctx, "ChargeItem.account[0]", in.Account[0].Reference)
	if err != nil {
		return nil, err
	}
	if in.Subject == nil || in.Subject.Reference != "Patient/"+a.PatientID {
		return nil, unprocessable("ChargeItem.subject", "the subject must be the Patient of the account")
	}
	if in.Context != nil && (a.EncounterID == "" || in.Context.Reference != "Encounter/"+a.EncounterID) {
		return nil, unprocessable("ChargeItem.context", "the context is the encounter of the account, and this account has none or another")
	}

	p := &billing.ManualChargeParams{AccountID: a.ID, Quantity: 1, Identifiers: ids}
	codes := codedCodings(in.Code)
	if len(codes) != 1 {
		return nil, badElement("required", "ChargeItem.code", "give exactly one coding with a chargemaster code")
	}
	p.Code = codes[0].Code
	if codes[0].System != "" {
		def, err := h.cfg.Billing.GetChargeDefinition(ctx, p.Code, 0)
		if err == nil && def.System != codes[0].System {
			return nil, unprocessable("ChargeItem.code", "the chargemaster lists this code under system "+def.System)
		}
	}

	if in.Quantity != nil {
		q, err := billing.ParseDecimal(in.Quantity.Value.String(), 0)
		if err != nil || q < 1 {
			return nil, unprocessable("ChargeItem.quantity", "the quantity must be a whole number of at least 1")
		}
		p.Quantity = q
	}

	date := in.OccurrenceDateTime
	if date == "" && in.OccurrencePeriod != nil {
		date = in.OccurrencePeriod.Start
	}
	if date != "" {
		if p.ServiceDate, err = parseInstant(date, time.UTC); err != nil {
			return nil, badElement("invalid", "ChargeItem.occurrence[x]", "the occurrence must be a dateTime such as 2025-03-03T09:00:00Z")
		}
	}

	if in.PriceOverride != nil {
		total, err := parseMoney("ChargeItem.priceOverride", in.PriceOverride)
		if err != nil {
			return nil, err
		}
		if total.Amount%p.Quantity != 0 {
			return nil, unprocessable("ChargeItem.priceOverride", "the total does not divide into equal unit prices for the quantity")
		}
		unit := billing.NewMoney(total.Amount/p.Quantity, total.Currency)
		p.UnitPrice, p.OverrideReason = &unit, in.OverrideReason
	}
	if in.FactorOverride != "" {
		if p.Factor, err = parseFactor("ChargeItem.factorOverride", in.FactorOverride); err != nil {
			return nil, err
		}
	}

	for _, n := range in.Note {
		if strings.TrimSpace(n.Text) != "" {
			p.Reason = n.Text
			break
		}
	}
	if p.Reason == "" {
		return nil, unprocessable("ChargeItem.note", "a charge entered by hand needs its reason as a note")
	}
	return p, nil
}

// updateCharge serves PUT ChargeItem/[id]. Charges never change, so the
// only update is status entered-in-error, which stores a reversing charge
// with the last note as its reason. The response is the reversal.
func (h *handler) updateCharge(x *exchange) {
	var in chargeItemResource
	kept, err := h.decodeBillingBody(x, "ChargeItem", &in)
	if err != nil {
		h.fail(x, err)
		return
	}

	cur, err := h.cfg.Billing.GetCharge(x.ctx, x.path.id)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	if in.Status != string(billing.ChargeReversed) {
		h.fail(x, unprocessable("ChargeItem.status", "a charge is never changed; set status entered-in-error to reverse it"))
		return
	}

	ids, err := clientIdentifiers("ChargeItem.identifier", in.Identifier, chargeSourceSystem, sourceIdentifiers(cur))
	if err != nil {
		h.fail(x, err)
		return
	}
	if !slices.Equal(ids, cur.Identifiers) {
		h.fail(x, unprocessable("ChargeItem.identifier", "a charge is never changed, so its identifiers stay as they were entered"))
		return
	}
	if err := h.sameCharge(x.ctx, &in, cur); err != nil {
		h.fail(x, err)
		return
	}

	reason := ""
	if len(in.Note) > 0 {
		reason = in.Note[len(in.Note)-1].Text
	}
	rev, err := h.cfg.Billing.ReverseCharge(x.ctx, billing.ReverseChargeParams{ChargeID: cur.ID, Reason: reason, By: h.by(x)})
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	res, err := h.chargeResource(x.ctx, rev)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	h.writeBillingWritten(x, kept, http.StatusCreated, res, "reversed by")
}

// sameCharge rejects a reversal body that changes an element of the
// charge other than status and note, because the change would be lost:
// each element the body sends must equal the stored one.
func (h *handler) sameCharge(ctx context.Context, in *chargeItemResource, cur *billing.Charge) error {
	res, err := h.chargeResource(ctx, cur)
	if err != nil {
		return billingError(err)
	}
	var stored chargeItemResource
	if err := json.Unmarshal(res.Body, &stored); err != nil {
		return err
	}
	for _, f := range []struct {
		path       string
		sent, have any
		set        bool
	}{
		{"ChargeItem.code", in.Code, stored.Code, len(in.Code.Coding) > 0 || in.Code.Text != ""},
		{"ChargeItem.subject", in.Subject, stored.Subject, in.Subject != nil},
		{"ChargeItem.context", in.Context, stored.Context, in.Context != nil},
		{"ChargeItem.occurrence[x]", in.OccurrenceDateTime, stored.OccurrenceDateTime, in.OccurrenceDateTime != ""},
		{"ChargeItem.occurrence[x]", in.OccurrencePeriod, stored.OccurrencePeriod, in.OccurrencePeriod != nil},
		{"ChargeItem.quantity", in.Quantity, stored.Quantity, in.Quantity != nil},
		{"ChargeItem.factorOverride", in.FactorOverride, stored.FactorOverride, in.FactorOverride != ""},
		{"ChargeItem.priceOverride", in.PriceOverride, stored.PriceOverride, in.PriceOverride != nil},
		{"ChargeItem.overrideReason", in.OverrideReason, stored.OverrideReason, in.OverrideReason != ""},
		{"ChargeItem.account", in.Account, stored.Account, in.Account != nil},
		{"ChargeItem.definitionCanonical", in.DefinitionCanonical, stored.DefinitionCanonical, in.DefinitionCanonical != nil},
		{"ChargeItem.enterer", in.Enterer, stored.Enterer, in.Enterer != nil},
		{"ChargeItem.enteredDate", in.EnteredDate, stored.EnteredDate, in.EnteredDate != ""},
		{"ChargeItem.extension", in.Extension, stored.Extension, in.Extension != nil},
	} {
		if !f.set {
			continue
		}
		sent, _ := json.Marshal(f.sent)
		have, _ := json.Marshal(f.have)
		if string(sent) != string(have) {
			return unprocessable(f.path, "a charge is never changed: a reversal may change only status and note, so leave this element as read or out")
		}
	}
	return nil
}

// searchCharges serves ChargeItem search, oldest first.
func (h *handler) searchCharges(x *exchange) {
	params, p, err := h.billingSearchParams(x, "account", "patient", "subject", "code", "identifier", "entered-date", "occurrence")
	if err != nil {
		h.fail(x, err)
		return
	}
	entered, err := dateBounds(params, "entered-date")
	if err != nil {
		h.fail(x, err)
		return
	}
	occurred, err := dateBounds(params, "occurrence")
	if err != nil {
		h.fail(x, err)
		return
	}

	// NOTE: only account narrows the read in the store. Other parameters
	// filter the first maxPageWindow charges, so a search on a larger
	// chargemaster history without account can miss matches.
	accounts := tokenValues(params, "account")
	identifiers := tokenValues(params, "identifier")
	f := billing.ChargeFilter{Limit: maxPageWindow, AccountID: accountParamID(accounts), Identifier: identifierFilter(identifiers, chargeSourceSystem)}
	list, err := h.cfg.Billing.ListCharges(x.ctx, f)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	patients, codes := patientRefs(params), tokenValues(params, "code")
	cache := &accountCache{svc: h.cfg.Billing}
	var found []*emr.Resource
	for i := range list {
		c := &list[i]
		a, err := cache.get(x.ctx, c.AccountID)
		if err != nil {
			h.fail(x, billingError(err))
			return
		}
		ok := matchAccount(accounts, c.AccountID) &&
			matchAll(patients, func(id string) bool { return id == a.PatientID }) &&
			matchAll(codes, func(tok string) bool { return tokenMatches(tok, c.System, c.Code) }) &&
			matchAll(identifiers, func(tok string) bool {
				return identifierMatches(tok, append(sourceIdentifiers(c), identifiersJSON(c.Identifiers)...))
			}) &&
			entered.contains(c.Entered) && occurred.contains(c.ServiceDate)
		if !ok {
			continue
		}
		res, err := chargeResourceOf(c, a)
		if err != nil {
			h.fail(x, err)
			return
		}
		found = append(found, res)
	}
	h.writeBillingSearch(x, "/ChargeItem", params, p, found)
}

// tokenMatches reports whether a token search value, "code",
// "system|code" or "system|", matches system and code.
func tokenMatches(token, system, code string) bool {
	sys, c, ok := strings.Cut(token, "|")
	if !ok {
		return token == code
	}
	if c == "" {
		return sys == system
	}
	return (sys == "" || sys == system) && c == code
}

// chargeDefinitionResource is the FHIR R4 ChargeItemDefinition as this
// package writes and reads it. Each price is one propertyGroup, whose
// payer, plan and date range are extensions and whose priceComponents
// are the base price, the discount factor and the tax factor.
type chargeDefinitionResource struct {
	ResourceType  string          `json:"resourceType"`
	ID            string          `json:"id,omitempty"`
	Meta          *billingMeta    `json:"meta,omitempty"`
	URL           string          `json:"url,omitempty"`
	Version       string          `json:"version,omitempty"`
	Title         string          `json:"title,omitempty"`
	Status        string          `json:"status"`
	Date          string          `json:"date,omitempty"`
	Code          codeableConcept `json:"code"`
	PropertyGroup []propertyGroup `json:"propertyGroup,omitempty"`
}

type propertyGroup struct {
	Extension      []billingExtension `json:"extension,omitempty"`
	PriceComponent []priceComponent   `json:"priceComponent,omitempty"`
}

type priceComponent struct {
	Type   string           `json:"type"`
	Code   *codeableConcept `json:"code,omitempty"`
	Factor json.Number      `json:"factor,omitempty"`
	Amount *fhirMoney       `json:"amount,omitempty"`
}

func chargeDefinitionResourceOf(d *billing.ChargeDefinition) (*emr.Resource, error) {
	res := chargeDefinitionResource{
		ResourceType: "ChargeItemDefinition",
		ID:           d.Code,
		Meta:         metaOf(d.Version, d.Updated, d.UpdatedBy),
		URL:          ChargeDefinitionURL + d.Code,
		Version:      strconv.FormatInt(d.Version, 10),
		Title:        d.Display,
		Status:       "retired",
		Date:         dateTime(d.Updated),
		Code:         codeableConcept{Coding: []coding{{System: d.System, Code: d.Code, Display: d.Display}}},
	}
	if d.Active {
		res.Status = "active"
	}
	for _, p := range d.Prices {
		g := propertyGroup{PriceComponent: []priceComponent{{Type: "base", Amount: moneyJSON(p.UnitPrice)}}}
		if p.Discount != 0 {
			g.PriceComponent = append(g.PriceComponent, priceComponent{Type: "discount", Factor: rateJSON(p.Discount)})
		}
		g.PriceComponent = append(g.PriceComponent, priceComponent{Type: "tax", Factor: rateJSON(d.TaxRate)})
		if p.PayerID != "" {
			g.Extension = append(g.Extension, billingExtension{URL: extensionPricePayer, ValueString: p.PayerID})
		}
		if p.PlanID != "" {
			g.Extension = append(g.Extension, billingExtension{URL: extensionPricePlan, ValueString: p.PlanID})
		}
		if !p.From.IsZero() || !p.Until.IsZero() {
			per := &period{}
			if !p.From.IsZero() {
				per.Start = dateTime(p.From)
			}
			if !p.Until.IsZero() {
				per.End = dateTime(p.Until)
			}
			g.Extension = append(g.Extension, billingExtension{URL: extensionPricePeriod, ValuePeriod: per})
		}
		res.PropertyGroup = append(res.PropertyGroup, g)
	}
	return billingResource("ChargeItemDefinition", d.Code, d.Version, d.Updated, res)
}

// parseChargeDefinitionBody reads a ChargeItemDefinition into an item.
// Every propertyGroup must carry the same tax factor, because tax is
// per item. The period end is exclusive.
func parseChargeDefinitionBody(in *chargeDefinitionResource) (*billing.ChargeDefinition, error) {
	d := &billing.ChargeDefinition{Display: in.Title}
	switch in.Status {
	case "active":
		d.Active = true
	case "retired", "draft":
	default:
		return nil, badElement("invalid", "ChargeItemDefinition.status", "status must be active, retired or draft")
	}
	codes := codedCodings(in.Code)
	if len(codes) != 1 {
		return nil, badElement("required", "ChargeItemDefinition.code", "give exactly one coding with the item's code")
	}
	d.Code, d.System = codes[0].Code, codes[0].System
	if d.Display == "" {
		d.Display = codes[0].Display
	}
	if !emr.ValidID(d.Code) {
		return nil, unprocessable("ChargeItemDefinition.code", "the code is the resource id, so it must be a valid FHIR id")
	}
	taxSet := false
	for i, g := range in.PropertyGroup {
		path := "ChargeItemDefinition.propertyGroup[" + strconv.Itoa(i) + "]"
		var price billing.Price
		baseSet := false
		for _, pc := range g.PriceComponent {
			var err error
			switch pc.Type {
			case "base":
				price.UnitPrice, err = parseMoney(path+".priceComponent.amount", pc.Amount)
				baseSet = true
			case "discount":
				price.Discount, err = parseFactor(path+".priceComponent.factor", pc.Factor)
			case "tax":
				var rate billing.Rate
				if rate, err = parseFactor(path+".priceComponent.factor", pc.Factor); err == nil {
					if taxSet && rate != d.TaxRate {
						return nil, unprocessable(path, "every propertyGroup must have the same tax factor")
					}
					d.TaxRate, taxSet = rate, true
				}
			default:
				return nil, unprocessable(path+".priceComponent.type", "only base, discount and tax components are supported")
			}
			if err != nil {
				return nil, err
			}
		}
		if !baseSet {
			return nil, unprocessable(path, "a propertyGroup needs a base priceComponent with an amount")
		}
		if e := extensionOf(g.Extension, extensionPricePayer); e != nil {
			price.PayerID = e.ValueString
		}
		if e := extensionOf(g.Extension, extensionPricePlan); e != nil {
			price.PlanID = e.ValueString
		}
		if e := extensionOf(g.Extension, extensionPricePeriod); e != nil && e.ValuePeriod != nil {
			var err error
			if e.ValuePeriod.Start != "" {
				if price.From, err = parseInstant(e.ValuePeriod.Start, time.UTC); err != nil {
					return nil, unprocessable(path+".extension", "the period start must be a date or dateTime")
				}
			}
			if e.ValuePeriod.End != "" {
				if price.Until, err = parseInstant(e.ValuePeriod.End, time.UTC); err != nil {
					return nil, unprocessable(path+".extension", "the period end must be a date or dateTime")
				}
			}
		}
		d.Prices = append(d.Prices, price)
	}
	return d, nil
}

func (h *handler) readChargeDefinition(x *exchange) {
	get := func(ctx context.Context, code string) (*billing.ChargeDefinition, error) {
		return h.cfg.Billing.GetChargeDefinition(ctx, code, 0)
	}
	readBilling(h, x, get, chargeDefinitionResourceOf)
}

// createChargeDefinition serves POST ChargeItemDefinition for a code the
// chargemaster does not have yet; PUT stores later versions.
func (h *handler) createChargeDefinition(x *exchange) {
	var in chargeDefinitionResource
	kept, err := h.decodeBillingBody(x, "ChargeItemDefinition", &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	d, err := parseChargeDefinitionBody(&in)
	if err != nil {
		h.fail(x, err)
		return
	}
	if _, err := h.cfg.Billing.GetChargeDefinition(x.ctx, d.Code, 0); err == nil {
		h.fail(x, requestError(http.StatusConflict, "duplicate", "the chargemaster has code "+d.Code+" already; PUT ChargeItemDefinition/"+d.Code+" stores a new version"))
		return
	}
	stored, err := h.cfg.Billing.PutChargeDefinition(x.ctx, billing.PutChargeDefinitionParams{Definition: *d, By: h.by(x)})
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	writeMapped(h, x, http.StatusCreated, stored, chargeDefinitionResourceOf, kept)
}

// updateChargeDefinition serves PUT ChargeItemDefinition/[code]: it
// stores the body as the item's next version, or its first. Charges
// already captured keep the version that priced them. If-Match, when
// sent, must name the latest version, checked in the writing
// transaction.
func (h *handler) updateChargeDefinition(x *exchange) {
	ifMatch, err := parseIfMatch(x.r)
	if err != nil {
		h.fail(x, err)
		return
	}

	var in chargeDefinitionResource
	kept, err := h.decodeBillingBody(x, "ChargeItemDefinition", &in)
	if err != nil {
		h.fail(x, err)
		return
	}
	d, err := parseChargeDefinitionBody(&in)
	if err != nil {
		h.fail(x, err)
		return
	}
	if d.Code != x.path.id {
		h.fail(x, unprocessable("ChargeItemDefinition.code", "the code must equal the id in the path"))
		return
	}

	stored, err := h.cfg.Billing.PutChargeDefinition(x.ctx, billing.PutChargeDefinitionParams{Definition: *d, BaseVersion: ifMatch, By: h.by(x)})
	if err != nil {
		if ifMatch != 0 && errors.Is(err, billing.ErrConflict) {
			err = requestError(http.StatusPreconditionFailed, "conflict", "If-Match does not name the latest version of the chargemaster item")
		}
		h.fail(x, billingError(err))
		return
	}

	status := http.StatusOK
	if stored.Version == 1 {
		status = http.StatusCreated
	}
	writeMapped(h, x, status, stored, chargeDefinitionResourceOf, kept)
}

// searchChargeDefinitions serves ChargeItemDefinition search by code,
// status and url, ordered by code.
func (h *handler) searchChargeDefinitions(x *exchange) {
	params, p, err := h.billingSearchParams(x, "code", "status", "url")
	if err != nil {
		h.fail(x, err)
		return
	}

	list, err := h.cfg.Billing.ListChargeDefinitions(x.ctx)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}

	codes, statuses, urls := tokenValues(params, "code"), tokenValues(params, "status"), tokenValues(params, "url")
	var found []*emr.Resource
	for i := range list {
		d := &list[i]
		status := "retired"
		if d.Active {
			status = "active"
		}
		if !matchAll(codes, func(tok string) bool { return tokenMatches(tok, d.System, d.Code) }) ||
			!matchAll(statuses, func(s string) bool { return s == status }) ||
			!matchAll(urls, func(u string) bool { return u == ChargeDefinitionURL+d.Code }) {
			continue
		}
		res, err := chargeDefinitionResourceOf(d)
		if err != nil {
			h.fail(x, err)
			return
		}
		found = append(found, res)
	}
	h.writeBillingSearch(x, "/ChargeItemDefinition", params, p, found)
}

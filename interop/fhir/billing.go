package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// BillingService is the set of billing operations the handler calls for
// Account, ChargeItem, ChargeItemDefinition, Invoice and
// PaymentReconciliation when Config.Billing is set. *billing.Service
// implements it, and a decorator such as an audit layer can wrap it.
type BillingService interface {
	GetChargeDefinition(ctx context.Context, code string, version int64) (*billing.ChargeDefinition, error)
	ListChargeDefinitions(ctx context.Context) ([]billing.ChargeDefinition, error)
	PutChargeDefinition(ctx context.Context, p billing.PutChargeDefinitionParams) (*billing.ChargeDefinition, error)
	GetAccount(ctx context.Context, id string) (*billing.Account, error)
	ListAccounts(ctx context.Context, f billing.AccountFilter) ([]billing.Account, error)
	OpenAccount(ctx context.Context, p billing.OpenAccountParams) (*billing.Account, error)
	UpdateAccount(ctx context.Context, p billing.UpdateAccountParams) (*billing.Account, error)
	GetCharge(ctx context.Context, id string) (*billing.Charge, error)
	ListCharges(ctx context.Context, f billing.ChargeFilter) ([]billing.Charge, error)
	AddManualCharge(ctx context.Context, p billing.ManualChargeParams) (*billing.Charge, error)
	ReverseCharge(ctx context.Context, p billing.ReverseChargeParams) (*billing.Charge, error)
	GetInvoice(ctx context.Context, id string) (*billing.Invoice, error)
	ListInvoices(ctx context.Context, f billing.InvoiceFilter) ([]billing.Invoice, error)
	DraftInvoice(ctx context.Context, p billing.DraftInvoiceParams) (*billing.Invoice, error)
	IssueInvoice(ctx context.Context, invoiceID, by string) (*billing.Invoice, error)
	DiscardDraft(ctx context.Context, invoiceID, reason, by string) (*billing.Invoice, error)
	CancelInvoice(ctx context.Context, p billing.CancelInvoiceParams) (*billing.Invoice, error)
	GetPayment(ctx context.Context, id string) (*billing.Payment, error)
	ListPayments(ctx context.Context, f billing.PaymentFilter) ([]billing.Payment, error)
	PostPayment(ctx context.Context, p billing.PaymentParams) (*billing.Payment, error)
	AccountHistory(ctx context.Context, id string) ([]billing.Account, error)
	ChargeDefinitionHistory(ctx context.Context, code string) ([]billing.ChargeDefinition, error)
	InvoiceHistory(ctx context.Context, id string) ([]billing.InvoiceVersion, error)
	ListEntries(ctx context.Context, f billing.EntryFilter) ([]billing.Entry, error)
}

var _ BillingService = (*billing.Service)(nil)

// Code systems and extension URLs of the billing mapping.
const (
	// InvoiceNumberSystem prefixes the facility id in the system of an
	// issued invoice's number identifier.
	InvoiceNumberSystem = "urn:nexus-health-360:invoice-number:"
	// ChargeSourceSystem prefixes the source domain in the system of a
	// captured charge's identifier, whose value is the source event id.
	ChargeSourceSystem = "urn:nexus-health-360:charge-source:"
	// ChargeDefinitionURL prefixes the code in ChargeItemDefinition.url.
	ChargeDefinitionURL = "urn:nexus-health-360:charge-definition:"
	// CoverageSystem prefixes the payer (and ":" plan) in the system of
	// the identifier of an Account.coverage reference, whose value is
	// the member id.
	CoverageSystem = "urn:nexus-health-360:coverage:"

	extensionAccountEncounter = "urn:nexus-health-360:fhir:account-encounter"
	extensionAccountCurrency  = "urn:nexus-health-360:fhir:account-currency"
	extensionChargeReverses   = "urn:nexus-health-360:fhir:chargeitem-reverses"
	extensionInvoiceBalance   = "urn:nexus-health-360:fhir:invoice-balance"
	extensionInvoiceCredits   = "urn:nexus-health-360:fhir:invoice-credits"
	extensionInvoiceCredited  = "urn:nexus-health-360:fhir:invoice-credited-by"
	extensionInvoiceKind      = "urn:nexus-health-360:fhir:invoice-kind"
	extensionPricePayer       = "urn:nexus-health-360:fhir:price-payer"
	extensionPricePlan        = "urn:nexus-health-360:fhir:price-plan"
	extensionPricePeriod      = "urn:nexus-health-360:fhir:price-period"
	extensionPaymentAccount   = "urn:nexus-health-360:fhir:payment-account"
	extensionPaymentMethod    = "urn:nexus-health-360:fhir:payment-method"
	extensionPaymentKind      = "urn:nexus-health-360:fhir:payment-kind"
	extensionPaymentUnapplied = "urn:nexus-health-360:fhir:payment-unapplied"
	extensionAllowCredit      = "urn:nexus-health-360:fhir:payment-allow-credit"
	extensionPaymentClaim     = "urn:nexus-health-360:fhir:payment-claim"
	// extensionVersionAuthor on meta names the user who made the version.
	extensionVersionAuthor = "urn:nexus-health-360:fhir:version-author"
)

// billingMeta is the meta of a billing resource: the version id, the
// update time and, as an extension, the author of the version.
type billingMeta struct {
	VersionID   string             `json:"versionId,omitempty"`
	LastUpdated string             `json:"lastUpdated,omitempty"`
	Extension   []billingExtension `json:"extension,omitempty"`
}

// metaOf returns the meta of version made at at by by.
func metaOf(version int64, at time.Time, by string) *billingMeta {
	m := &billingMeta{VersionID: strconv.FormatInt(version, 10), LastUpdated: instant(at)}
	if by != "" {
		m.Extension = []billingExtension{{URL: extensionVersionAuthor, ValueString: by}}
	}
	return m
}

// isBillingType reports whether typ is served by the billing backend.
func isBillingType(typ string) bool {
	switch typ {
	case "Account", "ChargeItem", "ChargeItemDefinition", "Invoice", "PaymentReconciliation":
		return true
	}
	return false
}

// billingShapes are the interactions served for each billing type.
var billingShapes = map[string]map[string]shape{
	"Account": {
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchAccounts, http.MethodPost: (*handler).createAccount}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchAccounts}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readAccount, http.MethodPut: (*handler).updateAccount}},
	},
	"ChargeItem": {
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchCharges, http.MethodPost: (*handler).createCharge}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchCharges}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readCharge, http.MethodPut: (*handler).updateCharge}},
	},
	"ChargeItemDefinition": {
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchChargeDefinitions, http.MethodPost: (*handler).createChargeDefinition}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchChargeDefinitions}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readChargeDefinition, http.MethodPut: (*handler).updateChargeDefinition}},
	},
	"Invoice": {
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchInvoices, http.MethodPost: (*handler).createInvoice}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchInvoices}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readInvoice, http.MethodPut: (*handler).updateInvoice}},
	},
	"PaymentReconciliation": {
		"/{type}":         {"/{type}", map[string]serveFunc{http.MethodGet: (*handler).searchPayments, http.MethodPost: (*handler).createPayment}},
		"/{type}/_search": {"/{type}/_search", map[string]serveFunc{http.MethodPost: (*handler).searchPayments}},
		"/{type}/{id}":    {"/{type}/{id}", map[string]serveFunc{http.MethodGet: (*handler).readPayment}},
	},
}

// billingVersionShapes are the history and vread interactions, served
// alike for every billing type.
var billingVersionShapes = map[string]shape{
	"/{type}/{id}/_history":       {"/{type}/{id}/_history", map[string]serveFunc{http.MethodGet: (*handler).billingHistory}},
	"/{type}/{id}/_history/{vid}": {"/{type}/{id}/_history/{vid}", map[string]serveFunc{http.MethodGet: (*handler).billingVRead}},
}

// billingRoute replaces the route matched so far when the path names a
// type the billing backend serves, and guards batches and transactions so
// they cannot write those types to the clinical record. Other requests
// keep the matched route.
func (h *handler) billingRoute(method, path string, matched route, values pathValues) (route, pathValues) {
	trimmed := strings.Trim(path, "/")
	if trimmed == "" {
		if method == http.MethodPost {
			inner := matched.serve
			return route{pattern: matched.pattern, serve: func(h *handler, x *exchange) { h.serveBundleWithout(x, "billing service", isBillingType, inner) }}, values
		}
		return matched, values
	}

	segments := strings.Split(trimmed, "/")
	typ := segments[0]
	if !isBillingType(typ) {
		return matched, values
	}

	p := pathValues{typ: typ}
	var key string
	switch {
	case len(segments) == 1:
		key = "/{type}"
	case len(segments) == 2 && segments[1] == "_search":
		key = "/{type}/_search"
	case len(segments) == 2 && !isOperation(segments[1]) && segments[1] != "_history":
		key, p.id = "/{type}/{id}", segments[1]
	case len(segments) == 3 && segments[2] == "_history" && !isOperation(segments[1]) && segments[1] != "_history":
		key, p.id = "/{type}/{id}/_history", segments[1]
	case len(segments) == 4 && segments[2] == "_history" && !isOperation(segments[1]) && segments[1] != "_history":
		key, p.id, p.version = "/{type}/{id}/_history/{vid}", segments[1], segments[3]
	}

	s, ok := billingShapes[typ][key]
	if versions, isVersion := billingVersionShapes[key]; isVersion {
		s, ok = versions, true
	}
	if !ok {
		return notFoundRoute("this interaction is not served for " + typ + ", which the billing service backs; the CapabilityStatement lists what is served"), p
	}

	if method == http.MethodHead {
		method = http.MethodGet
	}
	serve, ok := s.methods[method]
	if !ok {
		return methodNotAllowedRoute(s), p
	}
	return route{pattern: s.pattern, serve: billingAccessGate(serve)}, p
}

// billingAccessGate serves a billing interaction only to callers who may
// reach every patient.
//
// NOTE: the billing backend does not filter by patient compartment, so a
// caller restricted to some patients gets 403 on every billing type.
func billingAccessGate(serve serveFunc) serveFunc {
	return func(h *handler, x *exchange) {
		if a := emr.AccessFromContext(x.ctx); a != nil {
			if !a.AllPatients || (a.Types != nil && !slices.Contains(a.Types, x.path.typ)) {
				h.fail(x, requestError(http.StatusForbidden, "forbidden",
					x.path.typ+" is served by the billing service, which only callers with access to every patient may use"))
				return
			}
		}
		serve(h, x)
	}
}

// billingError maps an error of the billing service to its status and
// FHIR issue code. Billing messages name ids, codes and amounts, never a
// patient id, so they become diagnostics. A rule the input breaks is 422,
// a clash with the stored state (such as changing an issued invoice) is
// 409. Other errors pass unchanged and fail with 500.
func billingError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, billing.ErrNotFound):
		return requestError(http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, billing.ErrInvalid):
		return requestError(http.StatusUnprocessableEntity, "business-rule", err.Error())
	case errors.Is(err, billing.ErrConflict):
		return requestError(http.StatusConflict, "conflict", err.Error())
	}
	return err
}

// unprocessable returns a 422 naming the element at fault.
func unprocessable(path, message string) error {
	return &httpError{status: http.StatusUnprocessableEntity, code: "business-rule", expression: path, message: path + ": " + message}
}

// by returns the user a billing write records.
func (h *handler) by(x *exchange) string { return h.cfg.Actor(x.r) }

// Data types of the billing mapping. Decimals stay json.Number, so no
// amount passes through floating point.
type (
	fhirMoney struct {
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
	}
	fhirIdentifier struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value,omitempty"`
	}
	billingReference struct {
		Reference  string          `json:"reference,omitempty"`
		Identifier *fhirIdentifier `json:"identifier,omitempty"`
		Display    string          `json:"display,omitempty"`
	}
	billingExtension struct {
		URL            string            `json:"url"`
		ValueReference *billingReference `json:"valueReference,omitempty"`
		ValueCode      string            `json:"valueCode,omitempty"`
		ValueString    string            `json:"valueString,omitempty"`
		ValueMoney     *fhirMoney        `json:"valueMoney,omitempty"`
		ValueBoolean   *bool             `json:"valueBoolean,omitempty"`
		ValuePeriod    *period           `json:"valuePeriod,omitempty"`
	}
	annotation struct {
		Text string `json:"text"`
	}
)

func moneyJSON(m billing.Money) *fhirMoney {
	return &fhirMoney{Value: json.Number(m.Decimal()), Currency: m.Currency}
}

// parseMoney reads a FHIR Money at path without floating point.
func parseMoney(path string, m *fhirMoney) (billing.Money, error) {
	if m == nil || m.Value == "" || m.Currency == "" {
		return billing.Money{}, unprocessable(path, "a value and a currency are required")
	}
	v, err := billing.ParseMoney(m.Value.String(), m.Currency)
	if err != nil {
		return billing.Money{}, unprocessable(path, err.Error())
	}
	return v, nil
}

// rateJSON writes a rate as a FHIR decimal factor: 20% is 0.2.
func rateJSON(r billing.Rate) json.Number {
	return json.Number(trimDecimal(billing.FormatDecimal(int64(r), 6)))
}

// parseFactor reads a FHIR decimal factor such as 0.8 into a Rate.
func parseFactor(path string, n json.Number) (billing.Rate, error) {
	v, err := billing.ParseDecimal(n.String(), 6)
	if err != nil {
		return 0, unprocessable(path, "a factor must be a decimal with at most 6 fraction digits, such as 0.2")
	}
	return billing.Rate(v), nil
}

// trimDecimal drops trailing fraction zeros: "0.200000" becomes "0.2".
func trimDecimal(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// refID returns the id of a reference "Type/id", or false when ref names
// another type or has no valid id.
func refID(ref, typ string) (string, bool) {
	id, ok := strings.CutPrefix(ref, typ+"/")
	return id, ok && emr.ValidID(id)
}

// extensionOf returns the first extension with url.
func extensionOf(exts []billingExtension, url string) *billingExtension {
	for i := range exts {
		if exts[i].URL == url {
			return &exts[i]
		}
	}
	return nil
}

// billingResource encodes a billing resource for the response.
func billingResource(typ, id string, version int64, updated time.Time, v any) (*emr.Resource, error) {
	body, err := encodeJSON(v)
	if err != nil {
		return nil, err
	}
	return &emr.Resource{Type: typ, ID: id, VersionID: version, LastUpdated: updated, Body: body}, nil
}

// writeMapped maps a written billing record and writes it, with the
// elements kept from the request body, as a create (201) or update (200).
func writeMapped[T any](h *handler, x *exchange, status int, v *T, mapper func(*T) (*emr.Resource, error), kept map[string]any) {
	res, err := mapper(v)
	if err != nil {
		h.fail(x, err)
		return
	}
	action := "updated"
	if status == http.StatusCreated {
		action = "created"
	}
	h.writeBillingWritten(x, kept, status, res, action)
}

// readTarget checks a read request and returns the id in the path.
func readTarget(x *exchange) (string, error) {
	if err := checkNoParams(x); err != nil {
		return "", err
	}
	if !emr.ValidID(x.path.id) {
		return "", invalidID()
	}
	return x.path.id, nil
}

// writeBillingRead writes a read result with its version headers, or 304.
func (h *handler) writeBillingRead(x *exchange, res *emr.Resource) {
	if err := h.mergeKept(x.ctx, res); err != nil {
		h.fail(x, err)
		return
	}
	if notModified(x.r, res) {
		setVersionHeaders(x.w.Header(), res)
		x.w.WriteHeader(http.StatusNotModified)
		return
	}
	h.writeResource(x, http.StatusOK, res)
}

// decodeBillingBody reads a POST or PUT body of resource type typ into v.
// For PUT, a body id must match the path. It returns the elements that
// v has no field for, which the caller keeps with the written version.
func (h *handler) decodeBillingBody(x *exchange, typ string, v any) (map[string]any, error) {
	if err := checkNoParams(x); err != nil {
		return nil, err
	}
	if x.r.Header.Get("If-None-Exist") != "" {
		return nil, requestError(http.StatusBadRequest, "not-supported", "conditional create is not supported for "+typ)
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		return nil, err
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.ResourceType != typ {
		return nil, malformedBody("the body must be a JSON " + typ + " resource")
	}
	if x.r.Method == http.MethodPut && head.ID != x.path.id {
		return nil, requestError(http.StatusBadRequest, "invalid", typ+".id must equal the id in the path")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, malformedBody(fmt.Sprintf("the %s body does not match the FHIR R4 types of its elements", typ))
	}
	return h.splitBillingElements(typ, body, v)
}

// readBilling serves a read of one billing record: get fetches the record
// with the id in the path and mapper turns it into the resource.
func readBilling[T any](h *handler, x *exchange, get func(context.Context, string) (*T, error), mapper func(*T) (*emr.Resource, error)) {
	id, err := readTarget(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	v, err := get(x.ctx, id)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	res, err := mapper(v)
	if err != nil {
		h.fail(x, billingError(err))
		return
	}
	h.writeBillingRead(x, res)
}

// billingSearchParams returns the parameters and page of a billing search.
// It rejects a parameter that is not in allowed, _count or the cursor.
func (h *handler) billingSearchParams(x *exchange, allowed ...string) (url.Values, page, error) {
	params, err := h.schedulingParams(x)
	if err != nil {
		return nil, page{}, err
	}
	if err := checkParamNames(params, append(allowed, "_count", cursorParam)...); err != nil {
		return nil, page{}, err
	}
	p, err := parsePage(params)
	if err != nil {
		return nil, page{}, err
	}
	return params, p, nil
}

// dateBounds parses every value of the date search parameter name. A
// value without a zone offset is read as UTC.
func dateBounds(params url.Values, name string) (startBounds, error) {
	var b startBounds
	for _, v := range params[name] {
		if err := b.add(name, v, time.UTC); err != nil {
			return startBounds{}, err
		}
	}
	return b, nil
}

// writeBillingSearch merges the kept elements into each matching resource
// and writes the page p of them as a searchset bundle.
func (h *handler) writeBillingSearch(x *exchange, path string, params url.Values, p page, found []*emr.Resource) {
	out := make([]resourceJSON, 0, len(found))
	for _, res := range found {
		if err := h.mergeKept(x.ctx, res); err != nil {
			h.fail(x, err)
			return
		}
		out = append(out, resourceJSON{typ: res.Type, id: res.ID, body: res.Body})
	}
	h.searchBundle(x, path, params, p, out)
}

// accountParamID returns the account id that narrows the store read: the
// value of the first account parameter when it has one value, else empty.
// Every account parameter still filters the result with matchAccount.
func accountParamID(accounts [][]string) string {
	if len(accounts) > 0 && len(accounts[0]) == 1 {
		return strings.TrimPrefix(accounts[0][0], "Account/")
	}
	return ""
}

// matchAccount reports whether every account parameter names accountID.
func matchAccount(accounts [][]string, accountID string) bool {
	return matchAll(accounts, func(ref string) bool { return strings.TrimPrefix(ref, "Account/") == accountID })
}

// referencedAccount returns the account that ref names in the element at
// path. A malformed reference is 400 and an unknown account 422.
func (h *handler) referencedAccount(ctx context.Context, path, ref string) (*billing.Account, error) {
	id, ok := refID(ref, "Account")
	if !ok {
		return nil, badElement("invalid", path, "the account must be a reference such as Account/[id]")
	}
	a, err := h.cfg.Billing.GetAccount(ctx, id)
	if statusOf(billingError(err)) == http.StatusNotFound {
		return nil, unprocessable(path, "the account does not exist")
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// codedCodings returns the codings of c that have a code.
func codedCodings(c codeableConcept) []coding {
	var out []coding
	for _, cd := range c.Coding {
		if cd.Code != "" {
			out = append(out, cd)
		}
	}
	return out
}

// tokenValues splits the values of a token search parameter.
func tokenValues(params url.Values, name string) [][]string {
	var out [][]string
	for _, v := range params[name] {
		out = append(out, strings.Split(v, ","))
	}
	return out
}

// matchAll reports whether every repeated parameter has a value that
// ok accepts.
func matchAll(groups [][]string, ok func(string) bool) bool {
	for _, g := range groups {
		if !slices.ContainsFunc(g, ok) {
			return false
		}
	}
	return true
}

// patientRefs returns the patient ids of patient and subject parameters.
func patientRefs(params url.Values) [][]string {
	var out [][]string
	for _, name := range []string{"patient", "subject"} {
		for _, g := range tokenValues(params, name) {
			ids := make([]string, len(g))
			for i, ref := range g {
				ids[i] = strings.TrimPrefix(ref, "Patient/")
			}
			out = append(out, ids)
		}
	}
	return out
}

// billingCapabilities lists what the handler serves for the billing types.
func billingCapabilities(registry *searchparam.Registry) []capResource {
	interactions := func(codes ...string) []capInteraction {
		out := make([]capInteraction, len(codes))
		for i, c := range codes {
			out[i] = capInteraction{Code: c}
		}
		return out
	}
	params := func(typ string, names ...string) []capSearchParam {
		out := make([]capSearchParam, 0, len(names))
		for _, name := range names {
			def, ok := registry.Lookup(typ, name)
			if !ok {
				out = append(out, capSearchParam{Name: name, Type: "token"})
				continue
			}
			out = append(out, capSearchParam{Name: name, Definition: def.URL, Type: string(def.Type)})
		}
		return out
	}

	base := capResource{
		Versioning:        "versioned",
		ConditionalRead:   "not-supported",
		ConditionalDelete: "not-supported",
		Operation:         []capOperation{},
	}

	account, charge, definition, invoice, payment := base, base, base, base, base
	account.Type = "Account"
	account.Interaction = interactions("read", "vread", "update", "create", "history-instance", "search-type")
	account.Versioning = "versioned-update"
	account.SearchParam = params("Account", "identifier", "patient", "status", "subject")

	charge.Type = "ChargeItem"
	charge.Interaction = interactions("read", "vread", "update", "create", "history-instance", "search-type")
	charge.SearchParam = params("ChargeItem", "account", "code", "entered-date", "identifier", "occurrence", "patient", "subject")

	definition.Type = "ChargeItemDefinition"
	definition.Interaction = interactions("read", "vread", "update", "create", "history-instance", "search-type")
	definition.Versioning = "versioned-update"
	definition.SearchParam = params("ChargeItemDefinition", "code", "status", "url")

	invoice.Type = "Invoice"
	invoice.Interaction = interactions("read", "vread", "update", "create", "history-instance", "search-type")
	invoice.Versioning = "versioned-update"
	invoice.SearchParam = params("Invoice", "account", "date", "identifier", "patient", "status", "subject")

	payment.Type = "PaymentReconciliation"
	payment.Interaction = interactions("read", "vread", "create", "history-instance", "search-type")
	payment.SearchParam = params("PaymentReconciliation", "created", "identifier", "status")

	return []capResource{account, charge, definition, invoice, payment}
}

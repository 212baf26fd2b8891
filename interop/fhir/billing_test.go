package fhir_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	billsql "github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// billingNow is the clock of the billing tests.
var billingNow = time.Date(2025, time.March, 3, 10, 0, 0, 0, time.UTC)

// billingServer is a test server whose billing types go to a
// billing.Service on the same SQLite database as the clinical record,
// which holds Patient/example. The chargemaster prices code 01510 at
// 50.00 EUR with 20% tax.
type billingServer struct {
	*testServer
	bill *billing.Service
}

func newBillingServer(t *testing.T) *billingServer {
	t.Helper()
	return newBillingServerAt(t, func() time.Time { return billingNow })
}

// newBillingServerAt is newBillingServer with its clock.
func newBillingServerAt(t *testing.T, clock func() time.Time) *billingServer {
	t.Helper()
	return newBillingServerOn(t, storagetest.SQLite(t), clock)
}

// newBillingServerOn is newBillingServerAt on an open, empty database.
func newBillingServerOn(t *testing.T, db *storage.DB, clock func() time.Time) *billingServer {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Migrate(ctx, sqlstore.Migrations()))
	require.NoError(t, db.Migrate(ctx, billsql.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	bill, err := billing.NewService(billsql.New(db), billing.Config{Clock: clock, Currency: "EUR"})
	require.NoError(t, err)
	logs := &syncBuffer{}
	h := http.StripPrefix("/fhir", fhir.NewHandler(fhir.Config{
		Service: svc,
		Billing: bill,
		Clock:   clock,
		Actor:   func(*http.Request) string { return "clerk" },
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}))
	mux := http.NewServeMux()
	mux.Handle("/fhir/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s := &billingServer{testServer: &testServer{t: t, srv: srv, base: srv.URL + "/fhir", svc: svc, logs: logs}, bill: bill}

	resp := s.do(http.MethodPut, "/Patient/example", `{"resourceType":"Patient","id":"example","active":true}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	resp = s.do(http.MethodPut, "/ChargeItemDefinition/01510", `{"resourceType":"ChargeItemDefinition","id":"01510",
		"status":"active","code":{"coding":[{"code":"01510","display":"Observation after coronary angiography"}]},
		"propertyGroup":[{"priceComponent":[{"type":"base","amount":{"value":50,"currency":"EUR"}},{"type":"tax","factor":0.2}]}]}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	return s
}

// openAccount creates an Account for Patient/example and returns its id.
func (s *billingServer) openAccount() string {
	s.t.Helper()
	resp := s.do(http.MethodPost, "/Account", `{"resourceType":"Account","status":"active",
		"subject":[{"reference":"Patient/example"}],
		"extension":[{"url":"urn:nexus-health-360:fhir:account-currency","valueCode":"EUR"}]}`)
	require.Equal(s.t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(s.t)["id"].(string)
	require.NotEmpty(s.t, id)
	return id
}

// example returns a testdata example whose Account/example reference
// points at account, without the elements billing cannot store.
func example(t *testing.T, name, account string) string {
	t.Helper()
	doc := jsonNumbers(t, []byte(fullExample(t, name, account)))
	for _, key := range unstoredElements[name] {
		delete(doc, key)
	}
	if notes, ok := doc["note"].([]any); ok {
		for _, n := range notes {
			delete(n.(map[string]any), "authorReference")
			delete(n.(map[string]any), "time")
		}
	}
	if p, ok := doc["occurrencePeriod"].(map[string]any); ok {
		delete(p, "end")
	}
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(raw)
}

// fullExample returns a testdata example as published, with its
// Account/example reference pointing at account.
func fullExample(t *testing.T, name, account string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/billing/" + name)
	require.NoError(t, err)
	return strings.ReplaceAll(string(raw), `"Account/example"`, `"Account/`+account+`"`)
}

// unstoredElements are the top-level elements of each example that the
// billing mapping has no place for, or that the service sets itself.
var unstoredElements = map[string][]string{
	"chargeitem-example.json": {"definitionUri", "context", "performer", "performingOrganization",
		"requestingOrganization", "enterer", "enteredDate", "reason", "service", "meta"},
	"invoice-example.json": {"date", "participant", "issuer", "meta"},
}

// decimal returns a FHIR decimal of a decoded body in minor units of 2
// places, without floating point.
func decimal(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "%v is not a number", v)
	d, err := billing.ParseDecimal(n.String(), 2)
	require.NoError(t, err)
	return d
}

// jsonNumbers decodes a body keeping numbers as json.Number.
func jsonNumbers(t *testing.T, body []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var v map[string]any
	require.NoError(t, dec.Decode(&v), "%s", body)
	return v
}

func TestBillingSpecExamplesRoundTrip(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()

	resp := s.do(http.MethodPost, "/ChargeItem", example(t, "chargeitem-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	charge := jsonNumbers(t, resp.body)
	chargeID, _ := charge["id"].(string)
	read := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItem/"+chargeID, "").body)
	assert.Equal(t, int64(4000), decimal(t, at(read, "priceOverride", "value")), "priceOverride")
	assert.Equal(t, "EUR", at(read, "priceOverride", "currency"))
	assert.Equal(t, json.Number("0.8"), at(read, "factorOverride"))
	assert.Equal(t, json.Number("1"), at(read, "quantity", "value"))
	assert.Equal(t, "01510", at(read, "code", "coding", 0, "code"))
	assert.Equal(t, "Patient/example", at(read, "subject", "reference"))
	assert.Equal(t, "Account/"+account, at(read, "account", 0, "reference"))
	assert.Equal(t, "billable", at(read, "status"))

	resp = s.do(http.MethodPost, "/Invoice", example(t, "invoice-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	inv := jsonNumbers(t, resp.body)
	invoiceID, _ := inv["id"].(string)
	read = jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+invoiceID, "").body)
	assert.Equal(t, "issued", at(read, "status"))
	assert.Equal(t, int64(4000), decimal(t, at(read, "totalNet", "value")), "totalNet")
	assert.Equal(t, int64(4800), decimal(t, at(read, "totalGross", "value")), "totalGross")
	assert.Equal(t, "EUR", at(read, "totalGross", "currency"))
	assert.Equal(t, "1", at(read, "identifier", 0, "value"))
	assert.Equal(t, fhir.InvoiceNumberSystem+"main", at(read, "identifier", 0, "system"))
	assert.Equal(t, "ChargeItem/"+chargeID, at(read, "lineItem", 0, "chargeItemReference", "reference"))
	assert.Equal(t, "Patient/example", at(read, "subject", "reference"))

	billed := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItem/"+chargeID, "").body)
	assert.Equal(t, "billed", at(billed, "status"))
}

func TestInvoiceTotalsMismatchChangesNothing(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	resp := s.do(http.MethodPost, "/ChargeItem", example(t, "chargeitem-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)

	body := strings.Replace(example(t, "invoice-example.json", account), `"value":48`, `"value":47.99`, 1)
	resp = s.do(http.MethodPost, "/Invoice", body)
	assert.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s", resp.body)
	assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])

	list, err := s.bill.ListInvoices(context.Background(), billing.InvoiceFilter{AccountID: account})
	require.NoError(t, err)
	assert.Empty(t, list, "a rejected invoice leaves no draft")
	search := s.do(http.MethodGet, "/ChargeItem?account="+account, "")
	require.Equal(t, http.StatusOK, search.status)
	assert.Equal(t, "billable", at(search.json(t), "entry", 0, "resource", "status"))
}

func TestIssuedInvoiceIsImmutable(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	require.Equal(t, http.StatusCreated, s.do(http.MethodPost, "/ChargeItem", example(t, "chargeitem-example.json", account)).status)
	resp := s.do(http.MethodPost, "/Invoice", `{"resourceType":"Invoice","status":"issued","account":{"reference":"Account/`+account+`"}}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	inv := resp.json(t)
	id, _ := inv["id"].(string)

	changed := strings.Replace(string(resp.body), `"totalGross":{"value":48.00`, `"totalGross":{"value":40.00`, 1)
	require.NotEqual(t, string(resp.body), changed)
	put := s.do(http.MethodPut, "/Invoice/"+id, changed)
	assert.Equal(t, http.StatusUnprocessableEntity, put.status, "%s", put.body)
	assert.Equal(t, "OperationOutcome", put.json(t)["resourceType"])
	assert.Contains(t, at(put.json(t), "issue", 0, "diagnostics"), "never changes")

	back := strings.Replace(string(resp.body), `"status":"issued"`, `"status":"draft"`, 1)
	put = s.do(http.MethodPut, "/Invoice/"+id, back)
	assert.Equal(t, http.StatusUnprocessableEntity, put.status, "an issued invoice goes back to draft: %s", put.body)

	stale := s.do(http.MethodPut, "/Invoice/"+id, string(resp.body), "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)

	read := s.do(http.MethodGet, "/Invoice/"+id, "").json(t)
	assert.Equal(t, "issued", read["status"])
	assert.Equal(t, at(inv, "meta", "versionId"), at(read, "meta", "versionId"))

	cancel := strings.Replace(string(resp.body), `"status":"issued"`, `"status":"cancelled","cancelledReason":"wrong patient"`, 1)
	put = s.do(http.MethodPut, "/Invoice/"+id, cancel)
	require.Equal(t, http.StatusOK, put.status, "%s", put.body)
	cancelled := put.json(t)
	assert.Equal(t, "cancelled", cancelled["status"])
	assert.Equal(t, "wrong patient", cancelled["cancelledReason"])
	credit, _ := at(cancelled, "extension", 2, "valueReference", "reference").(string)
	require.True(t, strings.HasPrefix(credit, "Invoice/"), "credited-by extension: %v", cancelled["extension"])
	note := s.do(http.MethodGet, "/"+credit, "").json(t)
	assert.Equal(t, "credit-note", at(note, "extension", 0, "valueCode"))
	assert.Equal(t, fhir.InvoiceNumberSystem+"main:credit-note", at(note, "identifier", 0, "system"))
	assert.Equal(t, "1", at(note, "identifier", 0, "value"))
	assert.Equal(t, -48.0, at(note, "totalGross", "value"))
}

func TestBillingPaymentAndSearch(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	require.Equal(t, http.StatusCreated, s.do(http.MethodPost, "/ChargeItem", example(t, "chargeitem-example.json", account)).status)
	resp := s.do(http.MethodPost, "/Invoice", `{"resourceType":"Invoice","status":"issued","account":{"reference":"Account/`+account+`"}}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)

	over := s.do(http.MethodPost, "/PaymentReconciliation", `{"resourceType":"PaymentReconciliation","status":"active",
		"paymentAmount":{"value":50,"currency":"EUR"},"detail":[{"type":{"text":"payment"},"request":{"reference":"Invoice/`+id+`"},"amount":{"value":50,"currency":"EUR"}}]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, over.status, "a payment over the balance: %s", over.body)
	mismatch := s.do(http.MethodPost, "/PaymentReconciliation", `{"resourceType":"PaymentReconciliation","status":"active",
		"paymentAmount":{"value":48,"currency":"USD"},"detail":[{"type":{"text":"payment"},"request":{"reference":"Invoice/`+id+`"},"amount":{"value":48,"currency":"USD"}}]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, mismatch.status, "a payment in another currency: %s", mismatch.body)

	pay := s.do(http.MethodPost, "/PaymentReconciliation", `{"resourceType":"PaymentReconciliation","status":"active",
		"paymentAmount":{"value":48.00,"currency":"EUR"},"paymentIdentifier":{"value":"card-778"},
		"detail":[{"type":{"text":"payment"},"request":{"reference":"Invoice/`+id+`"},"amount":{"value":48.00,"currency":"EUR"}}]}`)
	require.Equal(t, http.StatusCreated, pay.status, "%s", pay.body)
	assert.Equal(t, "Invoice/"+id, at(pay.json(t), "detail", 0, "request", "reference"))
	assert.Equal(t, http.StatusMethodNotAllowed, s.do(http.MethodPut, "/PaymentReconciliation/x", "{}").status)

	read := s.do(http.MethodGet, "/Invoice/"+id, "").json(t)
	assert.Equal(t, "balanced", read["status"])
	assert.Equal(t, 0.0, at(read, "extension", 1, "valueMoney", "value"))

	tests := []struct {
		path string
		want int
	}{
		{"/Invoice?patient=Patient/example", 1},
		{"/Invoice?subject=Patient/other", 0},
		{"/Invoice?status=balanced", 1},
		{"/Invoice?status=issued", 0},
		{"/Invoice?identifier=" + fhir.InvoiceNumberSystem + "main|1", 1},
		{"/Invoice?identifier=" + fhir.InvoiceNumberSystem + "main|2", 0},
		{"/Invoice?date=2025-03-03", 1},
		{"/Invoice?date=lt2025-03-03", 0},
		{"/Invoice?account=" + account, 1},
		{"/ChargeItem?patient=example", 1},
		{"/ChargeItem?code=01510", 1},
		{"/ChargeItem?code=99213", 0},
		{"/ChargeItem?entered-date=ge2025-03-04", 0},
		{"/Account?patient=Patient/example&status=active", 1},
		{"/Account?status=inactive", 0},
		{"/ChargeItemDefinition?code=01510&status=active", 1},
		{"/PaymentReconciliation?identifier=card-778", 1},
		{"/PaymentReconciliation?created=2025-03-02", 0},
	}
	for _, tc := range tests {
		resp := s.do(http.MethodGet, tc.path, "")
		require.Equal(t, http.StatusOK, resp.status, "%s: %s", tc.path, resp.body)
		assert.Len(t, entryIDs(t, resp.json(t)), tc.want, tc.path)
	}
	assert.Equal(t, http.StatusBadRequest, s.do(http.MethodGet, "/Invoice?recipient=x", "").status)
}

func TestChargeItemCorrectedByReversal(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	resp := s.do(http.MethodPost, "/ChargeItem", `{"resourceType":"ChargeItem","status":"billable",
		"code":{"coding":[{"code":"01510"}]},"subject":{"reference":"Patient/example"},
		"account":[{"reference":"Account/`+account+`"}],"quantity":{"value":2},"note":[{"text":"late entry"}]}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)

	edit := strings.Replace(string(resp.body), `"value":2`, `"value":3`, 1)
	assert.Equal(t, http.StatusUnprocessableEntity, s.do(http.MethodPut, "/ChargeItem/"+id, edit).status)

	reverse := strings.Replace(string(resp.body), `"status":"billable"`, `"status":"entered-in-error"`, 1)
	reverse = strings.Replace(reverse, `"late entry"`, `"wrong code"`, 1)
	changed := strings.Replace(reverse, `"value":2`, `"value":3`, 1)
	rejected(t, s.do(http.MethodPut, "/ChargeItem/"+id, changed), "ChargeItem.quantity")
	rev := s.do(http.MethodPut, "/ChargeItem/"+id, reverse)
	require.Equal(t, http.StatusCreated, rev.status, "%s", rev.body)
	r := rev.json(t)
	assert.Equal(t, -2.0, at(r, "quantity", "value"))
	assert.Equal(t, "ChargeItem/"+id, at(r, "extension", 0, "valueReference", "reference"))
	assert.Equal(t, "wrong code", at(r, "note", 0, "text"))

	for _, body := range []string{
		`{"resourceType":"ChargeItem","status":"billable","code":{"coding":[{"code":"nope"}]},"subject":{"reference":"Patient/example"},"account":[{"reference":"Account/` + account + `"}],"note":[{"text":"x"}]}`,
		`{"resourceType":"ChargeItem","status":"billable","code":{"coding":[{"code":"01510"}]},"subject":{"reference":"Patient/example"},"account":[{"reference":"Account/` + account + `"}]}`,
		`{"resourceType":"ChargeItem","status":"billable","code":{"coding":[{"code":"01510"}]},"subject":{"reference":"Patient/other"},"account":[{"reference":"Account/` + account + `"}],"note":[{"text":"x"}]}`,
	} {
		resp := s.do(http.MethodPost, "/ChargeItem", body)
		assert.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s", resp.body)
	}
	charges, err := s.bill.ListCharges(context.Background(), billing.ChargeFilter{AccountID: account})
	require.NoError(t, err)
	assert.Len(t, charges, 2, "the charge and its reversal, nothing from the rejected bodies")
}

func TestAccountCoverageFromRecord(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	resp := s.do(http.MethodPut, "/Coverage/cov1", `{"resourceType":"Coverage","id":"cov1","status":"active",
		"beneficiary":{"reference":"Patient/example"},"subscriberId":"M-100",
		"payor":[{"reference":"Organization/acme"}],
		"class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan"}]},"value":"gold"}]}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)

	resp = s.do(http.MethodPost, "/Account", `{"resourceType":"Account","status":"active",
		"subject":[{"reference":"Patient/example"}],"coverage":[{"coverage":{"reference":"Coverage/cov1"},"priority":1}],
		"guarantor":[{"party":{"reference":"Patient/example"}}]}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)
	a, err := s.bill.GetAccount(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, a.Coverages, 1)
	assert.Equal(t, billing.Coverage{PayerID: "acme", PlanID: "gold", MemberID: "M-100", Order: 1, CoverageID: "cov1"}, a.Coverages[0])

	missing := s.do(http.MethodPost, "/Account", `{"resourceType":"Account","status":"active","subject":[{"reference":"Patient/nobody"}]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, missing.status, "%s", missing.body)
	noCoverage := s.do(http.MethodPost, "/Account", `{"resourceType":"Account","status":"active","subject":[{"reference":"Patient/example"}],
		"coverage":[{"coverage":{"reference":"Coverage/none"}}]}`)
	assert.Equal(t, http.StatusUnprocessableEntity, noCoverage.status, "%s", noCoverage.body)

	update := strings.Replace(string(resp.body), `"status":"active"`, `"status":"inactive"`, 1)
	put := s.do(http.MethodPut, "/Account/"+id, update, "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, put.status, "%s", put.body)
	assert.Equal(t, "inactive", put.json(t)["status"])
	assert.Equal(t, "2", at(put.json(t), "meta", "versionId"))
	stale := s.do(http.MethodPut, "/Account/"+id, update, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)
}

func TestBillingBundleAndCapability(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	resp := s.do(http.MethodPost, "", `{"resourceType":"Bundle","type":"batch","entry":[
		{"resource":{"resourceType":"Invoice","status":"draft"},"request":{"method":"POST","url":"Invoice"}}]}`)
	assert.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
	assert.Contains(t, at(resp.json(t), "issue", 0, "diagnostics"), "billing service")

	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/Invoice/x/_history", "").status)
	assert.Equal(t, http.StatusMethodNotAllowed, s.do(http.MethodDelete, "/Invoice/x", "").status)

	cs := s.do(http.MethodGet, "/metadata", "").json(t)
	served := map[string][]string{}
	resources, _ := at(cs, "rest", 0, "resource").([]any)
	for _, r := range resources {
		m, _ := r.(map[string]any)
		typ, _ := m["type"].(string)
		list, _ := m["interaction"].([]any)
		for _, i := range list {
			code, _ := at(i, "code").(string)
			served[typ] = append(served[typ], code)
		}
	}
	assert.Equal(t, []string{"read", "vread", "update", "create", "history-instance", "search-type"}, served["Invoice"])
	assert.Equal(t, []string{"read", "vread", "create", "history-instance", "search-type"}, served["PaymentReconciliation"])
	assert.Equal(t, []string{"read", "vread", "update", "create", "history-instance", "search-type"}, served["ChargeItemDefinition"])
	assert.Contains(t, served, "Patient")
}

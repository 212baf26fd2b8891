package fhir_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/fhir"
)

// rejected asserts a 422 OperationOutcome whose issue names element.
func rejected(t *testing.T, resp response, element string) {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s", resp.body)
	outcome := resp.json(t)
	assert.Equal(t, "OperationOutcome", outcome["resourceType"])
	assert.Equal(t, element, at(outcome, "issue", 0, "expression", 0), "%s", resp.body)
}

func TestBillingIdentifiersStored(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	resp := s.do(http.MethodPost, "/ChargeItem", example(t, "chargeitem-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	chargeID, _ := resp.json(t)["id"].(string)
	read := s.do(http.MethodGet, "/ChargeItem/"+chargeID, "").json(t)
	assert.Equal(t, "http://myHospital.org/ChargeItems", at(read, "identifier", 0, "system"))
	assert.Equal(t, "654321", at(read, "identifier", 0, "value"))
	found := s.do(http.MethodGet, "/ChargeItem?identifier="+url.QueryEscape("http://myHospital.org/ChargeItems|654321"), "").json(t)
	assert.Equal(t, chargeID, at(found, "entry", 0, "resource", "id"))
	none := s.do(http.MethodGet, "/ChargeItem?identifier="+url.QueryEscape("http://other.example|654321"), "").json(t)
	assert.Nil(t, none["entry"])

	resp = s.do(http.MethodPost, "/Invoice", example(t, "invoice-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	inv := resp.json(t)
	invoiceID, _ := inv["id"].(string)
	assert.Equal(t, fhir.InvoiceNumberSystem+"main", at(inv, "identifier", 0, "system"), "the number comes first")
	assert.Equal(t, "http://myHospital.org/Invoices", at(inv, "identifier", 1, "system"))
	assert.Equal(t, "654321", at(inv, "identifier", 1, "value"))
	found = s.do(http.MethodGet, "/Invoice?identifier="+url.QueryEscape("http://myHospital.org/Invoices|654321"), "").json(t)
	assert.Equal(t, invoiceID, at(found, "entry", 0, "resource", "id"))
	found = s.do(http.MethodGet, "/Invoice?identifier=654321", "").json(t)
	assert.Equal(t, invoiceID, at(found, "entry", 0, "resource", "id"), "a value without a system")

	changed := strings.Replace(string(resp.body), `"value":"654321"`, `"value":"999"`, 1)
	rejected(t, s.do(http.MethodPut, "/Invoice/"+invoiceID, changed), "Invoice.identifier")
	same := s.do(http.MethodPut, "/Invoice/"+invoiceID, string(resp.body))
	assert.Equal(t, http.StatusOK, same.status, "a PUT of the read invoice keeps its identifiers: %s", same.body)

	resp = s.do(http.MethodPost, "/Account", `{"resourceType":"Account","status":"active",
		"identifier":[{"system":"urn:example:acct","value":"A-7"}],"subject":[{"reference":"Patient/example"}]}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	acct := resp.json(t)
	accountID, _ := acct["id"].(string)
	assert.Equal(t, "A-7", at(acct, "identifier", 0, "value"))
	found = s.do(http.MethodGet, "/Account?identifier="+url.QueryEscape("urn:example:acct|A-7"), "").json(t)
	assert.Equal(t, accountID, at(found, "entry", 0, "resource", "id"))
	assert.Nil(t, at(found, "entry", 1), "only the account with the identifier")
	update := strings.Replace(string(resp.body), `"value":"A-7"`, `"value":"A-8"`, 1)
	put := s.do(http.MethodPut, "/Account/"+accountID, update)
	require.Equal(t, http.StatusOK, put.status, "%s", put.body)
	assert.Equal(t, "A-8", at(put.json(t), "identifier", 0, "value"))
	found = s.do(http.MethodGet, "/Account?identifier="+url.QueryEscape("urn:example:acct|A-7"), "").json(t)
	assert.Nil(t, found["entry"], "the old identifier no longer finds the account")
}

func TestBillingUnstorableElementsRejected(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	charge := func(extra string) string {
		return `{"resourceType":"ChargeItem","status":"billable","code":{"coding":[{"code":"01510"}]},
			"subject":{"reference":"Patient/example"},"account":[{"reference":"Account/` + account + `"}],
			"note":[{"text":"desk"}]` + extra + `}`
	}
	tests := []struct {
		name, path, body, element string
	}{
		{"reserved identifier", "/ChargeItem", charge(`,"identifier":[{"system":"` + fhir.ChargeSourceSystem + `scheduling","value":"e1"}]`), "ChargeItem.identifier[0]"},
		{"second note", "/ChargeItem", charge(`,"note":[{"text":"desk"},{"text":"more"}]`), "ChargeItem.note[1]"},
		{"modifier extension", "/ChargeItem", charge(`,"modifierExtension":[{"url":"urn:example:m","valueBoolean":true}]`), "ChargeItem.modifierExtension"},
		{"entered date", "/ChargeItem", charge(`,"enteredDate":"2025-03-03T09:00:00Z"`), "ChargeItem.enteredDate"},
		{"context without encounter", "/ChargeItem", charge(`,"context":{"reference":"Encounter/e1"}`), "ChargeItem.context"},
		{"invoice date", "/Invoice", `{"resourceType":"Invoice","status":"draft","account":{"reference":"Account/` + account + `"},"date":"2025-03-03"}`, "Invoice.date"},
		{"invoice issuer", "/Invoice", `{"resourceType":"Invoice","status":"draft","account":{"reference":"Account/` + account + `"},"issuer":{"reference":"Organization/o1"}}`, "Invoice.issuer"},
		{"invoice number", "/Invoice", `{"resourceType":"Invoice","status":"draft","account":{"reference":"Account/` + account + `"},"identifier":[{"system":"` + fhir.InvoiceNumberSystem + `main","value":"7"}]}`, "Invoice.identifier[0]"},
		{"payment identifier system", "/PaymentReconciliation", `{"resourceType":"PaymentReconciliation","status":"active","paymentAmount":{"value":1,"currency":"EUR"},
			"extension":[{"url":"urn:nexus-health-360:fhir:payment-account","valueReference":{"reference":"Account/` + account + `"}}],
			"paymentIdentifier":{"system":"urn:example:checks","value":"c1"}}`, "PaymentReconciliation.paymentIdentifier.system"},
		{"payment detail type", "/PaymentReconciliation", `{"resourceType":"PaymentReconciliation","status":"active","paymentAmount":{"value":1,"currency":"EUR"},
			"detail":[{"type":{"coding":[{"system":"` + fhir.PaymentTypeSystem + `","code":"adjustment"}]},"request":{"reference":"Invoice/x"},"amount":{"value":1,"currency":"EUR"}}]}`, "PaymentReconciliation.detail[0].type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rejected(t, s.do(http.MethodPost, tc.path, tc.body), tc.element)
		})
	}
	charges := s.do(http.MethodGet, "/ChargeItem?account="+account, "").json(t)
	assert.Nil(t, charges["entry"], "no rejected charge was stored")
}

func TestBillingUnmodelledElementsKept(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openAccount()
	charge := func(extra string) string {
		return `{"resourceType":"ChargeItem","status":"billable","code":{"coding":[{"code":"01510"}]},
			"subject":{"reference":"Patient/example"},"account":[{"reference":"Account/` + account + `"}],
			"note":[{"text":"desk"}]` + extra + `}`
	}
	tests := []struct {
		name, path, body, element string
	}{
		{"occurrence period end", "/ChargeItem", charge(`,"occurrencePeriod":{"start":"2025-03-03T09:00:00Z","end":"2025-03-03T10:00:00Z","extension":[{"url":"urn:example:x","valueString":"y"}]}`), "ChargeItem.occurrencePeriod.extension"},
		{"unknown element", "/ChargeItem", charge(`,"performer":[{"actor":{"reference":"Practitioner/x"}}]`), "ChargeItem.performer"},
		{"primitive extension", "/ChargeItem", charge(`,"_status":{"id":"s"}`), "ChargeItem._status"},
		{"nested element", "/ChargeItem", charge(`,"quantity":{"value":1,"unit":"each"}`), "ChargeItem.quantity.unit"},
		{"unknown extension", "/ChargeItem", charge(`,"extension":[{"url":"urn:example:x","valueString":"y"}]`), "ChargeItem.extension[0]"},
		{"note time", "/ChargeItem", charge(`,"note":[{"text":"desk","time":"2025-03-03"}]`), "ChargeItem.note[0].time"},
		{"invoice note", "/Invoice", `{"resourceType":"Invoice","status":"draft","account":{"reference":"Account/` + account + `"},"note":[{"text":"x"}]}`, "Invoice.note"},
		{"account text", "/Account", `{"resourceType":"Account","status":"active","subject":[{"reference":"Patient/example"}],"name":"main"}`, "Account.name"},
		{"definition text", "/ChargeItemDefinition", `{"resourceType":"ChargeItemDefinition","status":"active","code":{"coding":[{"code":"X2"}]},"description":"d",
			"propertyGroup":[{"priceComponent":[{"type":"base","amount":{"value":1,"currency":"EUR"}}]}]}`, "ChargeItemDefinition.description"},
		{"price extension", "/ChargeItemDefinition", `{"resourceType":"ChargeItemDefinition","status":"active","code":{"coding":[{"code":"X1"}]},
			"propertyGroup":[{"extension":[{"url":"urn:example:x","valueString":"y"}],"priceComponent":[{"type":"base","amount":{"value":1,"currency":"EUR"}}]}]}`, "ChargeItemDefinition.propertyGroup[0].extension[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, tc.path, tc.body)
			require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
			id, _ := resp.json(t)["id"].(string)
			read := jsonNumbers(t, s.do(http.MethodGet, tc.path+"/"+id, "").body)
			assertRoundTrip(t, tc.element, tc.body, read)
		})
	}
}

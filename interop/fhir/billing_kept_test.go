package fhir_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// serverOwned are the elements of each published example that the
// billing service sets itself and rejects from a client, as it did
// before unmodelled elements were kept. They are the time and user that
// entered a charge, the date of an invoice (its issue time) and the
// issuer of an invoice, which is the facility in fhir.FacilitySystem
// where the example names a department.
var serverOwned = map[string][]string{
	"chargeitem-example.json": {"enteredDate", "enterer"},
	"invoice-example.json":    {"date", "issuer"},
}

// serverComputed are the elements the server writes from its own record
// in place of what was sent: a charge's code carries the chargemaster's
// system and display. The tests check the code value instead.
var serverComputed = map[string]bool{"code": true}

// clientExample returns a published example without its server-owned
// elements, with its Account/example reference pointing at account.
func clientExample(t *testing.T, name, account string) string {
	t.Helper()
	doc := jsonNumbers(t, []byte(fullExample(t, name, account)))
	for _, key := range serverOwned[name] {
		delete(doc, key)
	}
	raw, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(raw)
}

// openEncounterAccount creates Encounter/example and an Account for it,
// which the ChargeItem example's context refers to.
func (s *billingServer) openEncounterAccount() string {
	s.t.Helper()
	resp := s.do(http.MethodPut, "/Encounter/example", `{"resourceType":"Encounter","id":"example","status":"finished",
		"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},"subject":{"reference":"Patient/example"}}`)
	require.Contains(s.t, []int{http.StatusCreated, http.StatusOK}, resp.status, "%s", resp.body)
	resp = s.do(http.MethodPost, "/Account", `{"resourceType":"Account","status":"active",
		"subject":[{"reference":"Patient/example"}],
		"extension":[{"url":"urn:nexus-health-360:fhir:account-currency","valueCode":"EUR"},
			{"url":"urn:nexus-health-360:fhir:account-encounter","valueReference":{"reference":"Encounter/example"}}]}`)
	require.Equal(s.t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(s.t)["id"].(string)
	require.NotEmpty(s.t, id)
	return id
}

// assertContains checks that every element of sent is in got at the
// same place. An array item of sent may be any item of got, because the
// server adds identifiers and price components of its own. Numbers are
// compared as decimals, so 40 equals 40.00.
func assertContains(t *testing.T, path string, sent, got any) {
	t.Helper()
	if !contains(sent, got) {
		assert.Fail(t, "element missing or changed", "%s: sent %s, got %s", path, encode(sent), encode(got))
	}
}

func contains(sent, got any) bool {
	switch s := sent.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for key, value := range s {
			if !contains(value, g[key]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok {
			return false
		}
		for _, item := range s {
			found := false
			for _, candidate := range g {
				if contains(item, candidate) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		a, errA := billing.ParseDecimal(s.String(), 6)
		b, errB := billing.ParseDecimal(g.String(), 6)
		return errA == nil && errB == nil && a == b
	}
	if a, b, ok := instants(sent, got); ok {
		return a.Equal(b)
	}
	return fmt.Sprint(sent) == fmt.Sprint(got)
}

// instants parses two dateTimes with a time of day, which the server
// returns in UTC.
func instants(sent, got any) (time.Time, time.Time, bool) {
	s, ok1 := sent.(string)
	g, ok2 := got.(string)
	if !ok1 || !ok2 {
		return time.Time{}, time.Time{}, false
	}
	a, errA := time.Parse(time.RFC3339, s)
	b, errB := time.Parse(time.RFC3339, g)
	return a, b, errA == nil && errB == nil
}

func encode(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// assertRoundTrip checks that read holds every element of the sent body
// apart from id and meta's version and time, which the server sets.
func assertRoundTrip(t *testing.T, typ, body string, read map[string]any) {
	t.Helper()
	sent := jsonNumbers(t, []byte(body))
	for key, value := range sent {
		if key == "id" || serverComputed[key] {
			continue
		}
		assertContains(t, typ+"."+key, value, read[key])
	}
}

func TestBillingSpecExamplesKeepElements(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		testSpecExamplesKeepElements(t, newBillingServerOn(t, db, func() time.Time { return billingNow }))
	})
}

func testSpecExamplesKeepElements(t *testing.T, s *billingServer) {
	account := s.openEncounterAccount()

	chargeBody := clientExample(t, "chargeitem-example.json", account)
	resp := s.do(http.MethodPost, "/ChargeItem", chargeBody)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	created := jsonNumbers(t, resp.body)
	assertRoundTrip(t, "created ChargeItem", chargeBody, created)
	chargeID, _ := created["id"].(string)
	read := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItem/"+chargeID, "").body)
	assertRoundTrip(t, "ChargeItem", chargeBody, read)
	assert.Equal(t, int64(4000), decimal(t, at(read, "priceOverride", "value")), "priceOverride")
	assert.Equal(t, "01510", at(read, "code", "coding", 0, "code"))
	assert.Equal(t, "clerk", at(read, "enterer", "display"), "the server sets the enterer")
	vread := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItem/"+chargeID+"/_history/1", "").body)
	assertRoundTrip(t, "ChargeItem version 1", chargeBody, vread)
	search := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItem?account="+account, "").body)
	entry, _ := at(search, "entry", 0, "resource").(map[string]any)
	assertRoundTrip(t, "searched ChargeItem", chargeBody, entry)

	invoiceBody := clientExample(t, "invoice-example.json", account)
	resp = s.do(http.MethodPost, "/Invoice", invoiceBody)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	inv := jsonNumbers(t, resp.body)
	invoiceID, _ := inv["id"].(string)
	read = jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+invoiceID, "").body)
	assertRoundTrip(t, "Invoice", invoiceBody, read)
	assert.Equal(t, int64(4000), decimal(t, at(read, "totalNet", "value")), "totalNet")
	assert.Equal(t, int64(4800), decimal(t, at(read, "totalGross", "value")), "totalGross")
	history := jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+invoiceID+"/_history", "").body)
	latest, _ := at(history, "entry", 0, "resource").(map[string]any)
	assertRoundTrip(t, "Invoice history", invoiceBody, latest)
	search = jsonNumbers(t, s.do(http.MethodGet, "/Invoice?account="+account, "").body)
	entry, _ = at(search, "entry", 0, "resource").(map[string]any)
	assertRoundTrip(t, "searched Invoice", invoiceBody, entry)

	put := s.do(http.MethodPut, "/Invoice/"+invoiceID, string(strings.Replace(encode(read), `"HTEST"`, `"HRESCH"`, 1)))
	require.Equal(t, http.StatusOK, put.status, "%s", put.body)
	read = jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+invoiceID, "").body)
	assert.Equal(t, "HRESCH", at(read, "meta", "tag", 0, "code"), "a PUT replaces the kept elements")
	assert.Equal(t, "Practitioner/example", at(read, "participant", 0, "actor", "reference"))
}

func TestBillingKeptElementsCannotOverrideAmounts(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	account := s.openEncounterAccount()
	resp := s.do(http.MethodPost, "/ChargeItem", clientExample(t, "chargeitem-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)

	body := strings.Replace(clientExample(t, "invoice-example.json", account), `"value":40`, `"value":39`, 1)
	resp = s.do(http.MethodPost, "/Invoice", body)
	require.Equal(t, http.StatusUnprocessableEntity, resp.status, "%s", resp.body)
	assert.Contains(t, string(resp.body), "net total 39.00 EUR differs from 40.00 EUR")

	body = strings.Replace(clientExample(t, "invoice-example.json", account), `"currency":"EUR"`,
		`"currency":"EUR","extension":[{"url":"urn:example:note","valueString":"n"}]`, 1)
	resp = s.do(http.MethodPost, "/Invoice", body)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	inv := jsonNumbers(t, resp.body)
	invoiceID, _ := inv["id"].(string)
	assert.Equal(t, "urn:example:note", at(inv, "totalGross", "extension", 0, "url"), "an element inside an amount is kept")
	assert.Equal(t, int64(4800), decimal(t, at(inv, "totalGross", "value")))

	version, err := strconv.ParseInt(at(inv, "meta", "versionId").(string), 10, 64)
	require.NoError(t, err)
	forged := `{"totalNet":{"value":1,"currency":"USD"},"status":"cancelled","lineItem":{"~items":[{"at":0,"item":{},"kept":{"sequence":9}}]},"participant":[]}`
	require.NoError(t, s.bill.KeepElements(context.Background(), "Invoice", invoiceID, version, []byte(forged)))
	read := jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+invoiceID, "").body)
	assert.Equal(t, int64(4000), decimal(t, at(read, "totalNet", "value")), "billing's net total wins")
	assert.Equal(t, "EUR", at(read, "totalNet", "currency"))
	assert.Equal(t, "issued", at(read, "status"))
	assert.Equal(t, json.Number("1"), at(read, "lineItem", 0, "sequence"), "a kept element cannot replace a line's sequence")
}

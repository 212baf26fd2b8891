package fhir_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// versionAuthor returns the author extension of a resource's meta.
func versionAuthor(v any) any {
	return at(v, "meta", "extension", 0, "valueString")
}

func TestBillingAccountHistory(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	id := s.openAccount()
	first := s.do(http.MethodGet, "/Account/"+id, "")
	require.Equal(t, http.StatusOK, first.status)
	inactive := strings.Replace(string(first.body), `"status":"active"`, `"status":"inactive"`, 1)
	require.Equal(t, http.StatusOK, s.do(http.MethodPut, "/Account/"+id, inactive).status)

	history := s.do(http.MethodGet, "/Account/"+id+"/_history", "")
	require.Equal(t, http.StatusOK, history.status, "%s", history.body)
	b := history.json(t)
	assert.Equal(t, "history", b["type"])
	assert.Equal(t, "2", at(b, "entry", 0, "resource", "meta", "versionId"), "newest first")
	assert.Equal(t, "inactive", at(b, "entry", 0, "resource", "status"))
	assert.Equal(t, "PUT", at(b, "entry", 0, "request", "method"))
	assert.Equal(t, "1", at(b, "entry", 1, "resource", "meta", "versionId"))
	assert.Equal(t, "active", at(b, "entry", 1, "resource", "status"))
	assert.Equal(t, "POST", at(b, "entry", 1, "request", "method"))
	assert.Equal(t, "clerk", versionAuthor(at(b, "entry", 1, "resource")))
	assert.NotEmpty(t, at(b, "entry", 1, "resource", "meta", "lastUpdated"))

	v1 := s.do(http.MethodGet, "/Account/"+id+"/_history/1", "")
	require.Equal(t, http.StatusOK, v1.status, "%s", v1.body)
	assert.Equal(t, "active", v1.json(t)["status"])
	assert.Equal(t, `W/"1"`, v1.header.Get("ETag"))
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/Account/"+id+"/_history/3", "").status)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/Account/nobody/_history", "").status)
	assert.Equal(t, http.StatusMethodNotAllowed, s.do(http.MethodDelete, "/Account/"+id+"/_history/1", "").status)
}

func TestBillingInvoiceHistory(t *testing.T) {
	t.Parallel()
	// Each reading of the clock is a second later, so the versions and
	// ledger entries have times in the order they were made.
	var mu sync.Mutex
	now := billingNow
	s := newBillingServerAt(t, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	})
	account := s.openAccount()
	resp := s.do(http.MethodPost, "/ChargeItem", example(t, "chargeitem-example.json", account))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	chargeID, _ := resp.json(t)["id"].(string)
	resp = s.do(http.MethodPost, "/Invoice", `{"resourceType":"Invoice","status":"draft","account":{"reference":"Account/`+account+`"}}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)
	issue := strings.Replace(string(resp.body), `"status":"draft"`, `"status":"issued"`, 1)
	require.Equal(t, http.StatusOK, s.do(http.MethodPut, "/Invoice/"+id, issue).status)
	pay := s.do(http.MethodPost, "/PaymentReconciliation", `{"resourceType":"PaymentReconciliation","status":"active",
		"paymentAmount":{"value":48,"currency":"EUR"},
		"detail":[{"type":{"text":"payment"},"request":{"reference":"Invoice/`+id+`"},"amount":{"value":48,"currency":"EUR"}}]}`)
	require.Equal(t, http.StatusCreated, pay.status, "%s", pay.body)
	payID, _ := pay.json(t)["id"].(string)

	b := s.do(http.MethodGet, "/Invoice/"+id+"/_history", "").json(t)
	assert.Equal(t, "balanced", at(b, "entry", 0, "resource", "status"))
	assert.Equal(t, "issued", at(b, "entry", 1, "resource", "status"))
	assert.Equal(t, "draft", at(b, "entry", 2, "resource", "status"))
	assert.Nil(t, at(b, "entry", 3))

	draft := s.do(http.MethodGet, "/Invoice/"+id+"/_history/1", "").json(t)
	assert.Nil(t, draft["identifier"], "a draft has no number")
	assert.Nil(t, draft["date"])
	issued := jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+id+"/_history/2", "").body)
	assert.Equal(t, "1", at(issued, "identifier", 0, "value"))
	assert.Equal(t, int64(4800), decimal(t, at(issued, "extension", 1, "valueMoney", "value")), "the balance when issued")
	balanced := jsonNumbers(t, s.do(http.MethodGet, "/Invoice/"+id+"/_history/3", "").body)
	assert.Equal(t, int64(0), decimal(t, at(balanced, "extension", 1, "valueMoney", "value")), "the balance once paid")
	assert.Equal(t, "clerk", versionAuthor(balanced))

	charge := s.do(http.MethodGet, "/ChargeItem/"+chargeID+"/_history", "").json(t)
	assert.Equal(t, chargeID, at(charge, "entry", 0, "resource", "id"))
	assert.Nil(t, at(charge, "entry", 1), "a charge has one version")
	assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/ChargeItem/"+chargeID+"/_history/1", "").status)
	assert.Equal(t, http.StatusNotFound, s.do(http.MethodGet, "/ChargeItem/"+chargeID+"/_history/2", "").status)
	assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/PaymentReconciliation/"+payID+"/_history/1", "").status)
}

func TestChargeItemDefinitionVersions(t *testing.T) {
	t.Parallel()
	s := newBillingServer(t)
	v1 := s.do(http.MethodGet, "/ChargeItemDefinition/01510", "")
	require.Equal(t, http.StatusOK, v1.status)
	repriced := strings.Replace(string(v1.body), `"value":50.00`, `"value":55.00`, 1)
	require.NotEqual(t, string(v1.body), repriced)

	put := s.do(http.MethodPut, "/ChargeItemDefinition/01510", repriced, "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, put.status, "%s", put.body)
	assert.Equal(t, "2", at(put.json(t), "meta", "versionId"))
	stale := s.do(http.MethodPut, "/ChargeItemDefinition/01510", repriced, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusPreconditionFailed, stale.status, "%s", stale.body)
	missing := strings.ReplaceAll(repriced, "01510", "01511")
	assert.Equal(t, http.StatusPreconditionFailed, s.do(http.MethodPut, "/ChargeItemDefinition/01511", missing, "If-Match", `W/"1"`).status,
		"If-Match on an item that does not exist")

	b := s.do(http.MethodGet, "/ChargeItemDefinition/01510/_history", "").json(t)
	assert.Equal(t, "2", at(b, "entry", 0, "resource", "meta", "versionId"))
	assert.Equal(t, "1", at(b, "entry", 1, "resource", "meta", "versionId"))
	old := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItemDefinition/01510/_history/1", "").body)
	assert.Equal(t, int64(5000), decimal(t, at(old, "propertyGroup", 0, "priceComponent", 0, "amount", "value")))
	current := jsonNumbers(t, s.do(http.MethodGet, "/ChargeItemDefinition/01510", "").body)
	assert.Equal(t, int64(5500), decimal(t, at(current, "propertyGroup", 0, "priceComponent", 0, "amount", "value")))
}

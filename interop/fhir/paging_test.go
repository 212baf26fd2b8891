package fhir_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSortedPagingCursor(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, family := range []string{"Cobb", "Abbot", "Baird", "Dunn"} {
		s.create("Patient", `{"resourceType":"Patient","name":[{"family":"`+family+`"}]}`)
	}
	resp := s.do(http.MethodGet, "/Patient?_sort=-family&_count=2", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	next := link(resp.json(t), "next")
	require.NotEmpty(t, next)
	nextURL, err := url.Parse(next)
	require.NoError(t, err)
	cursor := nextURL.Query().Get("_cursor")
	require.NotEmpty(t, cursor)
	assert.NotContains(t, nextURL.Query(), "_offset")

	// A row inserted before the cursor does not shift the next page.
	s.create("Patient", `{"resourceType":"Patient","name":[{"family":"Zorn"}]}`)
	resp = s.do(http.MethodGet, strings.TrimPrefix(next, s.base), "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	var families []string
	for _, e := range entries(t, resp.json(t)) {
		families = append(families, at(e, "resource", "name", 0, "family").(string))
	}
	assert.Equal(t, []string{"Baird", "Abbot"}, families)

	tampered := []byte(cursor)
	tampered[2] ^= 1
	for name, query := range map[string]string{
		"altered":      "_sort=-family&_count=2&_cursor=" + url.QueryEscape(string(tampered)),
		"other search": "_sort=family&_count=2&_cursor=" + url.QueryEscape(cursor),
		"offset":       "_sort=-family&_offset=2",
	} {
		t.Run(name, func(t *testing.T) {
			resp := s.do(http.MethodGet, "/Patient?"+query, "")
			assert.Equal(t, http.StatusBadRequest, resp.status, "%s", resp.body)
			assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])
		})
	}
}

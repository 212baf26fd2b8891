package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPatientEverything(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	pid := s.create("Patient", `{"resourceType":"Patient","name":[{"family":"Everyone"}]}`)
	other := s.create("Patient", `{"resourceType":"Patient"}`)
	s.create("Observation", `{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"Patient/`+pid+`"}}`)
	s.create("Condition", `{"resourceType":"Condition","subject":{"reference":"Patient/`+pid+`"}}`)
	s.create("Observation", `{"resourceType":"Observation","status":"final","code":{"text":"hr"},"subject":{"reference":"Patient/`+other+`"}}`)

	resp := s.do(http.MethodGet, "/Patient/"+pid+"/$everything", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	list := entries(t, resp.json(t))
	var types []any
	for _, e := range list {
		types = append(types, at(e, "resource", "resourceType"))
	}
	assert.Equal(t, []any{"Patient", "Condition", "Observation"}, types)

	typed := s.do(http.MethodGet, "/Patient/"+pid+"/$everything?_type=Observation", "")
	require.Equal(t, http.StatusOK, typed.status)
	assert.Len(t, entries(t, typed.json(t)), 1)

	capped := s.do(http.MethodGet, "/Patient/"+pid+"/$everything?_count=2", "")
	require.Equal(t, http.StatusOK, capped.status)
	cappedList := entries(t, capped.json(t))
	require.Len(t, cappedList, 3, "two resources and a warning")
	assert.Equal(t, "OperationOutcome", at(cappedList[2], "resource", "resourceType"))

	cases := []struct {
		name   string
		path   string
		status int
	}{
		{name: "unknown patient", path: "/Patient/nobody/$everything", status: http.StatusNotFound},
		{name: "bad since", path: "/Patient/" + pid + "/$everything?_since=yesterday", status: http.StatusBadRequest},
		{name: "bad count", path: "/Patient/" + pid + "/$everything?_count=0", status: http.StatusBadRequest},
		{name: "unknown parameter", path: "/Patient/" + pid + "/$everything?colour=blue", status: http.StatusBadRequest},
		{name: "other type", path: "/Observation/x/$everything", status: http.StatusNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(http.MethodGet, tc.path, "")
			assert.Equal(t, tc.status, r.status, "%s", r.body)
		})
	}
}

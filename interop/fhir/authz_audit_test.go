package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestAccessEventDeleteNamesPatients(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	admin := s.backendToken(s.addBackend("admin", "system/*.cruds", security.RoleAdmin), "system/*.cruds")

	status, body := s.do("DELETE", "/fhir/Observation/o1", admin, "")
	require.Less(t, status, 300, body)
	event := s.access.last()
	assert.Equal(t, "delete", event.Action)
	assert.Equal(t, []string{"p1"}, event.Patients, "the patients of the deleted version")

	status, body = s.do("DELETE", "/fhir/Observation/o1", admin, "")
	require.Less(t, status, 300, body)
	assert.Equal(t, []string{"p1"}, s.access.last().Patients, "a repeated delete names the resource's patient")

	status, body = s.do("DELETE", "/fhir/Observation/o404", admin, "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Empty(t, s.access.last().Patients, "a missing resource names no patient")
}

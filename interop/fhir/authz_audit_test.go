package fhir_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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

func TestAccessEventListsUsedGrantsOnly(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	scope := "user/*.cruds " + security.ScopeBreakGlass
	nurse := s.userToken("nurse", scope, scope, "ward-3", security.RoleNurse)
	grantFor := func(patient string) string {
		status, body := s.do("POST", security.PathBreakGlass, nurse,
			`{"patient":"`+patient+`","reason":"patient collapsed in the corridor"}`, "Content-Type", "application/json")
		require.Equal(t, http.StatusCreated, status, body)
		var grant struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &grant))
		return grant.ID
	}
	other := grantFor("p7")
	used := grantFor("p2")

	status, body := s.do("GET", "/fhir/Patient/p2", nurse, "")
	require.Equal(t, http.StatusOK, status, body)
	event := s.access.last()
	assert.Equal(t, []string{used}, event.BreakGlass, "only the grant of the patient read")
	require.Len(t, event.BreakGlassGrants, 1)
	assert.Equal(t, "p2", event.BreakGlassGrants[0].Patient)
	assert.NotContains(t, event.BreakGlass, other)

	status, body = s.do("GET", "/fhir/Observation/o1", nurse, "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Empty(t, s.access.last().BreakGlass, "a read within the care relations uses no grant")
}

func TestExportManifestRequiresToken(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	tok := s.backendToken(s.addBackend("exporter", "system/*.rs", security.RoleAdmin), "system/*.rs")
	status, header, body := s.doHeader("GET", "/fhir/$export", tok, "", "Prefer", "respond-async", "Accept", "application/fhir+json")
	require.Equal(t, http.StatusAccepted, status, body)
	statusURL := header.Get("Content-Location")
	path := "/fhir/$export-status/" + statusURL[strings.LastIndex(statusURL, "/")+1:]

	var manifest struct {
		RequiresAccessToken bool `json:"requiresAccessToken"`
	}
	require.Eventually(t, func() bool {
		status, body = s.do("GET", path, tok, "")
		return status == http.StatusOK && json.Unmarshal([]byte(body), &manifest) == nil
	}, 10*time.Second, 20*time.Millisecond, "the export finishes")
	assert.True(t, manifest.RequiresAccessToken, "the files need the bearer token")
}

package fhir_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const (
	newObservation = `{"resourceType":"Observation","id":"new1","status":"final","code":{"text":"pulse"},
		"subject":{"reference":"Patient/p1"}}`
	labelled = `{"resourceType":"Observation","id":"lab1","status":"final","code":{"text":"hiv"},
		"subject":{"reference":"Patient/p1"},"meta":{"security":[
		{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},
		{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}}`
)

// transaction wraps entries in a transaction Bundle.
func transaction(entries ...string) string {
	return `{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`
}

func putEntry(id, resource string) string {
	return `{"resource":` + resource + `,"request":{"method":"PUT","url":"Observation/` + id + `"}}`
}

func (s *authStack) exists(typ, id string) bool {
	s.t.Helper()
	_, err := s.emr.Read(s.ctx, typ, id)
	if err != nil {
		require.ErrorIs(s.t, err, emr.ErrNotFound)
		return false
	}
	return true
}

func TestUpdateAsCreateNeedsCreate(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := newAuthStack(t, db, security.MiddlewareConfig{})
		// Admins reach every patient. A caller with less reach cannot
		// create by PUT at all, because a hidden id cannot be created.
		updater := s.userToken("updater", "user/Observation.ru", "user/*.cruds", "", security.RoleAdmin)
		writer := s.userToken("writer", "user/Observation.cru", "user/*.cruds", "", security.RoleAdmin)

		status, body := s.do("PUT", "/fhir/Observation/new1", updater, newObservation)
		assert.Equal(t, http.StatusForbidden, status, body)
		assert.False(t, s.exists("Observation", "new1"), "a plain PUT with update permission alone")

		status, body = s.do("POST", "/fhir", updater, transaction(putEntry("new1", newObservation)))
		assert.Equal(t, http.StatusForbidden, status, body)
		assert.False(t, s.exists("Observation", "new1"), "a transaction PUT entry")

		status, body = s.do("POST", "/fhir", updater, `{"resourceType":"Bundle","type":"batch","entry":[`+
			putEntry("new1", newObservation)+`]}`)
		assert.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, body, "403", "the batch entry fails")
		assert.False(t, s.exists("Observation", "new1"), "a batch PUT entry")

		status, body = s.do("PUT", "/fhir/Observation?code:text=nomatch", updater,
			`{"resourceType":"Observation","status":"final","code":{"text":"nomatch"},"subject":{"reference":"Patient/p1"}}`)
		assert.Equal(t, http.StatusForbidden, status, body)
		assert.False(t, s.exists("Observation", "nomatch"), "a conditional update that creates")

		status, body = s.do("PUT", "/fhir/Observation/o1", updater, `{"resourceType":"Observation","id":"o1",
			"status":"amended","code":{"text":"pulse"},"subject":{"reference":"Patient/p1"}}`)
		assert.Equal(t, http.StatusOK, status, "an update of an existing resource needs update only: %s", body)

		status, body = s.do("PUT", "/fhir/Observation/new1", writer, newObservation)
		assert.Equal(t, http.StatusCreated, status, "create and update permission: %s", body)
	})
}

func TestUpdateAsCreateAfterDeleteNeedsCreate(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	_, err := s.emr.Delete(s.ctx, "Observation", "o1", 0)
	require.NoError(t, err)
	updater := s.userToken("updater", "user/Observation.ru", "user/*.cruds", "ward-3", security.RolePhysician)
	status, body := s.do("PUT", "/fhir/Observation/o1", updater, `{"resourceType":"Observation","id":"o1",
		"status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p1"}}`)
	assert.Equal(t, http.StatusForbidden, status, "writing over a deletion creates: %s", body)
}

func TestUpdateAsCreateKeepsCompartments(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	writer := s.userToken("writer", "user/Observation.cru", "user/*.cruds", "ward-3", security.RolePhysician)
	status, body := s.do("PUT", "/fhir/Observation/new2", writer, `{"resourceType":"Observation","id":"new2",
		"status":"final","code":{"text":"pulse"},"subject":{"reference":"Patient/p2"}}`)
	assert.Equal(t, http.StatusForbidden, status, "a patient outside the create decision's reach: %s", body)
	assert.False(t, s.exists("Observation", "new2"))
}

func TestServerLabelsKeptOnWrite(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := newAuthStack(t, db, security.MiddlewareConfig{})
		_, _, err := s.emr.Update(s.ctx, emr.UpdateParams{Type: "Observation", ID: "lab1", Body: []byte(labelled)})
		require.NoError(t, err)
		physician := s.userToken("physician", "user/*.cruds", "user/*.cruds", "ward-3", security.RolePhysician)

		status, body := s.do("PATCH", "/fhir/Observation/lab1", physician,
			`[{"op":"add","path":"/note","value":[{"text":"meta and security reviewed"}]}]`,
			"Content-Type", "application/json-patch+json")
		assert.Equal(t, http.StatusOK, status, "a patch that keeps the labels: %s", body)

		reordered := strings.Replace(labelled, `"status":"final"`, `"status":"amended"`, 1)
		reordered = strings.Replace(reordered, `[
		{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},
		{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]`,
			`[{"code":"HIV","system":"http://terminology.hl7.org/CodeSystem/v3-ActCode"},
		{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]`, 1)
		status, body = s.do("PUT", "/fhir/Observation/lab1", physician, reordered)
		assert.Equal(t, http.StatusOK, status, "a PUT that sends the stored labels back: %s", body)

		cases := []struct {
			name, method, path, body string
			header                   []string
		}{
			{"PUT removing the labels", "PUT", "/fhir/Observation/lab1",
				`{"resourceType":"Observation","id":"lab1","status":"final","code":{"text":"hiv"},"subject":{"reference":"Patient/p1"}}`, nil},
			{"PUT changing a label", "PUT", "/fhir/Observation/lab1",
				strings.Replace(labelled, `"code":"R"`, `"code":"N"`, 1), nil},
			{"PATCH removing the labels", "PATCH", "/fhir/Observation/lab1", `[{"op":"remove","path":"/meta/security"}]`,
				[]string{"Content-Type", "application/json-patch+json"}},
			{"PATCH adding a label", "PATCH", "/fhir/Observation/o1",
				`[{"op":"add","path":"/meta","value":{"security":[{"code":"N"}]}}]`,
				[]string{"Content-Type", "application/json-patch+json"}},
			{"transaction PUT changing a label", "POST", "/fhir",
				transaction(putEntry("lab1", strings.Replace(labelled, `"code":"R"`, `"code":"N"`, 1))), nil},
			{"POST with labels", "POST", "/fhir/Observation", strings.Replace(labelled, `"id":"lab1",`, "", 1), nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before, err := s.emr.Read(s.ctx, "Observation", "lab1")
				require.NoError(t, err)
				status, body := s.do(c.method, c.path, physician, c.body, c.header...)
				assert.Equal(t, http.StatusForbidden, status, body)
				assert.Contains(t, body, "meta.security")
				after, err := s.emr.Read(s.ctx, "Observation", "lab1")
				require.NoError(t, err)
				assert.Equal(t, before.VersionID, after.VersionID, "nothing is stored")
			})
		}
	})
}

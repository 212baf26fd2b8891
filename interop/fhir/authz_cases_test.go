package fhir_test

import (
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// writeOnlyToken registers a new system client with the admin role and
// the ceiling system/*.cud, and returns a token for that scope.
func (s *authStack) writeOnlyToken() string {
	s.t.Helper()
	b := s.addBackend("writer-"+strings.ToLower(rand.Text()[:8]), "system/*.cud", security.RoleAdmin)
	return s.backendToken(b, "system/*.cud")
}

// freshToken returns a token of a new user with role on ward 3. The stack's
// clock does not advance, so the rate limiter gives each subject one
// burst of requests, and each case here uses a subject of its own.
func (s *authStack) freshToken(role security.Role) string {
	s.t.Helper()
	name := string(role) + "-" + strings.ToLower(rand.Text()[:8])
	return s.userToken(name, "user/*.cruds", "user/*.cruds", "ward-3", role)
}

// setDisabled disables the row of table whose column is value, as an
// operator would.
func (s *authStack) setDisabled(table, column, value string) {
	s.t.Helper()
	_, err := s.db.Writer.ExecContext(s.ctx, s.db.Rebind("UPDATE "+table+" SET disabled = ? WHERE "+column+" = ?"), true, value)
	require.NoError(s.t, err)
}

// reKid returns an assertion of b whose header names key id kid.
func reKid(s *authStack, b backend, kid string) string {
	s.t.Helper()
	claims := jwt.MapClaims{"iss": b.id, "sub": b.id, "aud": authIssuer + security.PathToken,
		"exp": s.clock.Now().Add(4 * time.Minute).Unix(), "jti": rand.Text()}
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, claims)
	tok.Header["kid"] = kid
	signed, err := tok.SignedString(b.key)
	require.NoError(s.t, err)
	return signed
}

// seedEncounters stores, once, an Encounter of p2 with practitioner pr1
// and organization org1, and p2's Observation and Condition on it, all
// carrying secrets.
func (s *authStack) seedEncounters() {
	s.t.Helper()
	if _, err := s.emr.Read(s.ctx, "Encounter", "e2"); err == nil {
		return
	}
	put := func(typ, id, body string) {
		_, _, err := s.emr.Update(s.ctx, emr.UpdateParams{Type: typ, ID: id, Body: []byte(body)})
		require.NoError(s.t, err)
	}
	put("Organization", "org1", `{"resourceType":"Organization","id":"org1","name":"Clinic"}`)
	put("Encounter", "e2", `{"resourceType":"Encounter","id":"e2","status":"in-progress",
		"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
		"subject":{"reference":"Patient/p2"},"participant":[{"individual":{"reference":"Practitioner/pr1"}}],
		"serviceProvider":{"reference":"Organization/org1"}}`)
	put("Observation", "o4", `{"resourceType":"Observation","id":"o4","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"secret-code"}]},"subject":{"reference":"Patient/p2"},
		"encounter":{"reference":"Encounter/e2"}}`)
	put("Condition", "c2", `{"resourceType":"Condition","id":"c2","code":{"text":"secret-code"},
		"subject":{"reference":"Patient/p2"},"encounter":{"reference":"Encounter/e2"}}`)
}

// seedWritable stores o5 in p1's compartment, for the write-only cases.
func (s *authStack) seedWritable() {
	s.t.Helper()
	_, _, err := s.emr.Update(s.ctx, emr.UpdateParams{Type: "Observation", ID: "o5", Body: []byte(o5)})
	require.NoError(s.t, err)
}

const o5 = `{"resourceType":"Observation","id":"o5","status":"final",
	"code":{"coding":[{"system":"http://loinc.org","code":"secret-code"}]},"subject":{"reference":"Patient/p1"}}`

// sameAsMissing sends the request for id and for the missing id o99,
// and checks that both get the same status and body.
func sameAsMissing(s *authStack, method, typ, id, token, body string, header ...string) (int, string) {
	s.t.Helper()
	status, got := s.do(method, "/fhir/"+typ+"/"+id, token, body, header...)
	missingBody := strings.ReplaceAll(body, `"id":"`+id+`"`, `"id":"o99"`)
	missingStatus, missing := s.do(method, "/fhir/"+typ+"/o99", token, missingBody, header...)
	assert.Equal(s.t, missingStatus, status, "the same status as a missing resource")
	assert.Equal(s.t, strings.ReplaceAll(missing, "o99", id), got, "the same body as a missing resource")
	return status, got
}

func noO99(t *testing.T, s *authStack) {
	_, err := s.emr.Read(s.ctx, "Observation", "o99")
	assert.ErrorIs(t, err, emr.ErrNotFound, "o99 was not created")
}

// reachAndWriteAttacks are the attempts to run bundle entries that were
// not authorized, to reach other patients through directory searches, to
// read through writes and to probe ids with PUT.
func reachAndWriteAttacks() []attack {
	badRequest := []int{http.StatusBadRequest}
	empty := []int{http.StatusOK}
	forbidden := []int{http.StatusForbidden}
	pr1 := append([]string{`"id":"pr1"`}, secrets...)
	return []attack{
		{name: "bundle entry key in another case", status: badRequest, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", s.freshToken(security.RoleNurse), `{"resourceType":"Bundle","type":"transaction",
				"entry":[{"request":{"method":"DELETE","url":"Observation/o1"}}],
				"ENTRY":[{"request":{"method":"GET","url":"Observation/o1"}}]}`)
		}, after: unchanged("Observation", "o1")},
		{name: "bundle method key in another case", status: badRequest, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", s.freshToken(security.RoleNurse), `{"resourceType":"Bundle","type":"transaction",
				"entry":[{"request":{"method":"DELETE","url":"Observation/o1","METHOD":"GET"}}]}`)
		}, after: unchanged("Observation", "o1")},
		{name: "bundle request key in another case", status: badRequest, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", s.freshToken(security.RoleNurse), `{"resourceType":"Bundle","type":"batch",
				"entry":[{"Request":{"method":"GET","url":"Observation/o1"},"request":{"method":"DELETE","url":"Observation/o1"}}]}`)
		}, after: unchanged("Observation", "o1")},
		{name: "bundle key with a long s", status: badRequest, send: func(s *authStack, tok tokens) (int, string) {
			// encoding/json matches "reque\u017ft" to request, emr does not.
			return s.do("POST", "/fhir", s.freshToken(security.RoleNurse), `{"resourceType":"Bundle","type":"batch",
				"entry":[{"reque\u017ft":{"method":"GET","url":"Observation/o1"},"request":{"method":"DELETE","url":"Observation/o1"}}]}`)
		}, after: unchanged("Observation", "o1")},
		{name: "bundle member repeated", status: badRequest, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", s.freshToken(security.RoleNurse), `{"resourceType":"Bundle","type":"batch",
				"entry":[{"request":{"method":"GET","url":"Observation/o1","method":"DELETE"}}]}`)
		}, after: unchanged("Observation", "o1")},
		{name: "conditional create entry without search", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			// The device may create Observations but not search them, so
			// whether ifNoneExist matches must stay unknown to it.
			return s.do("POST", "/fhir", tok.device, `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":{"resourceType":"Observation","status":"final","code":{"text":"probe"},"subject":{"reference":"Patient/p2"}},
				"request":{"method":"POST","url":"Observation","ifNoneExist":"code=secret-code"}}]}`)
		}, after: notStored("Observation?code:text=probe")},
		{name: "batch GET by a write-only client", status: forbidden, send: func(s *authStack, _ tokens) (int, string) {
			writer := s.writeOnlyToken()
			batch := func(id string) string {
				return `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/` + id + `"}}]}`
			}
			status, body := s.do("POST", "/fhir", writer, batch("o2"))
			missingStatus, missing := s.do("POST", "/fhir", writer, batch("o99"))
			assert.Equal(s.t, missingStatus, status)
			assert.Equal(s.t, missing, body, "an existing and a missing id get the same response")
			return status, body
		}},
		{name: "directory _revinclude of encounters", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			s.seedEncounters()
			return s.do("GET", "/fhir/Practitioner?_revinclude=Encounter:participant&_revinclude:iterate=Observation:encounter",
				s.freshToken(security.RolePhysician), "")
		}},
		{name: "directory _revinclude by a nurse", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			s.seedEncounters()
			return s.do("GET", "/fhir/Organization?_revinclude=Encounter:service-provider&_revinclude:iterate=Condition:encounter",
				s.freshToken(security.RoleNurse), "")
		}},
		{name: "directory _has on another patient", status: empty, secrets: pr1, send: func(s *authStack, tok tokens) (int, string) {
			s.seedEncounters()
			return s.do("GET", "/fhir/Practitioner?_has:Encounter:participant:patient.name=Hiddenname", s.freshToken(security.RolePhysician), "")
		}},
		{name: "directory _include of a patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			s.seedEncounters()
			return s.do("GET", "/fhir/Organization?_revinclude=Encounter:service-provider&_include:iterate=Encounter:subject",
				s.freshToken(security.RoleNurse), "")
		}},
		{name: "JSON Patch test by a write-only client", status: []int{http.StatusNotFound}, send: func(s *authStack, _ tokens) (int, string) {
			return sameAsMissing(s, "PATCH", "Patient", "p2", s.writeOnlyToken(),
				`[{"op":"test","path":"/resourceType","value":"Patient"}]`, "Content-Type", "application/json-patch+json")
		}, after: unchanged("Patient", "p2")},
		{name: "PUT by a write-only client echoes nothing", status: []int{http.StatusOK}, send: func(s *authStack, _ tokens) (int, string) {
			s.seedWritable()
			status, header, body := s.doHeader("PUT", "/fhir/Observation/o5", s.writeOnlyToken(),
				strings.Replace(o5, `"final"`, `"amended"`, 1), "Prefer", "return=representation")
			assert.Empty(s.t, body, "no representation")
			assert.Equal(s.t, `W/"2"`, header.Get("ETag"), "the version the client wrote")
			return status, body
		}},
		{name: "write-only POST echoes nothing", status: []int{http.StatusCreated}, send: func(s *authStack, _ tokens) (int, string) {
			status, header, body := s.doHeader("POST", "/fhir/Observation", s.writeOnlyToken(),
				strings.Replace(o5, `"id":"o5",`, "", 1), "Prefer", "return=OperationOutcome")
			assert.Empty(s.t, body, "no representation")
			assert.NotEmpty(s.t, header.Get("Location"))
			return status, body
		}},
		{name: "write-only error bodies are generic", status: []int{http.StatusPreconditionFailed},
			secrets: []string{"current version", "secret-code"}, send: func(s *authStack, _ tokens) (int, string) {
				s.seedWritable()
				return s.do("PUT", "/fhir/Observation/o5", s.writeOnlyToken(), o5, "If-Match", `W/"99"`)
			}},
		{name: "write-only batch entries echo nothing", status: []int{http.StatusOK}, send: func(s *authStack, _ tokens) (int, string) {
			s.seedWritable()
			status, body := s.do("POST", "/fhir", s.writeOnlyToken(), `{"resourceType":"Bundle","type":"batch","entry":[
				{"resource":`+strings.Replace(o5, `"final"`, `"cancelled"`, 1)+`,"request":{"method":"PUT","url":"Observation/o5"}},
				{"resource":`+o5+`,"request":{"method":"PUT","url":"Observation/o5","ifMatch":"W/\"99\""}}]}`,
				"Prefer", "return=representation")
			assert.NotContains(s.t, body, "current version")
			assert.Contains(s.t, body, "200 OK", "the first entry ran")
			return status, body
		}},
		{name: "write-only transaction errors are generic", status: []int{http.StatusPreconditionFailed},
			secrets: []string{"current version", "secret-code"}, send: func(s *authStack, _ tokens) (int, string) {
				s.seedWritable()
				return s.do("POST", "/fhir", s.writeOnlyToken(), `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":`+o5+`,"request":{"method":"PUT","url":"Observation/o5","ifMatch":"W/\"99\""}}]}`)
			}},
		{name: "PUT to a hidden id reads as missing", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return sameAsMissing(s, "PUT", "Observation", "o2", s.freshToken(security.RolePhysician),
				`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`)
		}, after: func(t *testing.T, s *authStack) {
			unchanged("Observation", "o2")(t, s)
			noO99(t, s)
		}},
		{name: "PUT with If-Match to a hidden id", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return sameAsMissing(s, "PUT", "Observation", "o2", s.freshToken(security.RolePhysician),
				`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`,
				"If-Match", `W/"1"`)
		}, after: func(t *testing.T, s *authStack) {
			unchanged("Observation", "o2")(t, s)
			noO99(t, s)
		}},
		{name: "PATCH of a hidden id reads as missing", status: []int{http.StatusNotFound}, send: func(s *authStack, tok tokens) (int, string) {
			return sameAsMissing(s, "PATCH", "Observation", "o2", s.freshToken(security.RoleNurse),
				`[{"op":"replace","path":"/status","value":"amended"}]`, "Content-Type", "application/json-patch+json")
		}, after: unchanged("Observation", "o2")},
		{name: "transaction PUT to a hidden id", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			tx := func(id string) string {
				return `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Observation","id":"` + id +
					`","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}},"request":{"method":"PUT","url":"Observation/` + id + `"}}]}`
			}
			status, body := s.do("POST", "/fhir", s.freshToken(security.RolePhysician), tx("o2"))
			missingStatus, missing := s.do("POST", "/fhir", s.freshToken(security.RolePhysician), tx("o99"))
			assert.Equal(s.t, missingStatus, status)
			assert.Equal(s.t, strings.ReplaceAll(missing, "o99", "o2"), body)
			return status, body
		}, after: func(t *testing.T, s *authStack) {
			unchanged("Observation", "o2")(t, s)
			noO99(t, s)
		}},
		{name: "token errors do not tell clients apart", status: []int{http.StatusUnauthorized},
			send: func(s *authStack, _ tokens) (int, string) {
				known := s.addBackend("known-"+strings.ToLower(rand.Text()[:8]), "system/*.rs", security.RoleLabSystem)
				stranger := backend{id: "no-such-client", key: known.key}
				other := s.addBackend("other-"+strings.ToLower(rand.Text()[:8]), "system/*.rs", security.RoleLabSystem)
				app := backend{id: "app-nurse", key: known.key}
				assertions := map[string]string{
					"unknown client": stranger.assertion(s, func(m jwt.MapClaims) { m["iss"], m["sub"] = stranger.id, stranger.id }),
					"app client":     app.assertion(s, nil),
					"unknown kid":    reKid(s, known, "k-none"),
					"wrong key":      backend{id: known.id, key: other.key}.assertion(s, nil),
				}
				var first map[string]any
				status := 0
				for name, a := range assertions {
					got, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
						"client_assertion_type": security.AssertionType, "client_assertion": a})
					assert.Equal(s.t, http.StatusUnauthorized, got, name)
					if first == nil {
						first, status = body, got
						continue
					}
					assert.Equal(s.t, first, body, "%s gets the same body", name)
				}
				return status, first["error"].(string)
			}},
		{name: "assertion iat in the future", status: []int{http.StatusUnauthorized}, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("future-iat", "system/*.rs", security.RoleLabSystem)
			status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
				"client_assertion_type": security.AssertionType,
				"client_assertion":      b.assertion(s, func(m jwt.MapClaims) { m["iat"] = s.clock.Now().Add(time.Hour).Unix() })})
			return status, body["error"].(string)
		}},
		{name: "token of a disabled client", status: []int{http.StatusUnauthorized}, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("soon-disabled", "system/*.rs", security.RoleLabSystem)
			tok := s.backendToken(b, "system/*.rs")
			before, _ := s.do("GET", "/fhir/Observation/o1", tok, "")
			require.Equal(s.t, http.StatusOK, before, "the token works while the client is enabled")
			s.setDisabled("security_clients", "id", b.id)
			s.clock.Advance(security.PrincipalCheckTTL)
			return s.do("GET", "/fhir/Observation/o1", tok, "")
		}},
		{name: "token of a disabled user", status: []int{http.StatusUnauthorized}, send: func(s *authStack, _ tokens) (int, string) {
			tok := s.userToken("soon-disabled", "user/*.rs", "user/*.rs", "ward-3", security.RoleNurse)
			before, _ := s.do("GET", "/fhir/Observation/o1", tok, "")
			require.Equal(s.t, http.StatusOK, before, "the token works while the user is enabled")
			s.setDisabled("security_users", "username", "soon-disabled")
			s.clock.Advance(security.PrincipalCheckTTL)
			return s.do("GET", "/fhir/Observation/o1", tok, "")
		}},
	}
}

func TestSearchByPostWithoutRead(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	searcher := s.backendToken(s.addBackend("searcher", "system/Observation.s", security.RoleLabSystem), "system/Observation.s")
	status, body := s.do("POST", "/fhir/Observation/_search", searcher, "_id=o1",
		"Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"id":"o1"`, "a search by POST writes nothing, so its results stay")
}

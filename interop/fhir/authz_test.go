package fhir_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// secrets are the values of patient p2 and observation o2 that no case may
// disclose.
var secrets = []string{"Hiddenname", "secret-code", `"id":"o2"`, `"id":"p2"`}

// attack is one attempt that must be rejected without disclosing data.
type attack struct {
	name string
	// send performs the attempt and returns the status and body.
	send func(s *authStack, tok tokens) (int, string)
	// status lists the accepted statuses.
	status []int
	// after, when set, checks the stored state afterwards.
	after func(t *testing.T, s *authStack)
	// secrets replaces the default secrets, for callers that may see p2.
	secrets []string
}

type tokens struct {
	nurse, physician, clerk, device, lab, exporter string
}

// observationSecrets are the values of o2 alone, for a clerk, who reads
// every patient but no observation.
var observationSecrets = []string{"secret-code", `"id":"o2"`}

// forgeWith re-signs the claims of tok with method and key.
func forgeWith(t *testing.T, tok string, method jwt.SigningMethod, key any) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	claims := jwt.MapClaims{}
	require.NoError(t, json.Unmarshal(payload, &claims))
	forged := jwt.NewWithClaims(method, claims)
	signed, err := forged.SignedString(key)
	require.NoError(t, err)
	return signed
}

func publicKeyPEM(t *testing.T, s *authStack) []byte {
	t.Helper()
	set, err := s.sec.JWKS(s.ctx)
	require.NoError(t, err)
	pub, err := set.Keys[0].PublicKey()
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func unchanged(typ, id string) func(t *testing.T, s *authStack) {
	return func(t *testing.T, s *authStack) {
		r, err := s.emr.Read(s.ctx, typ, id)
		require.NoError(t, err, "%s/%s still exists", typ, id)
		assert.Equal(t, int64(1), r.VersionID, "%s/%s has no new version", typ, id)
	}
}

func notStored(query string) func(t *testing.T, s *authStack) {
	return func(t *testing.T, s *authStack) {
		typ, params, _ := strings.Cut(query, "?")
		values, err := url.ParseQuery(params)
		require.NoError(t, err)
		res, err := s.emr.Search(s.ctx, typ, values)
		require.NoError(t, err)
		assert.Empty(t, res.Resources, "nothing was stored for %s", query)
	}
}

const p2Observation = `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p2"}}`

func attacks() []attack {
	rejected := []int{http.StatusUnauthorized}
	hidden := []int{http.StatusNotFound}
	forbidden := []int{http.StatusForbidden}
	empty := []int{http.StatusOK}
	tokenURL := security.PathToken
	return append([]attack{
		{name: "no token", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			return s.do("GET", "/fhir/Patient/p2", "", "")
		}},
		{name: "malformed token", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			return s.do("GET", "/fhir/Patient/p2", "abc.def.ghi", "")
		}},
		{name: "alg none", status: rejected, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient/p2", forgeWith(s.t, tok.nurse, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType), "")
		}},
		{name: "HS256 signed with the public key", status: rejected, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient/p2", forgeWith(s.t, tok.nurse, jwt.SigningMethodHS256, publicKeyPEM(s.t, s)), "")
		}},
		{name: "expired token", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			past := s.securityService(security.Config{Clock: func() time.Time { return s.clock.Now().Add(-time.Hour) }})
			old := s.userTokenWith(past, "nurse-old", "user/*.rs", "user/*.rs", "ward-3", security.RoleNurse)
			return s.do("GET", "/fhir/Patient/p1", old, "")
		}},
		{name: "wrong aud", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			other := s.securityService(security.Config{Audience: "https://other.test/fhir"})
			tok := s.userTokenWith(other, "nurse-aud", "user/*.rs", "user/*.rs", "ward-3", security.RoleNurse)
			return s.do("GET", "/fhir/Patient/p1", tok, "")
		}},
		{name: "wrong iss", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			other := s.securityService(security.Config{Issuer: "https://other.test", Audience: authIssuer + "/fhir"})
			tok := s.userTokenWith(other, "nurse-iss", "user/*.rs", "user/*.rs", "ward-3", security.RoleNurse)
			return s.do("GET", "/fhir/Patient/p1", tok, "")
		}},
		{name: "replayed jti", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("replayer", "system/*.rs", security.RoleLabSystem)
			a := b.assertion(s, nil)
			form := map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
				"client_assertion_type": security.AssertionType, "client_assertion": a}
			first, _ := s.tokenResponse(form)
			require.Equal(s.t, http.StatusOK, first)
			status, body := s.tokenResponse(form)
			return status, body["error"].(string)
		}},
		{name: "assertion aud is the FHIR base", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("wrong-aud", "system/*.rs", security.RoleLabSystem)
			status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
				"client_assertion_type": security.AssertionType,
				"client_assertion":      b.assertion(s, func(m jwt.MapClaims) { m["aud"] = authIssuer + "/fhir" })})
			return status, body["error"].(string)
		}},
		{name: "assertion exp an hour ahead", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("long-exp", "system/*.rs", security.RoleLabSystem)
			status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
				"client_assertion_type": security.AssertionType,
				"client_assertion":      b.assertion(s, func(m jwt.MapClaims) { m["exp"] = s.clock.Now().Add(time.Hour).Unix() })})
			return status, body["error"].(string)
		}},
		{name: "assertion sub of another client", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("impostor", "system/Observation.c", security.RoleDevice)
			status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
				"client_assertion_type": security.AssertionType,
				"client_assertion":      b.assertion(s, func(m jwt.MapClaims) { m["sub"] = "lab" })})
			return status, body["error"].(string)
		}},
		{name: "malformed scope grants nothing", status: []int{http.StatusBadRequest}, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("bad-scope", "system/*.rs", security.RoleLabSystem)
			status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.sr",
				"client_assertion_type": security.AssertionType, "client_assertion": b.assertion(s, nil)})
			return status, body["error"].(string)
		}},
		{name: "scope escalation beyond the client", status: hidden, send: func(s *authStack, _ tokens) (int, string) {
			b := s.addBackend("device-2", "system/Observation.c", security.RoleDevice)
			tok := s.backendToken(b, "system/*.cruds system/Observation.c")
			return s.do("GET", "/fhir/Observation/o2", tok, "")
		}},
		{name: "write scope does not read", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation/o1", tok.device, "")
		}},
		{name: "write scope does not search", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation", tok.device, "")
		}},
		{name: "app scope escalation to write", status: forbidden, send: func(s *authStack, _ tokens) (int, string) {
			tok := s.userToken("nurse-ro", "user/*.cruds", "user/*.rs", "ward-3", security.RoleNurse)
			return s.do("POST", "/fhir/Observation", tok, `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`)
		}, after: notStored("Observation?code:text=x")},
		{name: "role lacks the interaction", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation", tok.clerk, "")
		}},
		{name: "cross-patient read by id", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation/o2", tok.nurse, "")
		}},
		{name: "cross-patient read of the patient", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient/p2", tok.nurse, "")
		}},
		{name: "guessed id", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation/o99", tok.nurse, "")
		}},
		{name: "vread of another patient", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation/o2/_history/1", tok.nurse, "")
		}},
		{name: "history of another patient", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation/o2/_history", tok.nurse, "")
		}},
		{name: "search by another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation?subject=Patient/p2", tok.nurse, "")
		}},
		{name: "POST search by another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir/Observation/_search", tok.nurse, "subject=Patient%2Fp2",
				"Content-Type", "application/x-www-form-urlencoded")
		}},
		{name: "_include of another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation?_id=o3&_include=Observation:performer", tok.nurse, "")
		}},
		{name: "_include:iterate of another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation?_id=o3&_include:iterate=Observation:performer&_include=Observation:subject", tok.nurse, "")
		}},
		{name: "_revinclude of another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient?_id=p1,p2&_revinclude=Observation:subject", tok.nurse, "")
		}},
		{name: "_revinclude of an unreadable type", status: empty, secrets: observationSecrets, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient?_id=p2&_revinclude=Observation:subject", tok.clerk, "")
		}},
		{name: "_has on an unreadable type", status: empty, secrets: []string{"secret-code", `"id":"o2"`, `"id":"p2"`}, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient?_has:Observation:subject:code=secret-code", tok.clerk, "")
		}},
		{name: "_has on another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient?_has:Observation:subject:code=secret-code", tok.nurse, "")
		}},
		{name: "chain into another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation?performer:Patient.name=Hiddenname", tok.nurse, "")
		}},
		{name: "everything of another patient", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Patient/p2/$everything", tok.nurse, "")
		}},
		{name: "system history", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/_history", tok.nurse, "")
		}},
		{name: "update of another patient's resource", status: []int{http.StatusNotFound, http.StatusForbidden},
			send: func(s *authStack, tok tokens) (int, string) {
				return s.do("PUT", "/fhir/Observation/o2", tok.physician, `{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`)
			}, after: unchanged("Observation", "o2")},
		{name: "patch of another patient's resource", status: []int{http.StatusNotFound, http.StatusForbidden},
			send: func(s *authStack, tok tokens) (int, string) {
				return s.do("PATCH", "/fhir/Observation/o2", tok.nurse, `[{"op":"replace","path":"/status","value":"amended"}]`,
					"Content-Type", "application/json-patch+json")
			}, after: unchanged("Observation", "o2")},
		{name: "delete of another patient's resource", status: []int{http.StatusOK, http.StatusNoContent, http.StatusNotFound},
			send: func(s *authStack, tok tokens) (int, string) {
				status, body := s.do("DELETE", "/fhir/Observation/o2", tok.physician, "")
				missingStatus, missingBody := s.do("DELETE", "/fhir/Observation/o99", tok.physician, "")
				assert.Equal(s.t, missingStatus, status, "the same status as a missing resource")
				assert.Equal(s.t, strings.ReplaceAll(missingBody, "o99", "o2"), body, "the same body as a missing resource")
				return status, body
			}, after: unchanged("Observation", "o2")},
		{name: "conditional delete of another patient", status: []int{http.StatusOK, http.StatusNoContent, http.StatusNotFound},
			send: func(s *authStack, tok tokens) (int, string) {
				return s.do("DELETE", "/fhir/Observation?subject=Patient/p2", tok.physician, "")
			}, after: unchanged("Observation", "o2")},
		{name: "conditional update onto another patient", status: []int{http.StatusForbidden, http.StatusCreated},
			send: func(s *authStack, tok tokens) (int, string) {
				return s.do("PUT", "/fhir/Observation?code=secret-code", tok.physician, `{"resourceType":"Observation","status":"final","code":{"text":"y"},"subject":{"reference":"Patient/p1"}}`)
			}, after: unchanged("Observation", "o2")},
		{name: "create for another patient", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir/Observation", tok.nurse, p2Observation)
		}, after: notStored("Observation?code:text=x")},
		{name: "mass assignment of meta.security", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir/Observation", tok.nurse, `{"resourceType":"Observation","status":"final","code":{"text":"label"},
				"subject":{"reference":"Patient/p1"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`)
		}, after: notStored("Observation?code:text=label")},
		{name: "meta.security through PATCH", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("PATCH", "/fhir/Observation/o1", tok.nurse, `[{"op":"add","path":"/meta/security","value":[{"code":"N"}]}]`,
				"Content-Type", "application/json-patch+json")
		}, after: unchanged("Observation", "o1")},
		{name: "meta.security in a transaction", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", tok.nurse, `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":
				{"resourceType":"Observation","status":"final","code":{"text":"tx"},"subject":{"reference":"Patient/p1"},
				"meta":{"security":[{"code":"N"}]}},"request":{"method":"POST","url":"Observation"}}]}`)
		}, after: notStored("Observation?code:text=tx")},
		{name: "transaction writing another patient", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", tok.nurse, `{"resourceType":"Bundle","type":"transaction","entry":[
				{"resource":`+p2Observation+`,"request":{"method":"POST","url":"Observation"}}]}`)
		}, after: notStored("Observation?code:text=x")},
		{name: "transaction entry the role forbids", status: []int{http.StatusForbidden}, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", tok.nurse, `{"resourceType":"Bundle","type":"transaction","entry":[
				{"request":{"method":"DELETE","url":"Observation/o1"}}]}`)
		}, after: unchanged("Observation", "o1")},
		{name: "batch read of another patient", status: empty, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir", tok.nurse, `{"resourceType":"Bundle","type":"batch","entry":[
				{"request":{"method":"GET","url":"Observation/o2"}},{"request":{"method":"GET","url":"Patient?_id=p2"}}]}`)
		}},
		{name: "oversized body", status: []int{http.StatusRequestEntityTooLarge}, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", "/fhir/Observation", tok.nurse, `{"resourceType":"Observation","note":[{"text":"`+strings.Repeat("a", 2<<20)+`"}]}`)
		}},
		{name: "path with encoded dot segments", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Observation/..%2FPatient%2Fp2", tok.nurse, "")
		}},
		{name: "path with doubled slashes", status: []int{http.StatusNotFound, http.StatusMovedPermanently}, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir//Patient//p2", tok.nurse, "")
		}},
		{name: "path climbing out of the API", status: []int{http.StatusNotFound, http.StatusMovedPermanently, http.StatusUnauthorized},
			send: func(s *authStack, tok tokens) (int, string) {
				return s.do("GET", "/fhir/../fhir/Patient/p2", "", "")
			}},
		{name: "export by a write-only client", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/$export", tok.device, "", "Prefer", "respond-async", "Accept", "application/fhir+json")
		}},
		{name: "export status of another client", status: hidden, send: func(s *authStack, tok tokens) (int, string) {
			status, header, _ := s.doHeader("GET", "/fhir/$export", tok.exporter, "", "Prefer", "respond-async", "Accept", "application/fhir+json")
			require.Equal(s.t, http.StatusAccepted, status)
			statusURL := header.Get("Content-Location")
			require.NotEmpty(s.t, statusURL)
			path := "/fhir/$export-status/" + statusURL[strings.LastIndex(statusURL, "/")+1:]
			own, _ := s.do("GET", path, tok.exporter, "")
			require.Contains(s.t, []int{http.StatusOK, http.StatusAccepted}, own, "the owner reads the status")
			return s.do("GET", path, tok.lab, "")
		}},
		{name: "break the glass without a reason", status: []int{http.StatusBadRequest}, send: func(s *authStack, tok tokens) (int, string) {
			status, body := s.do("POST", security.PathBreakGlass, tok.nurse, `{"patient":"p2"}`, "Content-Type", "application/json")
			if status != http.StatusBadRequest {
				return status, body
			}
			after, afterBody := s.do("GET", "/fhir/Patient/p2", tok.nurse, "")
			require.Equal(s.t, http.StatusNotFound, after, "no grant was made")
			return status, body + afterBody
		}},
		{name: "break the glass by a clerk", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("POST", security.PathBreakGlass, tok.clerk, `{"patient":"p2","reason":"curiosity about a neighbour"}`,
				"Content-Type", "application/json")
		}},
		{name: "billing type without reach to every patient", status: forbidden, send: func(s *authStack, tok tokens) (int, string) {
			return s.do("GET", "/fhir/Account", tok.nurse, "")
		}},
		{name: "token endpoint with a client secret", status: rejected, send: func(s *authStack, _ tokens) (int, string) {
			status, body := s.tokenResponse(map[string]string{"grant_type": "client_credentials", "scope": "system/*.rs",
				"client_id": "lab", "client_secret": "guess"})
			return status, body["error"].(string)
		}},
		{name: "unsupported grant type", status: []int{http.StatusBadRequest}, send: func(s *authStack, _ tokens) (int, string) {
			status, body := s.tokenResponse(map[string]string{"grant_type": "password", "username": "nurse", "password": "x"})
			return status, body["error"].(string)
		}},
		{name: "token URL with GET", status: []int{http.StatusMethodNotAllowed, http.StatusUnauthorized}, send: func(s *authStack, _ tokens) (int, string) {
			return s.do("GET", tokenURL, "", "")
		}},
	}, reachAndWriteAttacks()...)
}

func TestAttackCases(t *testing.T) {
	for _, backend := range storagetest.Backends() {
		t.Run(backend.Name, func(t *testing.T) {
			runAttacks(t, backend.Open(t))
		})
	}
}

func runAttacks(t *testing.T, db *storage.DB) {
	s := newAuthStack(t, db, security.MiddlewareConfig{})
	tok := tokens{
		nurse: s.userToken("nurse", "user/*.cruds "+security.ScopeBreakGlass, "user/*.cruds "+security.ScopeBreakGlass,
			"ward-3", security.RoleNurse),
		physician: s.userToken("physician", "user/*.cruds", "user/*.cruds", "ward-3", security.RolePhysician),
		clerk:     s.userToken("clerk", "user/*.cruds", "user/*.cruds", "", security.RoleClerk),
		device:    s.backendToken(s.addBackend("device", "system/Observation.c", security.RoleDevice), "system/Observation.c"),
		lab:       s.backendToken(s.addBackend("lab", "system/*.rs", security.RoleLabSystem), "system/*.rs"),
		exporter:  s.backendToken(s.addBackend("exporter", "system/*.rs", security.RoleAdmin), "system/*.rs"),
	}
	cases := attacks()
	require.GreaterOrEqual(t, len(cases), 40)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.t = t
			status, body := c.send(s, tok)
			assert.Contains(t, c.status, status, "status; body: %.300s", body)
			want := secrets
			if c.secrets != nil {
				want = c.secrets
			}
			// A search bundle's self link echoes the query, which is the
			// caller's own input.
			disclosed := withoutLinks(body)
			for _, secret := range want {
				assert.NotContains(t, disclosed, secret)
			}
			if c.after != nil {
				c.after(t, s)
			}
		})
	}
}

// withoutLinks returns a JSON body without its top-level "link" array.
func withoutLinks(body string) string {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return body
	}
	delete(doc, "link")
	out, err := json.Marshal(doc)
	if err != nil {
		return body
	}
	return string(out)
}

// TestAuthorizedAccess checks that the stack serves what the decisions
// allow, so the rejections above come from authorization and not from a
// broken setup.
func TestAuthorizedAccess(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	nurse := s.userToken("nurse", "user/*.cruds "+security.ScopeBreakGlass, "user/*.cruds "+security.ScopeBreakGlass,
		"ward-3", security.RoleNurse)

	status, body := s.do("GET", "/fhir/Observation/o1", nurse, "")
	require.Equal(t, http.StatusOK, status, body)
	event := s.access.last()
	assert.Equal(t, "read", event.Action)
	assert.Equal(t, "nurse", event.Subject)
	assert.Equal(t, []string{"p1"}, event.Patients, "the access log names the patient whose record was read")

	status, body = s.do("GET", "/fhir/Observation?_id=o3&_include=Observation:performer", nurse, "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"id":"o3"`, "o3 is in p1's compartment")
	assert.NotContains(t, body, "Hiddenname")

	status, body = s.do("GET", "/fhir/Patient/p2", nurse, "")
	require.Equal(t, http.StatusNotFound, status, body)
	missingStatus, missingBody := s.do("GET", "/fhir/Patient/p99", nurse, "")
	assert.Equal(t, missingStatus, status)
	assert.Equal(t, strings.ReplaceAll(missingBody, "p99", "p2"), body, "an invisible patient reads like a missing one")

	unscoped := s.userToken("nurse2", "user/*.cruds", "user/*.cruds", "ward-3", security.RoleNurse)
	status, body = s.do("POST", security.PathBreakGlass, unscoped,
		`{"patient":"p2","reason":"patient collapsed in the corridor","minutes":30}`, "Content-Type", "application/json")
	require.Equal(t, http.StatusForbidden, status, "a token without the %s scope: %s", security.ScopeBreakGlass, body)

	status, body = s.do("POST", security.PathBreakGlass, nurse,
		`{"patient":"p2","reason":"patient collapsed in the corridor","minutes":30}`, "Content-Type", "application/json")
	require.Equal(t, http.StatusCreated, status, body)
	var grant struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &grant))

	status, body = s.do("GET", "/fhir/Patient/p2", nurse, "")
	require.Equal(t, http.StatusOK, status, body)
	event = s.access.last()
	assert.Equal(t, []string{grant.ID}, event.BreakGlass, "the access through the grant is recorded with it")
	assert.Equal(t, []string{"p2"}, event.Patients)

	billingUser := s.userToken("biller", "user/*.rs", "user/*.rs", "", security.RoleBilling)
	status, body = s.do("GET", "/fhir/Account", billingUser, "")
	assert.Equal(t, http.StatusOK, status, "billing reaches every patient, so it uses the billing backend: %s", body)

	s.clock.Advance(31 * time.Minute)
	nurse = s.userToken("nurse", "user/*.cruds", "user/*.cruds", "ward-3", security.RoleNurse)
	status, _ = s.do("GET", "/fhir/Patient/p2", nurse, "")
	assert.Equal(t, http.StatusNotFound, status, "the grant has expired")

	status, body = s.do("POST", "/fhir/Observation", nurse, `{"resourceType":"Observation","status":"final",
		"code":{"text":"pulse"},"subject":{"reference":"Patient/p1"},"meta":{"versionId":"77","lastUpdated":"2001-01-01T00:00:00Z"}}`)
	require.Equal(t, http.StatusCreated, status, body)
	assert.Contains(t, body, `"versionId":"1"`, "meta.versionId is the server's")
	assert.NotContains(t, body, "2001-01-01", "meta.lastUpdated is the server's")
}

func TestRateLimitOnFHIR(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{PrincipalRate: 1, PrincipalBurst: 2})
	nurse := s.userToken("nurse", "user/*.rs", "user/*.rs", "ward-3", security.RoleNurse)
	var statuses []int
	for range 3 {
		status, _ := s.do("GET", "/fhir/Observation/o1", nurse, "")
		statuses = append(statuses, status)
	}
	assert.Equal(t, []int{200, 200, http.StatusTooManyRequests}, statuses)
	status, header, body := s.doHeader("GET", "/fhir/Observation/o1", nurse, "")
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "1", header.Get("Retry-After"))
	assert.Contains(t, body, "OperationOutcome")
}

// TestCareRelationsOncePerRequest checks that the decisions of one
// request, such as those of each bundle entry, share one care relation
// read.
func TestCareRelationsOncePerRequest(t *testing.T) {
	s := newAuthStack(t, storagetest.SQLite(t), security.MiddlewareConfig{})
	nurse := s.userToken("nurse-counted", "user/*.cruds", "user/*.cruds", "ward-3", security.RoleNurse)
	observation := `{"resource":{"resourceType":"Observation","status":"final","code":{"text":"pulse"},
		"subject":{"reference":"Patient/p1"}},"request":{"method":"POST","url":"Observation"}}`

	before := careReadsOf("nurse-counted")
	status, body := s.do("POST", "/fhir", nurse, `{"resourceType":"Bundle","type":"batch","entry":[`+
		observation+`,`+observation+`,`+observation+`,{"request":{"method":"GET","url":"Observation/o1"}}]}`)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, 4, strings.Count(body, `"status":"20`), body)
	assert.Equal(t, 1, careReadsOf("nurse-counted")-before, "one batch")

	before = careReadsOf("nurse-counted")
	status, body = s.do("GET", "/fhir/Observation?_id=o3&_include=Observation:performer", nurse, "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"id":"o3"`)
	assert.Equal(t, 1, careReadsOf("nurse-counted")-before, "one search with _include")
}

package security_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestCareRelationsReadOncePerRequest(t *testing.T) {
	var reads atomic.Int32
	care := security.CareRelationsFunc(func(_ context.Context, p *security.Principal) ([]string, error) {
		reads.Add(1)
		return []string{"p1"}, nil
	})
	f := newFixture(t, security.Config{CareRelations: care})
	c := f.addSystemClient(t, "ward-app", "system/*.rs", security.RolePhysician)
	requests := []security.Request{
		{Type: "Observation", Interaction: security.Read},
		{Type: "Condition", Interaction: security.Search},
		{Type: "Observation", Interaction: security.Read},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var firsts []string
		for _, req := range requests {
			d, err := f.svc.Decide(r.Context(), security.PrincipalFrom(r.Context()), req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			// A caller may change the Decision it gets, and the next
			// decision must not see the change.
			firsts = append(firsts, d.Patients[0])
			d.Patients[0] = "changed"
		}
		_ = json.NewEncoder(w).Encode(firsts)
	})
	srv := httptest.NewServer(f.svc.Middleware(security.MiddlewareConfig{FHIRPrefix: "/fhir"}, handler))
	defer srv.Close()
	token := f.systemToken(t, c, "system/*.rs")

	resp := get(t, srv.URL+"/fhir/Observation", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int32(1), reads.Load(), "three decisions of one request")
	var firsts []string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&firsts))
	assert.Equal(t, []string{"p1", "p1", "p1"}, firsts)

	resp = get(t, srv.URL+"/fhir/Observation", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, int32(2), reads.Load(), "a second request reads again")

	p := &security.Principal{Subject: "ward-app", Kind: security.KindSystem, Roles: []security.Role{security.RolePhysician},
		Scopes: security.ParseScopes("system/*.rs").Resource}
	for range 2 {
		_, err := f.svc.Decide(f.ctx, p, requests[0])
		require.NoError(t, err)
	}
	assert.Equal(t, int32(4), reads.Load(), "decisions outside Middleware read each time")
}

package security_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestLaunchPatientMustBeReachable(t *testing.T) {
	f := newFixture(t, security.Config{CareRelations: wardRelations, Patients: knownPatients})
	srv := stack(f, security.MiddlewareConfig{})
	defer srv.Close()
	redirect := "https://app.example/cb"
	require.NoError(t, f.svc.AddClient(f.ctx, security.Client{ID: "chart", Kind: security.ClientApp,
		RedirectURIs: []string{redirect}, Scopes: "patient/*.rs launch/patient"}))
	for _, u := range []security.AddUserParams{
		{Username: "nurse1", Roles: []security.Role{security.RoleNurse}, Location: "ward-3"},
		{Username: "clerk1", Roles: []security.Role{security.RoleClerk}},
	} {
		u.Password = "a long enough password"
		_, err := f.svc.AddUser(f.ctx, u)
		require.NoError(t, err)
	}
	_, challenge := pkce()
	params := url.Values{"response_type": {"code"}, "client_id": {"chart"}, "redirect_uri": {redirect},
		"scope": {"patient/*.rs launch/patient"}, "state": {"s1"}, "aud": {issuer + "/fhir"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	b := newBrowser(t, srv.URL)
	submit := func(username, patient string) (int, string) {
		b.openForm(t, params)
		resp := b.submit(t, params, url.Values{"username": {username}, "password": {"a long enough password"},
			"patient": {patient}})
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}

	cases := []struct {
		name     string
		username string
		patient  string
		status   int
	}{
		{"nurse picks a patient in care", "nurse1", "p1", http.StatusFound},
		{"nurse picks a patient of another ward", "nurse1", "p9", http.StatusForbidden},
		{"nurse picks an unknown patient", "nurse1", "p404", http.StatusForbidden},
		{"clerk picks any known patient", "clerk1", "p9", http.StatusFound},
		{"clerk picks an unknown patient", "clerk1", "p404", http.StatusForbidden},
	}
	var rejected []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := submit(c.username, c.patient)
			assert.Equal(t, c.status, status, body)
			if status == http.StatusForbidden {
				assert.Contains(t, body, "not one of your patients", "the form says why")
				rejected = append(rejected, body)
			}
		})
	}
	require.Len(t, rejected, 3)
	assert.Equal(t, rejected[0], rejected[1], "an unreachable and an unknown patient get the same form")

	_, err := f.svc.Authorize(f.ctx, security.AuthorizeParams{ClientID: "chart", RedirectURI: redirect,
		Scope: "patient/*.rs launch/patient", State: "s", Audience: issuer + "/fhir", CodeChallenge: challenge,
		CodeChallengeMethod: "S256", Username: "nurse1", Password: "a long enough password", Patient: "p9"})
	assert.ErrorIs(t, err, security.ErrLaunchPatient)
	assert.ErrorIs(t, err, security.ErrForbidden)
}

package security_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security"
)

func TestParseScopeValid(t *testing.T) {
	tests := []struct {
		name, raw, context, typ, letters string
	}{
		{name: "v2 read search", raw: "patient/Observation.rs", context: "patient", typ: "Observation", letters: "rs"},
		{name: "v2 all letters", raw: "user/*.cruds", context: "user", typ: "*", letters: "cruds"},
		{name: "v2 create only", raw: "system/Observation.c", context: "system", typ: "Observation", letters: "c"},
		{name: "v1 read", raw: "patient/*.read", context: "patient", typ: "*", letters: "rs"},
		{name: "v1 write has no read", raw: "user/Patient.write", context: "user", typ: "Patient", letters: "cud"},
		{name: "v1 star", raw: "system/*.*", context: "system", typ: "*", letters: "cruds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := security.ParseScope(tt.raw)
			require.NoError(t, err)
			assert.Equal(t, tt.context, s.Context)
			assert.Equal(t, tt.typ, s.Type)
			assert.Equal(t, tt.letters, s.Interactions)
		})
	}
}

func TestParseScopeQuery(t *testing.T) {
	s, err := security.ParseScope("patient/Observation.rs?category=laboratory")
	require.NoError(t, err)
	assert.Equal(t, "laboratory", s.Query.Get("category"))
	assert.Equal(t, "patient/Observation.rs?category=laboratory", s.String())
}

func TestParseScopeMalformed(t *testing.T) {
	for _, raw := range []string{
		"", "patient", "patient/", "patient/Observation", "patient/Observation.", "admin/*.read",
		"patient/Observation.sr", "patient/Observation.rr", "patient/Observation.x", "patient/observation.rs",
		"patient/Obs-ervation.rs", "Patient/Observation.rs", "patient/Observation.read?category=lab",
		"patient/Observation.rs?", "patient/*.cruds ", "patient/../Observation.rs", "system/*.readwrite",
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := security.ParseScope(raw)
			assert.ErrorIs(t, err, security.ErrInvalid)
		})
	}
}

func TestParseScopesSplitsKinds(t *testing.T) {
	p := security.ParseScopes("openid fhirUser launch/patient patient/*.rs bogus patient/Observation.wr")
	require.Len(t, p.Resource, 1)
	assert.Equal(t, "patient/*.rs", p.Resource[0].String())
	assert.Equal(t, []string{"openid", "fhirUser", "launch/patient"}, p.Launch)
	assert.Equal(t, []string{"bogus", "patient/Observation.wr"}, p.Rejected)
	assert.True(t, p.HasLaunch("launch/patient"))
}

func TestScopeWriteNeverImpliesRead(t *testing.T) {
	s, err := security.ParseScope("user/Observation.write")
	require.NoError(t, err)
	assert.True(t, s.Allows("Observation", security.Create))
	assert.True(t, s.Allows("Observation", security.Update))
	assert.False(t, s.Allows("Observation", security.Read))
	assert.False(t, s.Allows("Observation", security.Search))
	assert.False(t, s.Allows("Patient", security.Create), "another type")
}

func TestNarrowScopes(t *testing.T) {
	parse := func(raw string) []security.Scope { return security.ParseScopes(raw).Resource }
	got := security.NarrowScopes(parse("system/Patient.cruds system/Observation.rs user/*.rs system/Encounter.d"),
		parse("system/*.rs system/Observation.c"))
	require.Len(t, got, 2)
	assert.Equal(t, "system/Patient.rs", got[0].String())
	assert.Equal(t, "system/Observation.rs", got[1].String())
}

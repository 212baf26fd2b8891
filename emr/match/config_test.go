package match

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	assert.Equal(t, DefaultConfig(), Config{}.WithDefaults())

	custom := Config{Threshold: 0.8, Sex: FieldModel{Mismatch: Level{M: 0.05, U: 0.5}}}.WithDefaults()
	assert.Equal(t, 0.8, custom.Threshold)
	assert.Equal(t, Level{M: 0.05, U: 0.5}, custom.Sex.Mismatch)
	assert.Equal(t, DefaultConfig().Sex.Exact, custom.Sex.Exact)
	assert.Equal(t, DefaultMidpoint, custom.Midpoint)
}

func TestConfigValidateDefaults(t *testing.T) {
	t.Parallel()
	require.NoError(t, DefaultConfig().Validate())
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(c *Config)
		message string
	}{
		{
			name:    "probability above one",
			edit:    func(c *Config) { c.FamilyName.Exact.M = 1.5 },
			message: "FamilyName.Exact.M is 1.5",
		},
		{
			name:    "zero probability",
			edit:    func(c *Config) { c.BirthDate.Transposed.U = 0 },
			message: "BirthDate.Transposed.U is 0",
		},
		{
			name:    "outcome the field does not use",
			edit:    func(c *Config) { c.Sex.Typo = Level{M: 0.1, U: 0.1} },
			message: "Sex.Typo is set, but Sex has no typo outcome",
		},
		{
			name:    "name swap",
			edit:    func(c *Config) { c.NameSwap.M = -1 },
			message: "NameSwap.M is -1",
		},
		{
			name:    "threshold of one",
			edit:    func(c *Config) { c.Threshold = 1 },
			message: "Threshold is 1",
		},
		{
			name:    "infinite midpoint",
			edit:    func(c *Config) { c.Midpoint = math.Inf(1) },
			message: "Midpoint is +Inf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.message)
		})
	}
}

func TestCompareUsesConfig(t *testing.T) {
	t.Parallel()
	a := Person{Sex: "male"}
	b := Person{Sex: "female"}
	neutral := Config{Sex: FieldModel{Mismatch: Level{M: 0.5, U: 0.5}}}

	require.Len(t, Compare(a, b, neutral).Fields, 1)
	assert.Zero(t, Compare(a, b, neutral).Weight)
	assert.Less(t, Compare(a, b, Config{}).Weight, 0.0)
}

func TestCompareIgnoreSystems(t *testing.T) {
	t.Parallel()
	const mrn = "urn:nexus:mrn"
	a := Person{Identifiers: []Identifier{{System: mrn, Value: "A1"}}}
	b := Person{Identifiers: []Identifier{{System: mrn, Value: "B2"}}}

	assert.Len(t, Compare(a, b, Config{}).Fields, 1)
	assert.Empty(t, Compare(a, b, Config{IgnoreSystems: []string{mrn}}).Fields)
}

package fhirpath_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
)

func TestNodeLocation(t *testing.T) {
	resource := decode(t, `{"resourceType":"Observation","status":"final",
		"valueQuantity":{"value":1},"component":[{"code":{"text":"a"}},{"code":{"text":"b"}}]}`)
	components := resource["component"].([]any)

	tests := []struct {
		name   string
		expr   string
		parent map[string]any
		key    string
		index  int
	}{
		{name: "single member", expr: "Observation.status", parent: resource, key: "status", index: -1},
		{name: "choice member", expr: "Observation.value", parent: resource, key: "valueQuantity", index: -1},
		{name: "array item", expr: "Observation.component[1]", parent: resource, key: "component", index: 1},
		{name: "through where", expr: "Observation.component.where(code.text = 'b').code", parent: components[1].(map[string]any), key: "code", index: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes, err := fhirpath.MustCompile(tt.expr).Evaluate(resource)
			require.NoError(t, err)
			require.Len(t, nodes, 1)
			assert.Equal(t, tt.parent, nodes[0].Parent)
			assert.Equal(t, tt.key, nodes[0].Key)
			assert.Equal(t, tt.index, nodes[0].Index)
		})
	}

	literal, err := fhirpath.MustCompile("'x'").Evaluate(resource)
	require.NoError(t, err)
	assert.Nil(t, literal[0].Parent, "a literal has no location")
}

package emr_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nexus-health-360/nexus/emr"
)

func TestCloneTreeLeavesOriginal(t *testing.T) {
	original := map[string]any{
		"resourceType": "Patient",
		"name":         []any{map[string]any{"family": "Chalmers"}},
		"meta":         map[string]any{"versionId": "1"},
	}
	clone := emr.CloneTree(original)
	clone["name"].([]any)[0].(map[string]any)["family"] = "Windsor"
	clone["meta"].(map[string]any)["versionId"] = "2"
	clone["active"] = true

	assert.Equal(t, "Chalmers", original["name"].([]any)[0].(map[string]any)["family"])
	assert.Equal(t, "1", original["meta"].(map[string]any)["versionId"])
	assert.NotContains(t, original, "active")
}

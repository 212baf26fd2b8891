package searchparam_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// TestExtractDedupesLongLists covers lists longer than the pairwise scan,
// which go through a set: each value is kept once, in first-seen order.
func TestExtractDedupesLongLists(t *testing.T) {
	t.Parallel()
	var items []string
	for range 2 {
		for i := range 40 {
			items = append(items, fmt.Sprintf(`{"system":"urn:x","value":"v%d"}`, i))
		}
	}
	body := `{"resourceType":"Patient","identifier":[` + strings.Join(items, ",") + `]}`
	var tree map[string]any
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&tree))
	entries, err := searchparam.R4().Extract("Patient", tree)
	require.NoError(t, err)
	var codes []string
	for _, e := range entries {
		if e.Param == "identifier" {
			codes = append(codes, e.Code)
		}
	}
	require.Len(t, codes, 40)
	for i, code := range codes {
		assert.Equal(t, fmt.Sprintf("v%d", i), code)
	}
}

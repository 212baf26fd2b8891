package fhir

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
)

func TestOutcomeForbidden(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("update Observation/o1: patient outside the caller's access: %w", emr.ErrForbidden)
	assert.Equal(t, http.StatusForbidden, statusOf(err))
	outcome := outcomeOf(err, -1, "req-1")
	require.Len(t, outcome.Issue, 1)
	assert.Equal(t, "forbidden", outcome.Issue[0].Code)
	assert.Equal(t, "error", outcome.Issue[0].Severity)
}

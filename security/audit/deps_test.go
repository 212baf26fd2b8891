package audit_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/internal/depcheck"
)

// The audit log reads domain events through its own EventSource, so it
// imports no domain, no interop layer and no daemon code.
func TestImportsNoDomain(t *testing.T) {
	folders := append(append([]string{}, depcheck.Domains...), "interop", "cmd")
	for _, pkg := range []string{".", "./sqlstore", "./audittest"} {
		depcheck.Forbid(t, pkg, folders...)
	}
}

package security_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/internal/depcheck"
)

// The security layer decides on its own types: it imports no domain, no
// interop layer and no daemon code, so interop and cmd/nexusd can enforce
// it without a cycle.
func TestImportsNoDomain(t *testing.T) {
	folders := append(append([]string{}, depcheck.Domains...), "interop", "cmd")
	for _, pkg := range []string{".", "./sqlstore", "./securitytest"} {
		depcheck.Forbid(t, pkg, folders...)
	}
}

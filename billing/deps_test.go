package billing_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/internal/depcheck"
)

// Billing is importable on its own: no other domain, no interop layer,
// no security layer and no daemon code.
func TestImportsNoOtherDomain(t *testing.T) {
	folders := append(depcheck.OtherDomains("billing"), "interop", "cmd", "nexusd", "security")
	depcheck.Forbid(t, "./...", folders...)
}

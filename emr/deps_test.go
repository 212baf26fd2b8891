package emr_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/internal/depcheck"
)

// The clinical record is importable on its own: no other domain, no
// interop layer and no daemon code.
func TestImportsNoOtherDomain(t *testing.T) {
	folders := append(depcheck.OtherDomains("emr"), "interop", "cmd", "security")
	depcheck.Forbid(t, "./...", folders...)
}

// Package depcheck tests that a package does not import the domains it
// must stay independent of.
package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is the module path of Nexus.
const Module = "github.com/nexus-health-360/nexus"

// Domains lists the domain packages, which never import one another.
var Domains = []string{"emr", "scheduling", "billing", "beds", "staffing", "forecast"}

// Forbid fails t when pkg (a pattern such as "./emr/...", run from the
// calling package's folder) depends on any of the module's packages
// under the given top-level folders.
func Forbid(t *testing.T, pkg string, folders ...string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range folders {
			prefix := Module + "/" + f
			if dep == prefix || strings.HasPrefix(dep, prefix+"/") {
				t.Errorf("%s depends on %s, which it must not import", pkg, dep)
			}
		}
	}
}

// OtherDomains returns Domains without own.
func OtherDomains(own string) []string {
	var out []string
	for _, d := range Domains {
		if d != own {
			out = append(out, d)
		}
	}
	return out
}

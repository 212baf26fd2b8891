package mllp_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The transport depends on the standard library only, and on no other
// Nexus package, the HL7 v2 parser included, so that it builds and is
// tested on its own.
func TestImportsStandardLibraryOnly(t *testing.T) {
	t.Parallel()
	const self = "github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	require.NoError(t, err)
	assert.Equal(t, []string{self}, strings.Fields(string(out)))
}

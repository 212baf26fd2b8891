package security_test

import (
	"testing"

	"github.com/nexus-health-360/nexus/security"
)

// BenchmarkIssueToken measures client_credentials grants end to end:
// assertion check, jti insert on SQLite and ES256 signing.
func BenchmarkIssueToken(b *testing.B) {
	f := newFixture(b, security.Config{})
	c := f.addSystemClient(b, "lab", "system/*.rs", security.RoleLabSystem)
	assertions := make([]string, b.N)
	for i := range assertions {
		assertions[i] = c.assertion(b, f, nil)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.svc.ClientCredentials(f.ctx, security.AssertionType, assertions[i], "system/*.rs"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateToken measures the check of every API request: ES256
// verification and claim checks with the signing keys cached.
func BenchmarkValidateToken(b *testing.B) {
	f := newFixture(b, security.Config{})
	c := f.addSystemClient(b, "lab", "system/*.rs", security.RoleLabSystem)
	tok := f.systemToken(b, c, "system/*.rs")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.svc.ValidateToken(f.ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

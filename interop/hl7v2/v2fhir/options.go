package v2fhir

import (
	"net/url"
	"strings"
	"time"
)

// DefaultAuthorityPrefix starts the identifier system that the default
// Options.IdentifierSystem gives an assigning authority that is not an OID
// or a UUID.
const DefaultAuthorityPrefix = "urn:nexus-health-360:hl7v2:aa:"

// Options configures Convert. The zero value works: times without an offset
// then take MSH-7's offset, and identifier systems come from
// DefaultIdentifierSystem.
type Options struct {
	// DefaultZone completes a time of day sent without an offset. When nil,
	// the offset of MSH-7 is used, and a message whose MSH-7 has no offset
	// either fails with a located error.
	DefaultZone *time.Location
	// IdentifierSystem maps an assigning authority (the namespace id of
	// CX-4, XCN-9 or EI-2, else its universal id) to an identifier system
	// URI. It is used for PID-3, MRG-1, PV1-19, practitioner ids and order
	// numbers. Nil means DefaultIdentifierSystem.
	IdentifierSystem func(assigningAuthority string) string
	// Clock gives Plan.Received when MSH-7 has no time of day. Nil means
	// time.Now.
	Clock func() time.Time
}

func (o Options) now() time.Time {
	if o.Clock != nil {
		return o.Clock()
	}
	return time.Now()
}

// DefaultIdentifierSystem returns "urn:oid:" plus the authority when it is
// an OID, and DefaultAuthorityPrefix plus the percent-encoded authority
// otherwise.
func DefaultIdentifierSystem(authority string) string {
	if isOID(authority) {
		return "urn:oid:" + authority
	}
	return DefaultAuthorityPrefix + url.PathEscape(authority)
}

// isOID reports whether s looks like an ISO object identifier such as
// 2.16.840.1.113883.19.
func isOID(s string) bool {
	if s == "" || !strings.Contains(s, ".") {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return true
}

func (o Options) identifierSystem(authority string) string {
	if o.IdentifierSystem != nil {
		return o.IdentifierSystem(authority)
	}
	return DefaultIdentifierSystem(authority)
}

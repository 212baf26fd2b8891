package fhir

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/nexus-health-360/nexus/emr"
)

// bundle is the FHIR Bundle resource as this package writes it. Entries
// carry stored bodies as json.RawMessage, which encodeJSON copies unchanged.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp,omitempty"`
	Total        *int          `json:"total,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status       string            `json:"status"`
	Location     string            `json:"location,omitempty"`
	Etag         string            `json:"etag,omitempty"`
	LastModified string            `json:"lastModified,omitempty"`
	Outcome      *operationOutcome `json:"outcome,omitempty"`
}

func newBundle(typ string) *bundle {
	return &bundle{ResourceType: "Bundle", Type: typ}
}

// fullURL returns the absolute URL of a resource on this server.
func (x *exchange) fullURL(res *emr.Resource) string {
	return x.base + "/" + res.Type + "/" + res.ID
}

// link returns an absolute URL of path below the base with query, which
// may be nil.
func (x *exchange) link(path string, query url.Values) string {
	u := x.base + path
	if encoded := query.Encode(); encoded != "" {
		u += "?" + encoded
	}
	return u
}

// statusLine returns an HTTP status as Bundle.entry.response.status writes
// it, such as "201 Created".
func statusLine(status int) string {
	return fmt.Sprintf("%d %s", status, http.StatusText(status))
}

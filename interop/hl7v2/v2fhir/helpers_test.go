package v2fhir_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

var _ v2fhir.Target = (*emr.Service)(nil)

// message joins segments with CR terminators.
func message(segments ...string) string {
	return strings.Join(segments, "\r") + "\r"
}

func parse(t *testing.T, text string) *hl7v2.Message {
	t.Helper()
	msg, err := hl7v2.Parse([]byte(text), hl7v2.ParseOptions{Lenient: true})
	require.NoError(t, err)
	return msg
}

func convert(t *testing.T, text string, opts v2fhir.Options) *v2fhir.Plan {
	t.Helper()
	plan, err := v2fhir.Convert(parse(t, text), opts)
	require.NoError(t, err)
	return plan
}

// resources returns the resources of the plan's bundle of type typ.
func resources(t *testing.T, plan *v2fhir.Plan, typ string) []map[string]any {
	t.Helper()
	var bundle struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	dec := json.NewDecoder(strings.NewReader(string(plan.Bundle)))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&bundle))
	var out []map[string]any
	for _, e := range bundle.Entry {
		if e.Resource["resourceType"] == typ {
			out = append(out, e.Resource)
		}
	}
	return out
}

func resource(t *testing.T, plan *v2fhir.Plan, typ string) map[string]any {
	t.Helper()
	list := resources(t, plan, typ)
	require.Len(t, list, 1, "resources of type %s", typ)
	return list[0]
}

// newService returns a clinical record on a fresh SQLite database.
func newService(t *testing.T) *emr.Service {
	t.Helper()
	return serviceOn(t, storagetest.SQLite(t))
}

// serviceOn applies the clinical record migrations to db and returns a
// service on it.
func serviceOn(t *testing.T, db *storage.DB) *emr.Service {
	t.Helper()
	require.NoError(t, db.Migrate(context.Background(), sqlstore.Migrations()))
	svc, err := emr.NewService(sqlstore.New(db), emr.Config{})
	require.NoError(t, err)
	return svc
}

// applyText converts and applies a message.
func applyText(t *testing.T, svc *emr.Service, text string, opts v2fhir.Options) *v2fhir.Result {
	t.Helper()
	plan := convert(t, text, opts)
	res, err := v2fhir.Apply(context.Background(), svc, plan)
	require.NoError(t, err)
	return res
}

// search returns the current resources of type typ matching query.
func search(t *testing.T, svc *emr.Service, typ, query string) []emr.Resource {
	t.Helper()
	params, err := url.ParseQuery(query)
	require.NoError(t, err)
	page, err := svc.Search(context.Background(), typ, params)
	require.NoError(t, err)
	return page.Resources
}

func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var out map[string]any
	require.NoError(t, dec.Decode(&out))
	return out
}

// versions returns the number of versions of one resource.
func versions(t *testing.T, svc *emr.Service, typ, id string) int {
	t.Helper()
	page, err := svc.History(context.Background(), emr.HistoryQuery{Type: typ, ID: id})
	require.NoError(t, err)
	return len(page.Versions)
}

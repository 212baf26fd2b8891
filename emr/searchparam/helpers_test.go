package searchparam_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

const bundlePath = "testdata/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json"

func decodeJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out map[string]any
	require.NoError(t, dec.Decode(&out))
	return out
}

// loadBundle returns the resources of the Synthea test bundle. When rewrite
// is set, it replaces each "urn:uuid:" reference to a bundle entry with the
// relative reference Type/id, as a FHIR server does when it stores a
// transaction.
func loadBundle(t testing.TB, rewrite bool) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(bundlePath)
	require.NoError(t, err)
	bundle := decodeJSON(t, data)
	entries, ok := bundle["entry"].([]any)
	require.True(t, ok, "bundle has no entry list")
	targets := make(map[string]string)
	resources := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		entry := e.(map[string]any)
		resource := entry["resource"].(map[string]any)
		resources = append(resources, resource)
		fullURL, _ := entry["fullUrl"].(string)
		targets[fullURL] = resource["resourceType"].(string) + "/" + resource["id"].(string)
	}
	if rewrite {
		for _, r := range resources {
			rewriteReferences(r, targets)
		}
	}
	return resources
}

func rewriteReferences(v any, targets map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for key, child := range v {
			if ref, ok := child.(string); ok && key == "reference" && strings.HasPrefix(ref, "urn:uuid:") {
				if target, found := targets[ref]; found {
					v[key] = target
				}
				continue
			}
			rewriteReferences(child, targets)
		}
	case []any:
		for _, child := range v {
			rewriteReferences(child, targets)
		}
	}
}

// findResource returns the resource of the given type and id.
func findResource(t testing.TB, resources []map[string]any, resourceType, id string) map[string]any {
	t.Helper()
	for _, r := range resources {
		if r["resourceType"] == resourceType && r["id"] == id {
			return r
		}
	}
	require.FailNow(t, "resource not in bundle", "%s/%s", resourceType, id)
	return nil
}

// entriesOf returns the entries of one parameter.
func entriesOf(entries []searchparam.Entry, param string) []searchparam.Entry {
	var out []searchparam.Entry
	for _, e := range entries {
		if e.Param == param {
			out = append(out, e)
		}
	}
	return out
}

func micros(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func strEntry(param, exact string) searchparam.Entry {
	return searchparam.Entry{Param: param, Type: searchparam.TypeString,
		Text: searchparam.FoldString(exact), Exact: exact}
}

func tokenEntry(param, system, code, display string) searchparam.Entry {
	e := searchparam.Entry{Param: param, Type: searchparam.TypeToken, System: system, Code: code}
	if display != "" {
		e.Text = searchparam.FoldString(display)
	}
	return e
}

// identifierEntry is the entry of an Identifier value.
func identifierEntry(param, system, value string) searchparam.Entry {
	e := tokenEntry(param, system, value, "")
	e.Identifier = true
	return e
}

func textEntry(param, text string) searchparam.Entry {
	return searchparam.Entry{Param: param, Type: searchparam.TypeToken, Text: searchparam.FoldString(text)}
}

// dateEntry takes RFC 3339 instants in UTC for the half-open range.
func dateEntry(param, lo, hi string) searchparam.Entry {
	return searchparam.Entry{Param: param, Type: searchparam.TypeDate, DateLo: micros(lo), DateHi: micros(hi)}
}

func refEntry(param, resourceType, id string) searchparam.Entry {
	return searchparam.Entry{Param: param, Type: searchparam.TypeReference,
		Exact: resourceType + "/" + id, RefType: resourceType, RefID: id}
}

package emr

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ValidID reports whether id is a valid FHIR R4 id: 1 to 64 ASCII letters,
// digits, '-' or '.'.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// CloneTree copies a decoded JSON object and every object and array inside
// it, so that changes to the copy leave the original as it was. Other values
// (strings, numbers, booleans) are shared, which is safe because they are
// immutable.
func CloneTree(tree map[string]any) map[string]any {
	return CloneValue(tree).(map[string]any)
}

// CloneValue copies a decoded JSON value the way CloneTree does.
func CloneValue(v any) any {
	switch n := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, c := range n {
			out[k] = CloneValue(c)
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, c := range n {
			out[i] = CloneValue(c)
		}
		return out
	}
	return v
}

// decodeJSON decodes one JSON object keeping numbers as json.Number, so
// decimals keep their lexical form (140.0 stays 140.0).
func decodeJSON(data []byte) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, malformed("", "resource is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, malformed("", "invalid JSON at byte offset %d", syn.Offset)
		}
		return nil, malformed("", "invalid JSON: the body must be one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("", "invalid JSON: text after the end of the object")
	}
	if tree == nil {
		return nil, malformed("", "invalid JSON: the body must be one JSON object")
	}
	if err := checkJSON(data, tree); err != nil {
		return nil, err
	}
	return tree, nil
}

// marshal encodes v without HTML escaping.
func marshal(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
	return nil
}

// encoded is a resource encoded apart from the server-set meta fields, so
// the final body can be assembled once the version is known.
type encoded struct {
	// head is `{"resourceType":...,"id":...` and every other member
	// except meta, in a stable order.
	head []byte
	// meta holds the client's meta members apart from versionId and
	// lastUpdated.
	meta map[string]any
	hash string
}

// encodeResource encodes tree, which must carry resourceType and id, and
// computes the content hash over everything but meta.versionId and
// meta.lastUpdated.
func encodeResource(tree map[string]any) (*encoded, error) {
	keys := make([]string, 0, len(tree))
	for k := range tree {
		if k != "resourceType" && k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.Grow(1024)
	buf.WriteString(`{"resourceType":`)
	if err := marshal(&buf, tree["resourceType"]); err != nil {
		return nil, err
	}
	buf.WriteString(`,"id":`)
	if err := marshal(&buf, tree["id"]); err != nil {
		return nil, err
	}
	for _, k := range keys {
		buf.WriteByte(',')
		if err := marshal(&buf, k); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := marshal(&buf, tree[k]); err != nil {
			return nil, fmt.Errorf("encode %s: %w", k, err)
		}
	}
	e := &encoded{head: buf.Bytes()}
	h := sha256.New()
	h.Write(e.head)
	if m, ok := tree["meta"].(map[string]any); ok {
		meta := make(map[string]any, len(m))
		for k, v := range m {
			if k != "versionId" && k != "lastUpdated" && k != "_versionId" && k != "_lastUpdated" {
				meta[k] = v
			}
		}
		if len(meta) > 0 {
			e.meta = meta
			var mb bytes.Buffer
			if err := marshal(&mb, meta); err != nil {
				return nil, err
			}
			h.Write([]byte(`,"meta":`))
			h.Write(mb.Bytes())
		}
	}
	e.hash = hex.EncodeToString(h.Sum(nil))
	return e, nil
}

// body assembles the stored JSON with the server's version and time.
func (e *encoded) body(version int64, at time.Time) []byte {
	meta := make(map[string]any, len(e.meta)+2)
	for k, v := range e.meta {
		meta[k] = v
	}
	meta["versionId"] = strconv.FormatInt(version, 10)
	meta["lastUpdated"] = formatInstant(at)
	var buf bytes.Buffer
	buf.Grow(len(e.head) + 128)
	buf.Write(e.head)
	buf.WriteString(`,"meta":`)
	if err := marshal(&buf, meta); err != nil {
		// The same values encoded without error in encodeResource.
		panic(err)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// formatInstant writes a FHIR instant in UTC with millisecond precision.
func formatInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// rewriteReferences replaces every Reference.reference found in mapping and
// returns the references it could not resolve that look like bundle-local
// ones (urn:uuid: and urn:oid:).
func rewriteReferences(v any, mapping map[string]string, unresolved *[]string) {
	switch n := v.(type) {
	case map[string]any:
		for k, child := range n {
			if k == "reference" {
				if s, ok := child.(string); ok {
					if to, ok := mapping[s]; ok {
						n[k] = to
					} else if strings.HasPrefix(s, "urn:uuid:") || strings.HasPrefix(s, "urn:oid:") {
						*unresolved = append(*unresolved, s)
					}
					continue
				}
			}
			rewriteReferences(child, mapping, unresolved)
		}
	case []any:
		for _, child := range n {
			rewriteReferences(child, mapping, unresolved)
		}
	}
}

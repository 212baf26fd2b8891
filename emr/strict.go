package emr

import (
	"strconv"

	"golang.org/x/text/unicode/norm"
)

// checkJSON enforces the FHIR JSON rules that encoding/json and the
// validator let pass, and puts every string in Unicode NFC. FHIR R4 JSON
// has no null values (except as placeholders in a primitive array that
// has a matching array of extensions), no empty objects, arrays or
// strings, and no repeated member names.
func checkJSON(data []byte, tree map[string]any) error {
	if hasLoneSurrogate(data) {
		return malformed("", "invalid JSON: a \\u escape encodes half of a UTF-16 surrogate pair")
	}
	if duplicateMember(data) {
		return malformed("", "invalid JSON: an object has the same member name twice")
	}
	rt, _ := tree["resourceType"].(string)
	if !elementName.MatchString(rt) {
		rt = "Resource"
	}
	return checkObject(tree, rt)
}

func checkObject(obj map[string]any, path string) error {
	if len(obj) == 0 {
		return invalid(path, "structure", "empty objects are not allowed")
	}
	for key, v := range obj {
		p := path + "." + key
		if !elementName.MatchString(key) {
			p = path
		}
		switch val := v.(type) {
		case nil:
			return invalid(p, "structure", "null is not allowed")
		case []any:
			if len(val) == 0 {
				return invalid(p, "structure", "empty arrays are not allowed")
			}
			nullsAllowed := hasSiblingArray(obj, key)
			allNull := true
			for i, item := range val {
				ip := p + "[" + strconv.Itoa(i) + "]"
				if item == nil {
					if !nullsAllowed {
						return invalid(ip, "structure", "null is not allowed")
					}
					continue
				}
				allNull = false
				if err := checkValue(item, ip, val, i); err != nil {
					return err
				}
			}
			if allNull {
				return invalid(p, "structure", "an array of only nulls is not allowed")
			}
		default:
			if s, ok := v.(string); ok && key != "div" && looksLikeMarkup(s) {
				return invalid(p, "value", "the text contains what looks like HTML markup, which is allowed only in the narrative (text.div)")
			}
			if err := checkValue(v, p, nil, 0); err != nil {
				return err
			}
			if s, ok := v.(string); ok && !norm.NFC.IsNormalString(s) {
				obj[key] = norm.NFC.String(s)
			}
		}
	}
	return nil
}

// checkValue checks one non-null value; list and index locate it when it
// is an array element, so a string can be normalised in place.
func checkValue(v any, path string, list []any, index int) error {
	switch val := v.(type) {
	case map[string]any:
		return checkObject(val, path)
	case []any:
		return invalid(path, "structure", "arrays of arrays are not allowed")
	case string:
		if val == "" {
			return invalid(path, "value", "empty strings are not allowed")
		}
		if list != nil && !norm.NFC.IsNormalString(val) {
			list[index] = norm.NFC.String(val)
		}
	}
	return nil
}

// looksLikeMarkup reports whether s has a "<" directly followed by a letter,
// "/", "!" or "?", the start of an HTML or XML tag. FHIR allows markup only
// in Narrative.div, and markup elsewhere is how script injection reaches
// the applications that show the record.
func looksLikeMarkup(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		c := s[i+1]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' || c == '!' || c == '?' {
			return true
		}
	}
	return false
}

// hasSiblingArray reports whether key has a primitive extension partner
// (given and _given) that is an array, which makes null placeholders legal.
func hasSiblingArray(obj map[string]any, key string) bool {
	partner := "_" + key
	if key[0] == '_' {
		partner = key[1:]
	}
	_, ok := obj[partner].([]any)
	return ok
}

// hasLoneSurrogate reports whether a JSON text has a \u escape of a UTF-16
// surrogate that is not part of a pair. encoding/json would replace it
// with U+FFFD, silently changing the data.
func hasLoneSurrogate(data []byte) bool {
	for i := 0; i+5 < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if data[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		v, ok := hexValue(data[i+2 : i+6])
		if !ok {
			continue
		}
		switch {
		case v >= 0xD800 && v <= 0xDBFF:
			if i+11 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if lo, ok := hexValue(data[i+8 : i+12]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 11
					continue
				}
			}
			return true
		case v >= 0xDC00 && v <= 0xDFFF:
			return true
		}
		i += 5
	}
	return false
}

func hexValue(b []byte) (int, bool) {
	n, err := strconv.ParseUint(string(b), 16, 16)
	return int(n), err == nil
}

// duplicateMember reports whether an object in a JSON text has the same
// member name twice. It expects text that encoding/json already accepted
// and compares names as written, before escapes are decoded.
func duplicateMember(data []byte) bool {
	type frame struct {
		object    bool
		expectKey bool
		start     int // index of the first name of this object in names
	}
	var stack []frame
	var names []string
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{':
			stack = append(stack, frame{object: true, expectKey: true, start: len(names)})
		case '[':
			stack = append(stack, frame{start: len(names)})
		case '}', ']':
			if len(stack) == 0 {
				return false
			}
			names = names[:stack[len(stack)-1].start]
			stack = stack[:len(stack)-1]
		case ',':
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].expectKey = true
			}
		case '"':
			j := i + 1
			for j < len(data) && data[j] != '"' {
				if data[j] == '\\' {
					j++
				}
				j++
			}
			if len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].expectKey {
				top := &stack[len(stack)-1]
				name := string(data[i+1 : min(j, len(data))])
				for _, seen := range names[top.start:] {
					if seen == name {
						return true
					}
				}
				names = append(names, name)
				top.expectKey = false
			}
			i = j
		}
	}
	return false
}

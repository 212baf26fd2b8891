package fhirpath

import (
	"encoding/json"
	"strconv"
	"strings"
)

// binaryExpr is a binary operator other than "&", "is" and "as".
type binaryExpr struct {
	op          string
	left, right expr
	// constant holds the right operand when it is a literal, so comparisons
	// such as system = 'phone' do not evaluate it for each item.
	constant []Node
}

func newBinary(op string, left, right expr) expr {
	b := &binaryExpr{op: op, left: left, right: right}
	if lit, ok := right.(*literalExpr); ok {
		b.constant = []Node{lit.node}
	}
	return b
}

func (b *binaryExpr) eval(c *evalContext, focus []Node) ([]Node, error) {
	left, err := b.left.eval(c, focus)
	if err != nil {
		return nil, err
	}
	switch b.op {
	case "and", "or", "xor", "implies":
		return b.evalLogic(c, focus, left)
	}
	right := b.constant
	if right == nil {
		if right, err = b.right.eval(c, focus); err != nil {
			return nil, err
		}
	}
	switch b.op {
	case "|":
		return union(left, right), nil
	case "=", "!=":
		if len(left) == 0 || len(right) == 0 {
			return nil, nil
		}
		return boolResult(collectionsEqual(left, right) == (b.op == "=")), nil
	case "~", "!~":
		return boolResult(collectionsEquivalent(left, right) == (b.op == "~")), nil
	case "in":
		return membership(left, right)
	case "contains":
		return membership(right, left)
	}
	return compare(b.op, left, right)
}

// evalLogic applies the three-valued logic of FHIRPath, in which an empty
// operand is unknown. The right operand is evaluated only when needed.
func (b *binaryExpr) evalLogic(c *evalContext, focus, leftNodes []Node) ([]Node, error) {
	l, lok, err := singletonBool(leftNodes)
	if err != nil {
		return nil, err
	}
	switch {
	case b.op == "and" && lok && !l:
		return boolResult(false), nil
	case b.op == "or" && lok && l:
		return boolResult(true), nil
	case b.op == "implies" && lok && !l:
		return boolResult(true), nil
	}
	rightNodes, err := b.right.eval(c, focus)
	if err != nil {
		return nil, err
	}
	r, rok, err := singletonBool(rightNodes)
	if err != nil {
		return nil, err
	}
	switch b.op {
	case "and":
		switch {
		case rok && !r:
			return boolResult(false), nil
		case lok && rok:
			return boolResult(true), nil
		}
	case "or":
		switch {
		case rok && r:
			return boolResult(true), nil
		case lok && rok:
			return boolResult(false), nil
		}
	case "xor":
		if lok && rok {
			return boolResult(l != r), nil
		}
	case "implies":
		switch {
		case rok && r:
			return boolResult(true), nil
		case lok && rok:
			return boolResult(false), nil
		}
	}
	return nil, nil
}

// union returns the items of left and right without duplicates.
func union(left, right []Node) []Node {
	out := make([]Node, 0, len(left)+len(right))
	for _, side := range [2][]Node{left, right} {
		for _, n := range side {
			duplicate := false
			for _, seen := range out {
				if valuesEqual(seen.Value, n.Value) {
					duplicate = true
					break
				}
			}
			if !duplicate {
				out = append(out, n)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func membership(item, collection []Node) ([]Node, error) {
	switch len(item) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errorf("membership test expects a single item, found %d", len(item))
	}
	for _, n := range collection {
		if valuesEqual(item[0].Value, n.Value) {
			return boolResult(true), nil
		}
	}
	return boolResult(false), nil
}

func collectionsEqual(a, b []Node) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !valuesEqual(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// collectionsEquivalent implements "~": order does not matter, strings are
// compared ignoring case and runs of white space, and two empty collections
// are equivalent.
func collectionsEquivalent(a, b []Node) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
	for _, x := range a {
		found := false
		for j, y := range b {
			if !used[j] && valuesEquivalent(x.Value, y.Value) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func valuesEquivalent(a, b any) bool {
	x, xok := a.(string)
	y, yok := b.(string)
	if xok && yok {
		return strings.EqualFold(strings.Join(strings.Fields(x), " "), strings.Join(strings.Fields(y), " "))
	}
	return valuesEqual(a, b)
}

// valuesEqual compares two values of the JSON tree. Numbers are equal when
// their values are (1.0 = 1). Values of different kinds are not equal.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, errx := strconv.ParseFloat(string(x), 64)
		fy, erry := strconv.ParseFloat(string(y), 64)
		return errx == nil && erry == nil && fx == fy
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valuesEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == nil && b == nil
}

// compare implements <, <=, > and >= on single strings or numbers. Strings,
// and so dates, are compared by their text.
// NOTE: dates of different precision or zone compare by text, which is only
// right when both have the same format.
func compare(op string, left, right []Node) ([]Node, error) {
	if len(left) == 0 || len(right) == 0 {
		return nil, nil
	}
	if len(left) > 1 || len(right) > 1 {
		return nil, errorf("%s expects single items, found %d and %d", op, len(left), len(right))
	}
	var sign int
	switch x := left[0].Value.(type) {
	case string:
		y, ok := right[0].Value.(string)
		if !ok {
			return nil, nil
		}
		sign = strings.Compare(x, y)
	case json.Number:
		y, ok := right[0].Value.(json.Number)
		if !ok {
			return nil, nil
		}
		fx, errx := strconv.ParseFloat(string(x), 64)
		fy, erry := strconv.ParseFloat(string(y), 64)
		if errx != nil || erry != nil {
			return nil, nil
		}
		switch {
		case fx < fy:
			sign = -1
		case fx > fy:
			sign = 1
		}
	default:
		return nil, nil
	}
	switch op {
	case "<":
		return boolResult(sign < 0), nil
	case "<=":
		return boolResult(sign <= 0), nil
	case ">":
		return boolResult(sign > 0), nil
	}
	return boolResult(sign >= 0), nil
}

// matchesType reports whether n is of the FHIR type typeName or of a type
// that specializes it. A name with the "System." prefix is matched against
// the JSON kind of the value. When n.Type is not set, the type is inferred
// from the value (see Node.TypeName), and a string value matches any
// string-based FHIR primitive type whose lexical form it has.
func matchesType(n Node, typeName string) bool {
	if system, ok := strings.CutPrefix(typeName, "System."); ok {
		return matchesSystemType(n.Value, system)
	}
	if n.Type != "" {
		return isTypeOrSubtype(n.Type, typeName)
	}
	switch v := n.Value.(type) {
	case string:
		return stringHasType(v, typeName)
	case bool:
		return typeName == "boolean"
	case json.Number:
		switch typeName {
		case "decimal":
			return true
		case "integer", "positiveInt", "unsignedInt":
			return isIntegerLiteral(string(v))
		}
		return false
	case map[string]any:
		if isTypeOrSubtype(n.TypeName(), typeName) {
			return true
		}
		keys, ok := shapeKeys[typeName]
		return ok && fitsShape(v, keys)
	}
	return false
}

func matchesSystemType(v any, name string) bool {
	switch v := v.(type) {
	case string:
		return name == "String" || name == "Date" || name == "DateTime" || name == "Time"
	case bool:
		return name == "Boolean"
	case json.Number:
		return name == "Decimal" || (name == "Integer" && isIntegerLiteral(string(v)))
	}
	return false
}

// stringHasType reports whether the JSON string s can be a value of the FHIR
// primitive type typeName. Dates and times are checked by their shape only.
func stringHasType(s, typeName string) bool {
	switch typeName {
	case "string", "code", "id", "markdown", "uri", "url", "canonical", "oid", "uuid",
		"base64Binary", "xhtml":
		return true
	case "date":
		return looksLikeDate(s) && !strings.Contains(s, "T")
	case "dateTime":
		return looksLikeDate(s)
	case "instant":
		return looksLikeDate(s) && len(s) > len("2006-01-02T15:04:05")
	case "time":
		return len(s) >= 5 && s[2] == ':' && isDigits(s[:2])
	}
	return false
}

func looksLikeDate(s string) bool {
	return len(s) >= 4 && isDigits(s[:4]) && (len(s) == 4 || s[4] == '-')
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

package fhirpath

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// An expr is one compiled FHIRPath expression node. eval returns the result
// of the node for the input collection focus. It never modifies focus or the
// slices returned by other nodes, and it may return focus itself.
type expr interface {
	eval(c *evalContext, focus []Node) ([]Node, error)
}

// evalContext is the state of one Evaluate call.
type evalContext struct {
	root  Node
	focus [1]Node
}

// Shared results for boolean outcomes, so that criteria such as
// where(system = 'phone') do not allocate for each item. Evaluate copies them
// before returning them to a caller.
var (
	trueResult  = []Node{{Value: true, Type: "boolean"}}
	falseResult = []Node{{Value: false, Type: "boolean"}}
)

func boolResult(b bool) []Node {
	if b {
		return trueResult[:1:1]
	}
	return falseResult[:1:1]
}

func isSharedResult(nodes []Node) bool {
	return len(nodes) == 1 && (&nodes[0] == &trueResult[0] || &nodes[0] == &falseResult[0])
}

// singletonBool converts a collection to a boolean as FHIRPath does where a
// single boolean is expected. present is false for an empty collection. A
// single item that is not a boolean counts as true. More than one item is an
// error.
func singletonBool(nodes []Node) (value, present bool, err error) {
	switch len(nodes) {
	case 0:
		return false, false, nil
	case 1:
		if b, ok := nodes[0].Value.(bool); ok {
			return b, true, nil
		}
		return true, true, nil
	}
	return false, false, fmt.Errorf("fhirpath: expected a single boolean, found %d items", len(nodes))
}

type literalExpr struct{ node Node }

func (l *literalExpr) eval(*evalContext, []Node) ([]Node, error) {
	return []Node{l.node}, nil
}

type emptyExpr struct{}

func (emptyExpr) eval(*evalContext, []Node) ([]Node, error) { return nil, nil }

type thisExpr struct{}

func (thisExpr) eval(_ *evalContext, focus []Node) ([]Node, error) { return focus, nil }

type rootExpr struct{}

func (rootExpr) eval(c *evalContext, _ []Node) ([]Node, error) {
	return []Node{c.root}, nil
}

// memberExpr navigates to the child elements called name. When it starts a
// path (root) and name is the type of the focus, such as "Patient" in
// "Patient.name", it returns the focus instead.
type memberExpr struct {
	target expr
	name   string
	root   bool
}

func (m *memberExpr) eval(c *evalContext, focus []Node) ([]Node, error) {
	input := focus
	if m.target != nil {
		var err error
		if input, err = m.target.eval(c, focus); err != nil {
			return nil, err
		}
	}
	if m.root && m.target == nil && isResourceTypeName(m.name) {
		if len(input) == 1 && isTypeOrSubtype(input[0].TypeName(), m.name) {
			return input, nil
		}
	}
	var out []Node
	for _, n := range input {
		out = appendChildren(out, n, m.name)
	}
	return out, nil
}

// appendChildren appends the elements of n called name. When n has no such
// key, it looks for a choice element: a key that is name followed by a FHIR
// type name, such as valueQuantity for value.
func appendChildren(out []Node, n Node, name string) []Node {
	obj, ok := n.Value.(map[string]any)
	if !ok {
		return out
	}
	if _, ok := obj[name]; ok {
		return appendValue(out, obj, name, name, "")
	}
	for key := range obj {
		if len(key) <= len(name) || key[:len(name)] != name {
			continue
		}
		if typeName, ok := choiceSuffixes[key[len(name):]]; ok {
			out = appendValue(out, obj, key, name, typeName)
		}
	}
	return out
}

// appendValue appends the value of parent[key] as nodes of element name,
// one node per array item.
func appendValue(out []Node, parent map[string]any, key, name, typeName string) []Node {
	switch v := parent[key].(type) {
	case nil:
		return out
	case []any:
		for i, item := range v {
			if item != nil {
				out = append(out, Node{Value: item, Type: typeName, Name: name, Parent: parent, Key: key, Index: i})
			}
		}
		return out
	default:
		return append(out, Node{Value: v, Type: typeName, Name: name, Parent: parent, Key: key, Index: -1})
	}
}

type indexExpr struct {
	target expr
	index  expr
}

func (x *indexExpr) eval(c *evalContext, focus []Node) ([]Node, error) {
	input, err := x.target.eval(c, focus)
	if err != nil {
		return nil, err
	}
	idx, err := x.index.eval(c, focus)
	if err != nil {
		return nil, err
	}
	i, err := singletonInteger(idx, "indexer")
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(input) {
		return nil, nil
	}
	return input[i : i+1 : i+1], nil
}

func singletonInteger(nodes []Node, operation string) (int, error) {
	if len(nodes) == 1 {
		if num, ok := nodes[0].Value.(json.Number); ok {
			if i, err := num.Int64(); err == nil {
				return int(i), nil
			}
		}
	}
	return 0, fmt.Errorf("fhirpath: %s expects a single integer", operation)
}

// typeExpr is the "is" operator, or the "as" operator when filter is set.
type typeExpr struct {
	target   expr
	typeName string
	filter   bool
}

func (t *typeExpr) eval(c *evalContext, focus []Node) ([]Node, error) {
	input, err := t.target.eval(c, focus)
	if err != nil {
		return nil, err
	}
	if t.filter {
		return filterType(input, t.typeName), nil
	}
	return isType(input, t.typeName)
}

// NOTE: "as" keeps every item of the type, like ofType(). Strict FHIRPath
// evaluators raise an error instead when the input has more than one item.
func filterType(input []Node, typeName string) []Node {
	var out []Node
	for _, n := range input {
		if matchesType(n, typeName) {
			out = append(out, n)
		}
	}
	return out
}

func isType(input []Node, typeName string) ([]Node, error) {
	switch len(input) {
	case 0:
		return nil, nil
	case 1:
		return boolResult(matchesType(input[0], typeName)), nil
	}
	return nil, fmt.Errorf("fhirpath: \"is %s\" expects a single item, found %d", typeName, len(input))
}

type concatExpr struct{ left, right expr }

func (x *concatExpr) eval(c *evalContext, focus []Node) ([]Node, error) {
	var b strings.Builder
	for _, side := range []expr{x.left, x.right} {
		nodes, err := side.eval(c, focus)
		if err != nil {
			return nil, err
		}
		switch len(nodes) {
		case 0:
		case 1:
			s, ok := nodes[0].Value.(string)
			if !ok {
				return nil, errors.New("fhirpath: & expects strings")
			}
			b.WriteString(s)
		default:
			return nil, fmt.Errorf("fhirpath: & expects a single item, found %d", len(nodes))
		}
	}
	return []Node{{Value: b.String(), Type: "string"}}, nil
}

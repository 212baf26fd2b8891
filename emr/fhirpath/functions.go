package fhirpath

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// funcSpec describes one supported function. A function whose typeArg is set
// takes a type name, not an expression, as its argument.
type funcSpec struct {
	minArgs, maxArgs int
	typeArg          bool
	call             func(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error)
}

func (s funcSpec) arity() string {
	switch {
	case s.minArgs == s.maxArgs && s.maxArgs == 0:
		return "no arguments"
	case s.minArgs == s.maxArgs && s.maxArgs == 1:
		return "1 argument"
	case s.minArgs == s.maxArgs:
		return fmt.Sprintf("%d arguments", s.maxArgs)
	}
	return fmt.Sprintf("%d to %d arguments", s.minArgs, s.maxArgs)
}

// funcExpr is a function call. Its input is the result of target, or the
// focus when target is nil.
type funcExpr struct {
	target  expr
	name    string
	spec    funcSpec
	args    []expr
	typeArg string
}

func (f *funcExpr) eval(c *evalContext, focus []Node) ([]Node, error) {
	input := focus
	if f.target != nil {
		var err error
		if input, err = f.target.eval(c, focus); err != nil {
			return nil, err
		}
	}
	return f.spec.call(c, f, focus, input)
}

// functions lists the supported FHIRPath functions. It is filled in init
// because where() and the other functions refer to it through parseFunction.
var functions map[string]funcSpec

func init() {
	functions = map[string]funcSpec{
		"where":     {1, 1, false, fnWhere},
		"select":    {1, 1, false, fnSelect},
		"exists":    {0, 1, false, fnExists},
		"all":       {1, 1, false, fnAll},
		"empty":     {0, 0, false, fnEmpty},
		"not":       {0, 0, false, fnNot},
		"count":     {0, 0, false, fnCount},
		"first":     {0, 0, false, fnFirst},
		"last":      {0, 0, false, fnLast},
		"tail":      {0, 0, false, fnTail},
		"single":    {0, 0, false, fnSingle},
		"skip":      {1, 1, false, fnSkip},
		"take":      {1, 1, false, fnTake},
		"distinct":  {0, 0, false, fnDistinct},
		"ofType":    {1, 1, true, fnOfType},
		"as":        {1, 1, true, fnOfType},
		"is":        {1, 1, true, fnIs},
		"resolve":   {0, 0, false, fnResolve},
		"extension": {1, 1, false, fnExtension},
		"hasValue":  {0, 0, false, fnHasValue},
		"children":  {0, 0, false, fnChildren},
		"startsWith": {1, 1, false, func(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
			return stringTest(c, f, outer, input, strings.HasPrefix)
		}},
		"endsWith": {1, 1, false, func(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
			return stringTest(c, f, outer, input, strings.HasSuffix)
		}},
		"contains": {1, 1, false, func(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
			return stringTest(c, f, outer, input, strings.Contains)
		}},
	}
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("fhirpath: "+format, args...)
}

// eachItem evaluates the argument expression arg once per input item, with
// that item as the focus, and calls visit with the item and the result.
func eachItem(c *evalContext, arg expr, input []Node, visit func(item Node, result []Node) error) error {
	itemFocus := make([]Node, 1)
	for _, item := range input {
		itemFocus[0] = item
		result, err := arg.eval(c, itemFocus)
		if err != nil {
			return err
		}
		if err := visit(item, result); err != nil {
			return err
		}
	}
	return nil
}

func fnWhere(c *evalContext, f *funcExpr, _, input []Node) ([]Node, error) {
	var out []Node
	err := eachItem(c, f.args[0], input, func(item Node, result []Node) error {
		keep, _, err := singletonBool(result)
		if err != nil {
			return fmt.Errorf("where() criteria: %w", err)
		}
		if keep {
			out = append(out, item)
		}
		return nil
	})
	return out, err
}

func fnSelect(c *evalContext, f *funcExpr, _, input []Node) ([]Node, error) {
	var out []Node
	err := eachItem(c, f.args[0], input, func(_ Node, result []Node) error {
		out = append(out, result...)
		return nil
	})
	return out, err
}

func fnExists(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
	if len(f.args) == 0 {
		return boolResult(len(input) > 0), nil
	}
	matches, err := fnWhere(c, f, outer, input)
	if err != nil {
		return nil, err
	}
	return boolResult(len(matches) > 0), nil
}

func fnAll(c *evalContext, f *funcExpr, _, input []Node) ([]Node, error) {
	all := true
	err := eachItem(c, f.args[0], input, func(_ Node, result []Node) error {
		ok, _, err := singletonBool(result)
		if err != nil {
			return fmt.Errorf("all() criteria: %w", err)
		}
		all = all && ok
		return nil
	})
	return boolResult(all), err
}

func fnEmpty(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	return boolResult(len(input) == 0), nil
}

func fnNot(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	b, ok, err := singletonBool(input)
	if err != nil || !ok {
		return nil, err
	}
	return boolResult(!b), nil
}

func fnCount(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	return []Node{{Value: jsonInt(len(input)), Type: "integer"}}, nil
}

func fnFirst(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	if len(input) == 0 {
		return nil, nil
	}
	return input[:1:1], nil
}

func fnLast(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	if len(input) == 0 {
		return nil, nil
	}
	return input[len(input)-1:], nil
}

func fnTail(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	if len(input) <= 1 {
		return nil, nil
	}
	return input[1:], nil
}

func fnSingle(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	if len(input) > 1 {
		return nil, errorf("single() expects at most one item, found %d", len(input))
	}
	return input, nil
}

func fnSkip(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
	n, err := integerArg(c, f, outer)
	if err != nil {
		return nil, err
	}
	if n >= len(input) {
		return nil, nil
	}
	return input[max(n, 0):], nil
}

func fnTake(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
	n, err := integerArg(c, f, outer)
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	return input[:min(n, len(input)):min(n, len(input))], nil
}

func fnDistinct(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	return union(input, nil), nil
}

func fnOfType(_ *evalContext, f *funcExpr, _, input []Node) ([]Node, error) {
	return filterType(input, f.typeArg), nil
}

func fnIs(_ *evalContext, f *funcExpr, _, input []Node) ([]Node, error) {
	return isType(input, f.typeArg)
}

// fnResolve returns, for each Reference (or reference string) in input, a
// node whose Type is the resource type that the reference names. A
// contained reference ("#id") resolves to the contained resource itself.
// Other references resolve to a stand-in object holding only resourceType
// and id, because the evaluator has no access to other resources.
// References without a readable type, such as "urn:uuid:" URNs, are dropped.
func fnResolve(c *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	var out []Node
	for _, n := range input {
		var ref string
		switch v := n.Value.(type) {
		case string:
			ref = v
		case map[string]any:
			ref, _ = v["reference"].(string)
		}
		if id, ok := strings.CutPrefix(ref, "#"); ok {
			if contained, ok := findContained(c.root, id); ok {
				out = append(out, contained)
			}
			continue
		}
		resourceType, id, _, ok := ParseReference(ref)
		if !ok {
			continue
		}
		stub := map[string]any{"resourceType": resourceType, "id": id}
		out = append(out, Node{Value: stub, Type: resourceType})
	}
	return out, nil
}

func findContained(root Node, id string) (Node, bool) {
	obj, _ := root.Value.(map[string]any)
	list, _ := obj["contained"].([]any)
	for _, item := range list {
		resource, _ := item.(map[string]any)
		if resource != nil && resource["id"] == id {
			resourceType, _ := resource["resourceType"].(string)
			return Node{Value: resource, Type: resourceType}, true
		}
	}
	return Node{}, false
}

func fnExtension(c *evalContext, f *funcExpr, outer, input []Node) ([]Node, error) {
	url, err := stringArg(c, f, outer)
	if err != nil {
		return nil, err
	}
	var out []Node
	for _, n := range input {
		obj, _ := n.Value.(map[string]any)
		list, _ := obj["extension"].([]any)
		for _, item := range list {
			ext, _ := item.(map[string]any)
			if ext != nil && ext["url"] == url {
				out = append(out, Node{Value: ext, Type: "Extension", Name: "extension"})
			}
		}
	}
	return out, nil
}

func fnHasValue(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	if len(input) != 1 {
		return boolResult(false), nil
	}
	_, isObject := input[0].Value.(map[string]any)
	return boolResult(!isObject), nil
}

func fnChildren(_ *evalContext, _ *funcExpr, _, input []Node) ([]Node, error) {
	var out []Node
	for _, n := range input {
		obj, _ := n.Value.(map[string]any)
		for key := range obj {
			if key != "resourceType" && !strings.HasPrefix(key, "_") {
				out = appendValue(out, obj, key, key, "")
			}
		}
	}
	return out, nil
}

func stringTest(c *evalContext, f *funcExpr, outer, input []Node, test func(s, arg string) bool) ([]Node, error) {
	arg, err := stringArg(c, f, outer)
	if err != nil {
		return nil, err
	}
	if len(input) == 0 {
		return nil, nil
	}
	s, ok := input[0].Value.(string)
	if len(input) > 1 || !ok {
		return nil, errorf("%s() expects a single string input", f.name)
	}
	return boolResult(test(s, arg)), nil
}

// stringArg evaluates the single argument of f against the focus of the
// enclosing expression and returns it as a string.
func stringArg(c *evalContext, f *funcExpr, outer []Node) (string, error) {
	result, err := f.args[0].eval(c, outer)
	if err != nil {
		return "", err
	}
	if len(result) == 1 {
		if s, ok := result[0].Value.(string); ok {
			return s, nil
		}
	}
	return "", errorf("%s() expects a single string argument", f.name)
}

func integerArg(c *evalContext, f *funcExpr, outer []Node) (int, error) {
	result, err := f.args[0].eval(c, outer)
	if err != nil {
		return 0, err
	}
	return singletonInteger(result, f.name+"()")
}

func jsonInt(n int) json.Number {
	return json.Number(strconv.Itoa(n))
}

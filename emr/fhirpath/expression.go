package fhirpath

// Expression is a compiled FHIRPath expression. It is immutable and safe for
// concurrent use.
type Expression struct {
	src  string
	root expr
}

// Compile parses a FHIRPath expression. The error is a *SyntaxError for text
// that is not FHIRPath or that uses a feature this package does not support.
func Compile(src string) (*Expression, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	root, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "unexpected %s", describe(t))
	}
	return &Expression{src: src, root: root}, nil
}

// MustCompile is like Compile but panics on an error. It is meant for
// expressions that are constants of the program.
func MustCompile(src string) *Expression {
	e, err := Compile(src)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source text of the expression.
func (e *Expression) String() string { return e.src }

// Evaluate runs the expression with resource as its root, %resource and
// %context. The resource is a tree as decoded by encoding/json with
// Decoder.UseNumber, and must not be modified during the call. The returned
// nodes refer into the resource.
func (e *Expression) Evaluate(resource map[string]any) ([]Node, error) {
	resourceType, _ := resource["resourceType"].(string)
	c := &evalContext{root: Node{Value: resource, Type: resourceType}}
	c.focus[0] = c.root
	out, err := e.root.eval(c, c.focus[:])
	if err != nil {
		return nil, err
	}
	if isSharedResult(out) {
		out = append([]Node(nil), out...)
	}
	return out, nil
}

package fhirpath

import (
	"encoding/json"
	"fmt"
	"strings"
)

// SyntaxError reports an expression that could not be compiled.
type SyntaxError struct {
	Expr   string // the expression as given to Compile
	Offset int    // byte offset of the problem in Expr
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("fhirpath: invalid expression %q at offset %d: %s", e.Expr, e.Offset, e.Msg)
}

func syntaxError(src string, offset int, msg string) error {
	return &SyntaxError{Expr: src, Offset: offset, Msg: msg}
}

type parser struct {
	src  string
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return syntaxError(p.src, t.pos, fmt.Sprintf(format, args...))
}

// isOperator reports whether the next token is the operator or keyword op.
func (p *parser) isOperator(op string) bool {
	t := p.peek()
	switch t.kind {
	case tokOperator:
		return t.text == op
	case tokIdentifier:
		return isKeyword(op) && t.text == op
	}
	return false
}

func isKeyword(s string) bool {
	switch s {
	case "and", "or", "xor", "implies", "is", "as", "in", "contains", "div", "mod":
		return true
	}
	return false
}

func (p *parser) expect(op string) error {
	if !p.isOperator(op) {
		t := p.peek()
		return p.errorf(t, "expected %q, found %s", op, describe(t))
	}
	p.next()
	return nil
}

func describe(t token) string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

// The parse methods below follow the FHIRPath operator precedence, from the
// loosest binding (implies) to the tightest (path and indexer).

func (p *parser) parseExpr() (expr, error) {
	return p.parseBinary(0)
}

// binaryLevels lists the binary operators by precedence, loosest first.
var binaryLevels = [][]string{
	{"implies"},
	{"or", "xor"},
	{"and"},
	{"in", "contains"},
	{"=", "~", "!=", "!~"},
	{"<=", "<", ">", ">="},
	{"|"},
}

// typeLevel is the precedence level of "is" and "as", which bind tighter
// than "|" and looser than arithmetic.
var typeLevel = len(binaryLevels)

func (p *parser) parseBinary(level int) (expr, error) {
	if level == typeLevel {
		return p.parseTypeOp()
	}
	left, err := p.parseBinary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		op := ""
		for _, candidate := range binaryLevels[level] {
			if p.isOperator(candidate) {
				op = candidate
				break
			}
		}
		if op == "" {
			return left, nil
		}
		p.next()
		right, err := p.parseBinary(level + 1)
		if err != nil {
			return nil, err
		}
		left = newBinary(op, left, right)
	}
}

func (p *parser) parseTypeOp() (expr, error) {
	left, err := p.parseAdditive()
	if err != nil {
		return nil, err
	}
	for p.isOperator("is") || p.isOperator("as") {
		op := p.next().text
		typeName, err := p.parseTypeSpecifier()
		if err != nil {
			return nil, err
		}
		left = &typeExpr{target: left, typeName: typeName, filter: op == "as"}
	}
	return left, nil
}

// parseAdditive parses string concatenation with "&" and rejects the
// arithmetic operators, which no search parameter expression uses.
func (p *parser) parseAdditive() (expr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case p.isOperator("&"):
			p.next()
			right, err := p.parseUnary()
			if err != nil {
				return nil, err
			}
			left = &concatExpr{left: left, right: right}
		case p.isOperator("+"), p.isOperator("-"), p.isOperator("*"), p.isOperator("/"),
			p.isOperator("div"), p.isOperator("mod"):
			return nil, p.errorf(t, "arithmetic operator %q is not supported", t.text)
		default:
			return left, nil
		}
	}
}

func (p *parser) parseUnary() (expr, error) {
	if p.isOperator("-") || p.isOperator("+") {
		sign := p.next()
		num := p.peek()
		if num.kind != tokNumber {
			return nil, p.errorf(sign, "unary %q is only supported before a number", sign.text)
		}
		p.next()
		text := num.text
		if sign.text == "-" {
			text = "-" + text
		}
		return p.parsePostfix(&literalExpr{node: Node{Value: json.Number(text)}})
	}
	term, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	return p.parsePostfix(term)
}

func (p *parser) parsePostfix(left expr) (expr, error) {
	for {
		switch {
		case p.isOperator("."):
			p.next()
			t := p.next()
			if t.kind != tokIdentifier && t.kind != tokDelimited {
				return nil, p.errorf(t, "expected a name after \".\", found %s", describe(t))
			}
			inv, err := p.parseInvocation(t, left)
			if err != nil {
				return nil, err
			}
			left = inv
		case p.isOperator("["):
			p.next()
			index, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			left = &indexExpr{target: left, index: index}
		default:
			return left, nil
		}
	}
}

// parseInvocation parses a member name or a function call whose name is t,
// applied to target (nil for the focus).
func (p *parser) parseInvocation(t token, target expr) (expr, error) {
	if t.kind == tokIdentifier && p.isOperator("(") {
		return p.parseFunction(t, target)
	}
	return &memberExpr{target: target, name: t.text}, nil
}

func (p *parser) parseTerm() (expr, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return &literalExpr{node: Node{Value: t.text, Type: "string"}}, nil
	case tokNumber:
		return &literalExpr{node: Node{Value: json.Number(t.text)}}, nil
	case tokDateTime:
		return &literalExpr{node: Node{Value: strings.TrimPrefix(t.text, "T"), Type: dateLiteralType(t.text)}}, nil
	case tokExternal:
		return newExternal(p, t)
	case tokSpecial:
		if t.text != "$this" {
			return nil, p.errorf(t, "%s is not supported", t.text)
		}
		return &thisExpr{}, nil
	case tokDelimited:
		return &memberExpr{name: t.text, root: true}, nil
	case tokIdentifier:
		switch t.text {
		case "true", "false":
			return &literalExpr{node: Node{Value: t.text == "true", Type: "boolean"}}, nil
		}
		if isKeyword(t.text) && !p.isOperator("(") {
			return nil, p.errorf(t, "unexpected keyword %q", t.text)
		}
		if p.isOperator("(") {
			return p.parseFunction(t, nil)
		}
		return &memberExpr{name: t.text, root: true}, nil
	case tokOperator:
		switch t.text {
		case "(":
			inner, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			return inner, nil
		case "{":
			if err := p.expect("}"); err != nil {
				return nil, err
			}
			return &emptyExpr{}, nil
		}
	}
	return nil, p.errorf(t, "unexpected %s", describe(t))
}

func dateLiteralType(text string) string {
	switch {
	case strings.HasPrefix(text, "T"):
		return "time"
	case strings.Contains(text, "T"):
		return "dateTime"
	}
	return "date"
}

func newExternal(p *parser, t token) (expr, error) {
	switch t.text {
	case "resource", "context", "rootResource":
		return &rootExpr{}, nil
	case "ucum":
		return &literalExpr{node: Node{Value: "http://unitsofmeasure.org", Type: "string"}}, nil
	case "sct":
		return &literalExpr{node: Node{Value: "http://snomed.info/sct", Type: "string"}}, nil
	case "loinc":
		return &literalExpr{node: Node{Value: "http://loinc.org", Type: "string"}}, nil
	}
	return nil, p.errorf(t, "unknown environment variable %%%s", t.text)
}

// parseTypeSpecifier parses a type name, optionally qualified with the FHIR
// or System namespace. FHIR names are returned unqualified and System names
// keep their "System." prefix.
func (p *parser) parseTypeSpecifier() (string, error) {
	t := p.next()
	if t.kind != tokIdentifier && t.kind != tokDelimited {
		return "", p.errorf(t, "expected a type name, found %s", describe(t))
	}
	name := t.text
	if p.isOperator(".") && (name == "FHIR" || name == "System") {
		p.next()
		qualified := p.next()
		if qualified.kind != tokIdentifier && qualified.kind != tokDelimited {
			return "", p.errorf(qualified, "expected a type name, found %s", describe(qualified))
		}
		if name == "System" {
			return "System." + qualified.text, nil
		}
		name = qualified.text
	}
	return name, nil
}

func (p *parser) parseFunction(name token, target expr) (expr, error) {
	spec, ok := functions[name.text]
	if !ok {
		return nil, p.errorf(name, "function %s() is not supported", name.text)
	}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	call := &funcExpr{target: target, name: name.text, spec: spec}
	for !p.isOperator(")") {
		if len(call.args) > 0 || call.typeArg != "" {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		if spec.typeArg {
			typeName, err := p.parseTypeSpecifier()
			if err != nil {
				return nil, err
			}
			call.typeArg = typeName
			continue
		}
		arg, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		call.args = append(call.args, arg)
	}
	p.next()
	argc := len(call.args)
	if spec.typeArg && call.typeArg != "" {
		argc = 1
	}
	if argc < spec.minArgs || argc > spec.maxArgs {
		return nil, p.errorf(name, "%s() takes %s, found %d", name.text, spec.arity(), argc)
	}
	return call, nil
}

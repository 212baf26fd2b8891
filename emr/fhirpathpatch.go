package emr

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// FHIRPathPatchParams is the input of FHIRPathPatch.
type FHIRPathPatchParams struct {
	Type string
	ID   string
	// Parameters is a FHIR R4 Parameters resource whose "operation"
	// parameters form a FHIRPath Patch.
	Parameters []byte
	// IfMatch, when positive, is the version the patch applies to.
	IfMatch int64
}

// FHIRPathPatch applies a FHIRPath Patch, as FHIR R4 defines it, to the
// current version and stores the result as a new version after the same
// validation as Update. Operations run in order on one copy of the
// resource, so a failing operation stores nothing. A Parameters body that
// is not a FHIRPath Patch returns a malformed *ValidationError. An operation
// whose path selects no element, or several where one is required, returns
// an invalid *ValidationError that names the operation's index and path.
// The patch may not change resourceType or id.
func (s *Service) FHIRPathPatch(ctx context.Context, p FHIRPathPatchParams) (*Resource, error) {
	if err := s.checkTypeID(p.Type, p.ID); err != nil {
		return nil, err
	}
	params, err := decodeJSON(p.Parameters)
	if err != nil {
		return nil, err
	}
	ops, err := parseFHIRPathPatch(params)
	if err != nil {
		return nil, err
	}
	var out *Resource
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		out, err = s.patchInTx(ctx, tx, p.Type, p.ID, p.IfMatch, func(tree map[string]any) error {
			return applyFHIRPathPatch(tree, ops)
		})
		return err
	})
	return out, err
}

// patchInTx reads the current version of typ/id, changes its tree with
// apply and writes the result as the next version.
func (s *Service) patchInTx(ctx context.Context, tx Tx, typ, id string, ifMatch int64, apply func(map[string]any) error) (*Resource, error) {
	cur, err := tx.Read(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if cur.Deleted {
		return nil, fmt.Errorf("patch %s/%s: %w", typ, id, ErrGone)
	}
	if ifMatch > 0 && cur.VersionID != ifMatch {
		return nil, fmt.Errorf("patch %s/%s: current version is %d, not %d: %w", typ, id, cur.VersionID, ifMatch, ErrVersionMismatch)
	}
	tree, err := decodeJSON(cur.Body)
	if err != nil {
		return nil, err
	}
	if err := apply(tree); err != nil {
		return nil, err
	}
	if tree["resourceType"] != typ || tree["id"] != id {
		return nil, invalid(typ, "invalid", "a patch may not change resourceType or id")
	}
	prep, err := s.prepare(typ, id, tree)
	if err != nil {
		return nil, err
	}
	res, _, err := s.write(ctx, tx, prep, writeMode{ifMatch: cur.VersionID})
	return res, err
}

// patchOperation is one parsed operation of a FHIRPath Patch.
type patchOperation struct {
	index int    // position among the Parameters' parameters
	kind  string // add, insert, delete, replace or move
	path  string
	expr  *fhirpath.Expression
	name  string
	value *patchValue
	// position is the index of an insert. source and destination are the
	// indexes of a move.
	position, source, destination int
}

// patchValue is the value of an operation: a value[x] with its type
// suffix, or parts that build a complex value.
type patchValue struct {
	suffix string // type suffix such as "String" or "CodeableConcept", empty for parts
	value  any
	parts  []patchPart
}

type patchPart struct {
	name  string
	value *patchValue
}

// location names the operation's parameter in errors.
func (op *patchOperation) location() string {
	return fmt.Sprintf("Parameters.parameter[%d]", op.index)
}

// fail returns an invalid *ValidationError for the operation. String
// literals in the path are redacted, because they may be identifiers or
// names of the patient.
func (op *patchOperation) fail(code, format string, args ...any) error {
	return invalid(op.location(), code, "%s operation with path %s: %s", op.kind, redactLiterals(op.path), fmt.Sprintf(format, args...))
}

// redactLiterals replaces the text of each quoted string in a FHIRPath
// expression with "...".
func redactLiterals(path string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case inString && c == '\\':
			i++
		case inString && c == '\'':
			inString = false
			b.WriteString("...'")
		case inString:
		case c == '\'':
			inString = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	if inString {
		b.WriteString("...")
	}
	return b.String()
}

// parseFHIRPathPatch reads the operations of a FHIRPath Patch Parameters
// resource.
func parseFHIRPathPatch(params map[string]any) ([]*patchOperation, error) {
	if params["resourceType"] != "Parameters" {
		return nil, malformed("", "a FHIRPath Patch must be a Parameters resource")
	}
	list, _ := params["parameter"].([]any)
	if len(list) == 0 {
		return nil, malformed("Parameters.parameter", "a FHIRPath Patch needs at least one operation parameter")
	}
	if len(list) > MaxPatchOperations {
		return nil, fmt.Errorf("FHIRPath Patch has %d operations, the maximum is %d: %w", len(list), MaxPatchOperations, ErrTooLarge)
	}
	ops := make([]*patchOperation, 0, len(list))
	for i, raw := range list {
		param, _ := raw.(map[string]any)
		location := fmt.Sprintf("Parameters.parameter[%d]", i)
		if param["name"] != "operation" {
			return nil, malformed(location+".name", "every parameter of a FHIRPath Patch must be named operation")
		}
		op, err := parseOperation(i, param)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func parseOperation(index int, param map[string]any) (*patchOperation, error) {
	op := &patchOperation{index: index}
	location := op.location()

	parts, _ := param["part"].([]any)
	seen := map[string]bool{}
	for j, raw := range parts {
		part, _ := raw.(map[string]any)
		name, _ := part["name"].(string)
		partLocation := fmt.Sprintf("%s.part[%d]", location, j)
		if seen[name] {
			return nil, malformed(partLocation, "the operation has more than one %s part", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "type":
			op.kind, err = partString(part, "valueCode", partLocation)
		case "path":
			op.path, err = partString(part, "valueString", partLocation)
		case "name":
			op.name, err = partString(part, "valueString", partLocation)
		case "index":
			op.position, err = partInteger(part, partLocation)
		case "source":
			op.source, err = partInteger(part, partLocation)
		case "destination":
			op.destination, err = partInteger(part, partLocation)
		case "value":
			op.value, err = parseValue(part, partLocation)
		default:
			err = malformed(partLocation, "unknown part %q of a FHIRPath Patch operation: expected type, path, name, value, index, source or destination", name)
		}
		if err != nil {
			return nil, err
		}
	}

	required := map[string][]string{
		"add":     {"path", "name", "value"},
		"insert":  {"path", "value", "index"},
		"delete":  {"path"},
		"replace": {"path", "value"},
		"move":    {"path", "source", "destination"},
	}
	needs, ok := required[op.kind]
	if !ok {
		return nil, malformed(location, "the operation type must be add, insert, delete, replace or move")
	}
	for _, name := range needs {
		if !seen[name] {
			return nil, malformed(location, "a %s operation needs a %s part", op.kind, name)
		}
	}

	expr, err := fhirpath.Compile(op.path)
	if err != nil {
		return nil, malformed(location, "the path of the %s operation is not a supported FHIRPath expression", op.kind)
	}
	op.expr = expr
	return op, nil
}

func partString(part map[string]any, key, location string) (string, error) {
	s, ok := part[key].(string)
	if !ok {
		return "", malformed(location, "the part needs a %s", key)
	}
	return s, nil
}

func partInteger(part map[string]any, location string) (int, error) {
	n, ok := part["valueInteger"].(json.Number)
	if !ok {
		return 0, malformed(location, "the part needs a valueInteger")
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, malformed(location, "the part needs a valueInteger of 0 or more")
	}
	return int(i), nil
}

// parseValue reads the value of a part: one value[x], or nested parts
// that name the elements of a complex value.
func parseValue(part map[string]any, location string) (*patchValue, error) {
	var found *patchValue
	for key, v := range part {
		if !strings.HasPrefix(key, "value") || len(key) == len("value") {
			continue
		}
		if found != nil {
			return nil, malformed(location, "the part has more than one value[x]")
		}
		found = &patchValue{suffix: key[len("value"):], value: v}
	}

	sub, _ := part["part"].([]any)
	if found != nil && len(sub) > 0 {
		return nil, malformed(location, "the part has both a value[x] and parts")
	}
	if found != nil {
		return found, nil
	}
	if len(sub) == 0 {
		return nil, malformed(location, "the part needs a value[x] or parts")
	}

	out := &patchValue{}
	for j, raw := range sub {
		p, _ := raw.(map[string]any)
		name, _ := p["name"].(string)
		subLocation := fmt.Sprintf("%s.part[%d]", location, j)
		if name == "" {
			return nil, malformed(subLocation, "the part needs a name")
		}
		v, err := parseValue(p, subLocation)
		if err != nil {
			return nil, err
		}
		out.parts = append(out.parts, patchPart{name: name, value: v})
	}
	return out, nil
}

// applyFHIRPathPatch runs the operations in order on tree.
func applyFHIRPathPatch(tree map[string]any, ops []*patchOperation) error {
	for _, op := range ops {
		nodes, err := op.expr.Evaluate(tree)
		if err != nil {
			return op.fail("invalid", "the path cannot be evaluated on the resource")
		}
		switch op.kind {
		case "add":
			err = op.add(tree, nodes)
		case "insert":
			err = op.insert(tree, nodes)
		case "delete":
			err = op.delete(nodes)
		case "replace":
			err = op.replace(tree, nodes)
		case "move":
			err = op.move(nodes)
		}
		if err != nil {
			return err
		}
	}
	pruneEmpty(tree)
	return nil
}

// single returns the one element a path must select.
func (op *patchOperation) single(nodes []fhirpath.Node) (fhirpath.Node, error) {
	switch {
	case len(nodes) == 0:
		return fhirpath.Node{}, op.fail("not-found", "the path selects no element, and the operation needs one")
	case len(nodes) > 1:
		return fhirpath.Node{}, op.fail("multiple-matches", "the path selects %d elements, and the operation needs exactly one", len(nodes))
	}
	return nodes[0], nil
}

// add adds the element name with the value to the one element the path
// selects. When the element repeats, the value goes to the end of its list.
func (op *patchOperation) add(tree map[string]any, nodes []fhirpath.Node) error {
	target, err := op.single(nodes)
	if err != nil {
		return err
	}
	obj, ok := target.Value.(map[string]any)
	if !ok {
		// A primitive keeps its id and extensions in its "_" partner.
		if target.Parent == nil {
			return op.fail("invalid", "the path selects a value that cannot have child elements")
		}
		obj = primitivePartner(target)
	}

	md := descriptorOf(tree, obj)
	if md == nil {
		return op.fail("invalid", "the type of the selected element is not known")
	}
	key, el, err := op.elementKey(md, op.name)
	if err != nil {
		return err
	}
	value, err := op.build(op.value, el)
	if err != nil {
		return err
	}

	if el.repeated() {
		list, _ := obj[key].([]any)
		obj[key] = append(list, value)
		return nil
	}
	if _, exists := obj[key]; exists {
		return op.fail("invalid", "the element %s already has a value: use a replace operation", op.name)
	}
	obj[key] = value
	return nil
}

// elementKey returns the JSON member name for element name of md, adding
// the type suffix of the operation's value to a choice element.
func (op *patchOperation) elementKey(md protoreflect.MessageDescriptor, name string) (string, elementField, error) {
	if el, ok := lookupElement(md, name); ok && el.choiceName == "" {
		if el.typ != nil && isChoiceType(el.typ) {
			if op.value == nil || op.value.suffix == "" {
				return "", el, op.fail("invalid", "%s is a choice element, so the value must be a value[x] that names its type", name)
			}
			key := name + op.value.suffix
			chosen, ok := lookupElement(md, key)
			if !ok {
				return "", el, op.fail("invalid", "%s does not allow a value of type %s", name, op.value.suffix)
			}
			return key, chosen, nil
		}
		return name, el, nil
	}
	return "", elementField{}, op.fail("invalid", "the selected element has no element named %s", name)
}

// primitivePartner returns the object of a primitive's id and extensions
// ("_birthDate" for birthDate), creating it when it is missing.
func primitivePartner(n fhirpath.Node) map[string]any {
	key := "_" + n.Key
	if n.Index < 0 {
		obj, _ := n.Parent[key].(map[string]any)
		if obj == nil {
			obj = map[string]any{}
			n.Parent[key] = obj
		}
		return obj
	}
	values, _ := n.Parent[n.Key].([]any)
	partner, _ := n.Parent[key].([]any)
	for len(partner) < len(values) {
		partner = append(partner, nil)
	}
	obj, _ := partner[n.Index].(map[string]any)
	if obj == nil {
		obj = map[string]any{}
		partner[n.Index] = obj
	}
	n.Parent[key] = partner
	return obj
}

// insert puts the value into the list the path selects at op.position.
func (op *patchOperation) insert(tree map[string]any, nodes []fhirpath.Node) error {
	parent, key, err := op.list(tree, nodes)
	if err != nil {
		return err
	}
	list, _ := parent[key].([]any)
	if op.position > len(list) {
		return op.fail("invalid", "index %d is past the end of the list of %d elements", op.position, len(list))
	}
	md := descriptorOf(tree, parent)
	if md == nil {
		return op.fail("invalid", "the type of the selected element is not known")
	}
	el, ok := lookupElement(md, key)
	if !ok || !el.repeated() {
		return op.fail("invalid", "the path does not select a repeating element")
	}
	value, err := op.build(op.value, el)
	if err != nil {
		return err
	}
	parent[key] = insertAt(list, op.position, value)
	if partner, ok := parent["_"+key].([]any); ok {
		parent["_"+key] = insertAt(partner, op.position, nil)
	}
	return nil
}

func insertAt(list []any, i int, v any) []any {
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = v
	return list
}

func removeAt(list []any, i int) []any {
	return append(list[:i:i], list[i+1:]...)
}

// list returns the object and member of the list whose items the path
// selects. An empty selection is allowed when the path ends with an
// element name on a path that selects one object.
func (op *patchOperation) list(tree map[string]any, nodes []fhirpath.Node) (map[string]any, string, error) {
	if len(nodes) == 0 {
		prefix, name, ok := splitLastStep(op.path)
		if !ok {
			return nil, "", op.fail("not-found", "the path selects no element")
		}
		expr, err := fhirpath.Compile(prefix)
		if err != nil {
			return nil, "", op.fail("not-found", "the path selects no element")
		}
		owners, err := expr.Evaluate(tree)
		if err != nil || len(owners) != 1 {
			return nil, "", op.fail("not-found", "the path selects no element, and its parent is not one element")
		}
		obj, ok := owners[0].Value.(map[string]any)
		if !ok {
			return nil, "", op.fail("not-found", "the path selects no element")
		}
		return obj, name, nil
	}
	first := nodes[0]
	if first.Parent == nil || first.Index < 0 {
		return nil, "", op.fail("invalid", "the path does not select the items of a list")
	}
	for _, n := range nodes[1:] {
		if n.Index < 0 || n.Key != first.Key || !sameObject(n.Parent, first.Parent) {
			return nil, "", op.fail("multiple-matches", "the path selects items of more than one list")
		}
	}
	return first.Parent, first.Key, nil
}

// splitLastStep splits "Patient.name.given" into "Patient.name" and
// "given". It fails when the last step is not a plain element name.
func splitLastStep(path string) (prefix, name string, ok bool) {
	i := strings.LastIndexByte(path, '.')
	if i <= 0 {
		return "", "", false
	}
	name = path[i+1:]
	for j := 0; j < len(name); j++ {
		c := name[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' && j > 0) {
			return "", "", false
		}
	}
	return path[:i], name, name != ""
}

func sameObject(a, b map[string]any) bool {
	return fmt.Sprintf("%p", a) == fmt.Sprintf("%p", b)
}

// delete removes the one element the path selects. A path that selects
// nothing leaves the resource as it is, as FHIR R4 specifies.
func (op *patchOperation) delete(nodes []fhirpath.Node) error {
	if len(nodes) == 0 {
		return nil
	}
	n, err := op.single(nodes)
	if err != nil {
		return err
	}
	if n.Parent == nil {
		return op.fail("invalid", "the path selects the resource itself, which cannot be deleted")
	}
	if n.Index < 0 {
		delete(n.Parent, n.Key)
		delete(n.Parent, "_"+n.Key)
		return nil
	}
	list := n.Parent[n.Key].([]any)
	n.Parent[n.Key] = removeAt(list, n.Index)
	if partner, ok := n.Parent["_"+n.Key].([]any); ok && n.Index < len(partner) {
		n.Parent["_"+n.Key] = removeAt(partner, n.Index)
	}
	return nil
}

// replace puts the value in place of the one element the path selects.
func (op *patchOperation) replace(tree map[string]any, nodes []fhirpath.Node) error {
	n, err := op.single(nodes)
	if err != nil {
		return err
	}
	if n.Parent == nil {
		return op.fail("invalid", "the path selects the resource itself, which cannot be replaced")
	}

	md := descriptorOf(tree, n.Parent)
	if md == nil {
		return op.fail("invalid", "the type of the selected element is not known")
	}
	key, el := n.Key, elementField{}
	if found, ok := lookupElement(md, n.Key); ok {
		el = found
	}
	if el.choiceName != "" {
		if op.value.suffix == "" {
			return op.fail("invalid", "%s is a choice element, so the value must be a value[x] that names its type", el.choiceName)
		}
		key = el.choiceName + op.value.suffix
		chosen, ok := lookupElement(md, key)
		if !ok {
			return op.fail("invalid", "%s does not allow a value of type %s", el.choiceName, op.value.suffix)
		}
		el = chosen
	}

	value, err := op.build(op.value, el)
	if err != nil {
		return err
	}

	if n.Index >= 0 {
		n.Parent[n.Key].([]any)[n.Index] = value
		return nil
	}
	if key != n.Key {
		delete(n.Parent, n.Key)
		delete(n.Parent, "_"+n.Key)
	}
	n.Parent[key] = value
	return nil
}

// move moves the item at op.source of the list the path selects to
// op.destination, an index of the list after the item is taken out.
func (op *patchOperation) move(nodes []fhirpath.Node) error {
	if len(nodes) == 0 {
		return op.fail("not-found", "the path selects no element, and the operation needs a list")
	}
	parent, key, err := op.list(nil, nodes)
	if err != nil {
		return err
	}
	list := parent[key].([]any)
	if op.source >= len(list) || op.destination >= len(list) {
		return op.fail("invalid", "source %d and destination %d must be less than the list's %d elements", op.source, op.destination, len(list))
	}
	parent[key] = moveItem(list, op.source, op.destination)
	if partner, ok := parent["_"+key].([]any); ok && len(partner) == len(list) {
		parent["_"+key] = moveItem(partner, op.source, op.destination)
	}
	return nil
}

func moveItem(list []any, from, to int) []any {
	item := list[from]
	list = removeAt(list, from)
	return insertAt(list, to, item)
}

// build turns an operation's value into the JSON value of element el.
func (op *patchOperation) build(v *patchValue, el elementField) (any, error) {
	if v.parts == nil {
		return v.value, nil
	}

	md := el.typ
	if md == nil || isPrimitiveType(md) {
		return nil, op.fail("invalid", "the value has parts, but the element is not of a complex type")
	}

	obj := map[string]any{}
	for _, part := range v.parts {
		name := part.name
		child, ok := lookupElement(md, name)
		if !ok {
			return nil, op.fail("invalid", "the value has a part %s, which is not an element of its type", name)
		}
		if child.choiceName == "" && child.typ != nil && isChoiceType(child.typ) {
			if part.value.suffix == "" {
				return nil, op.fail("invalid", "the value's part %s is a choice element, so it needs a value[x]", name)
			}
			name += part.value.suffix
			if child, ok = lookupElement(md, name); !ok {
				return nil, op.fail("invalid", "the value's part %s does not allow its type", part.name)
			}
		}
		value, err := op.build(part.value, child)
		if err != nil {
			return nil, err
		}
		if !child.repeated() {
			if _, dup := obj[name]; dup {
				return nil, op.fail("invalid", "the value has the part %s twice, but the element does not repeat", name)
			}
			obj[name] = value
			continue
		}
		list, _ := obj[name].([]any)
		obj[name] = append(list, value)
	}
	return obj, nil
}

// pruneEmpty removes the objects and arrays that deletes left empty,
// which FHIR JSON does not allow. In the arrays of a primitive and its "_"
// partner an emptied item becomes null, so the two stay aligned. It
// reports whether obj itself is empty.
func pruneEmpty(obj map[string]any) bool {
	for key, v := range obj {
		switch val := v.(type) {
		case map[string]any:
			if pruneEmpty(val) {
				delete(obj, key)
			}
		case []any:
			_, partnered := obj["_"+key]
			partnered = partnered || strings.HasPrefix(key, "_")
			kept := val[:0]
			present := 0
			for _, item := range val {
				if m, ok := item.(map[string]any); ok && pruneEmpty(m) {
					item = nil
				}
				if item == nil && !partnered {
					continue
				}
				if item != nil {
					present++
				}
				kept = append(kept, item)
			}
			if present == 0 {
				delete(obj, key)
			} else {
				obj[key] = kept
			}
		}
	}
	return len(obj) == 0
}

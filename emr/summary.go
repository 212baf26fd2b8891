package emr

import (
	"iter"
	"reflect"
	"sort"
	"strings"
	"sync"

	annpb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	bcrpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The element model below reads the FHIR R4 structure from the message
// descriptors that github.com/google/fhir/go generates from the R4
// StructureDefinitions: element names, cardinality (repeated fields),
// choice elements (messages annotated is_choice_type) and required elements
// (the validation_requirement annotation REQUIRED_BY_FHIR, which the
// generator sets for min 1).

// resourceDescriptors maps each R4 resource type to its message descriptor,
// taken from the one-of of ContainedResource.
var resourceDescriptors = sync.OnceValue(func() map[string]protoreflect.MessageDescriptor {
	fields := (&bcrpb.ContainedResource{}).ProtoReflect().Descriptor().Fields()
	out := make(map[string]protoreflect.MessageDescriptor, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		md := fields.Get(i).Message()
		if md != nil {
			out[string(md.Name())] = md
		}
	}
	return out
})

// elementField is one element of a FHIR type.
type elementField struct {
	field protoreflect.FieldDescriptor
	// typ is the descriptor of the element's value: for a choice element
	// the chosen type's, nil for a contained resource.
	typ protoreflect.MessageDescriptor
	// choiceName is the element name without the type suffix ("value" for
	// valueQuantity), empty when the element is not a choice element.
	choiceName string
}

// repeated reports whether the element is an array in FHIR JSON.
func (f elementField) repeated() bool { return f.field.Cardinality() == protoreflect.Repeated }

// fieldsByJSONName caches, per message, its fields keyed by JSON name.
var fieldsByJSONName sync.Map // protoreflect.FullName -> map[string]protoreflect.FieldDescriptor

func jsonFields(md protoreflect.MessageDescriptor) map[string]protoreflect.FieldDescriptor {
	if v, ok := fieldsByJSONName.Load(md.FullName()); ok {
		return v.(map[string]protoreflect.FieldDescriptor)
	}
	fields := md.Fields()
	m := make(map[string]protoreflect.FieldDescriptor, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		m[fd.JSONName()] = fd
	}
	fieldsByJSONName.Store(md.FullName(), m)
	return m
}

// isChoiceType reports whether md is the message of a choice element such
// as Observation.value[x].
func isChoiceType(md protoreflect.MessageDescriptor) bool {
	v, _ := proto.GetExtension(md.Options(), annpb.E_IsChoiceType).(bool)
	return v
}

// lookupElement finds the element of md stored under the JSON member key,
// which for a choice element carries the type suffix (valueQuantity).
func lookupElement(md protoreflect.MessageDescriptor, key string) (elementField, bool) {
	key = strings.TrimPrefix(key, "_")
	fields := jsonFields(md)
	if fd, ok := fields[key]; ok {
		return elementField{field: fd, typ: fd.Message()}, true
	}
	for name, fd := range fields {
		if !strings.HasPrefix(key, name) || fd.Message() == nil || !isChoiceType(fd.Message()) {
			continue
		}
		if option, ok := choiceOption(fd.Message(), key[len(name):]); ok {
			return elementField{field: fd, typ: option.Message(), choiceName: name}, true
		}
	}
	return elementField{}, false
}

// choiceOption returns the field of choice message md for a type suffix
// such as "Quantity" or "DateTime".
func choiceOption(md protoreflect.MessageDescriptor, suffix string) (protoreflect.FieldDescriptor, bool) {
	if suffix == "" {
		return nil, false
	}
	for name, fd := range jsonFields(md) {
		if strings.ToUpper(name[:1])+name[1:] == suffix {
			return fd, true
		}
	}
	return nil, false
}

// isPrimitiveType reports whether md is a FHIR primitive type, which the
// generator models as a message with a scalar value field.
func isPrimitiveType(md protoreflect.MessageDescriptor) bool {
	if md == nil {
		return false
	}
	fd, ok := jsonFields(md)["value"]
	return ok && fd.Kind() != protoreflect.MessageKind
}

// isResourceHolder reports whether md can contain any resource
// (ContainedResource or google.protobuf.Any). The value's resourceType
// gives the type.
func isResourceHolder(md protoreflect.MessageDescriptor) bool {
	if md == nil {
		return true
	}
	name := md.Name()
	return name == "ContainedResource" || name == "Any"
}

// descriptorOf returns the type of the JSON object target inside the
// resource tree, found by identity, or nil when target is not in tree or
// its type is not known.
func descriptorOf(tree, target map[string]any) protoreflect.MessageDescriptor {
	rt, _ := tree["resourceType"].(string)
	md := resourceDescriptors()[rt]
	if md == nil {
		return nil
	}
	return findDescriptor(tree, md, reflect.ValueOf(target).UnsafePointer())
}

func findDescriptor(obj map[string]any, md protoreflect.MessageDescriptor, target any) protoreflect.MessageDescriptor {
	if reflect.ValueOf(obj).UnsafePointer() == target {
		return md
	}
	for key, value := range obj {
		el, ok := lookupElement(md, key)
		if !ok {
			continue
		}
		// For "_birthDate", the primitive's id and extensions, el.typ is
		// the primitive type, whose message also has those fields.
		for child := range childObjects(value, el) {
			if found := findDescriptor(child.obj, child.typ, target); found != nil {
				return found
			}
		}
	}
	return nil
}

// childObject is one JSON object in the value of an element, with its
// message type. index is its position in a JSON array, or -1 when the value
// is a single object.
type childObject struct {
	index int
	obj   map[string]any
	typ   protoreflect.MessageDescriptor
}

// childObjects yields the objects in value, the JSON value of element el.
// A contained resource gets the type its resourceType names, and one of an
// unknown type is left out.
func childObjects(value any, el elementField) iter.Seq[childObject] {
	return func(yield func(childObject) bool) {
		items, isArray := value.([]any)
		if !isArray {
			items = []any{value}
		}
		for i, item := range items {
			obj, ok := item.(map[string]any)
			if !ok {
				continue
			}
			typ := el.typ
			if isResourceHolder(typ) {
				rt, _ := obj["resourceType"].(string)
				if typ = resourceDescriptors()[rt]; typ == nil {
					continue
				}
			}
			index := -1
			if isArray {
				index = i
			}
			if !yield(childObject{index: index, obj: obj, typ: typ}) {
				return
			}
		}
	}
}

// requiredElements returns the JSON names of the top-level elements of a
// resource type with minimum cardinality 1, sorted.
func requiredElements(typ string) []string {
	md := resourceDescriptors()[typ]
	if md == nil {
		return nil
	}
	var out []string
	for name, fd := range jsonFields(md) {
		req, _ := proto.GetExtension(fd.Options(), annpb.E_ValidationRequirement).(annpb.Requirement)
		if req == annpb.Requirement_REQUIRED_BY_FHIR {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// SummaryTextElements returns the top-level elements that _summary=text
// keeps for a resource type besides text, id and meta: the elements with
// minimum cardinality 1 in FHIR R4, as the google/fhir/go descriptors
// record it. It returns nil for an unknown type.
func SummaryTextElements(typ string) []string {
	return requiredElements(typ)
}

package emr

import (
	"fmt"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// parseComposite compiles a value of a composite parameter such as
// code-value-quantity=http://loinc.org|8480-6$gt100: one value per
// component, separated by "$". The condition holds when every component
// matches within the same element, such as the same Observation.component.
func (s *Service) parseComposite(typ string, def searchparam.Definition, modifier, value string) (Cond, error) {
	types, ok := s.cfg.Registry.ComponentTypes(typ, def.Code)
	if !ok {
		return Cond{}, fmt.Errorf("search: composite parameter %s of %s: %w", def.Code, typ, ErrUnsupported)
	}
	if modifier != "" {
		return Cond{}, fmt.Errorf("search: modifier :%s on composite parameter %s: %w", modifier, def.Code, ErrUnsupported)
	}
	c := Cond{Kind: CondComposite, Param: def.Code}
	rest := value
	for k, componentType := range types {
		part, after, found := cutUnescaped(rest, '$')
		last := k == len(types)-1
		if found == last || part == "" {
			return Cond{}, badSearch(def.Code, "value", "%s takes %d values separated by $", def.Code, len(types))
		}
		rest = after
		component := searchparam.Definition{Code: def.Code, Type: componentType, Expression: def.Expression}
		cond, err := parseDefinedCond(component, def.Code, "", part)
		if err != nil {
			return Cond{}, err
		}
		c.Composite = append(c.Composite, cond)
	}
	return c, nil
}

// parseOfType compiles identifier:of-type=typesystem|typecode|value, which
// matches identifiers whose type has that coding and whose value is equal.
func parseOfType(def searchparam.Definition, value string) (Cond, error) {
	typeSystem, rest, ok1 := cutUnescaped(value, '|')
	typeCode, idValue, ok2 := cutUnescaped(rest, '|')
	if !ok1 || !ok2 || typeCode == "" || idValue == "" {
		return Cond{}, badSearch(def.Code+":of-type", "value", ":of-type takes type-system|type-code|value")
	}
	system := searchparam.OfTypeSystem(unescape(typeSystem), unescape(typeCode))
	return Cond{Kind: CondToken, Param: searchparam.OfTypeParam(def.Code), System: &system, Code: unescape(idValue)}, nil
}

// parseReferenceIdentifier compiles subject:identifier=system|value, which
// matches references that carry that identifier (Reference.identifier),
// not the identifiers of the resources they point to.
func parseReferenceIdentifier(def searchparam.Definition, value string) Cond {
	c := Cond{Kind: CondToken, Param: searchparam.IdentifierParam(def.Code)}
	if sys, code, ok := cutUnescaped(value, '|'); ok {
		sys, code = unescape(sys), unescape(code)
		c.System, c.Code = &sys, code
	} else {
		c.Code = unescape(value)
	}
	return c
}

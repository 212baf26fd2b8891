package searchparam

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"golang.org/x/text/unicode/norm"

	"github.com/nexus-health-360/nexus/emr/fhirpath"
)

// currencySystem is the code system of Money.currency (ISO 4217).
const currencySystem = "urn:iso:std:iso:4217"

// Extract evaluates every parameter that applies to resourceType on
// resource and returns the index entries, with duplicates within a
// parameter removed. The resource is a tree as decoded by encoding/json with
// Decoder.UseNumber.
//
// A value that cannot be read, such as a date with month 13, is skipped.
// Extract then returns the entries of every other value together with an
// error that wraps ErrInvalidValue and names each parameter concerned.
func (r *Registry) Extract(resourceType string, resource map[string]any) ([]Entry, error) {
	if got, _ := resource["resourceType"].(string); got != resourceType {
		return nil, fmt.Errorf("searchparam: extract %s: resource has resourceType %q, expected %q",
			resourceType, got, resourceType)
	}
	x := extractor{resourceType: resourceType}
	for _, list := range r.params(resourceType) {
		for i := range list {
			x.param(&list[i], resource)
		}
	}
	return x.out, errors.Join(x.errs...)
}

type extractor struct {
	resourceType string
	def          *Definition
	out          []Entry
	errs         []error
}

func (x *extractor) param(p *param, resource map[string]any) {
	switch {
	case p.expr == nil:
		return
	case p.def.Type == TypeComposite:
		x.composite(p, resource)
		return
	case p.def.Type == TypeSpecial:
		// NOTE: special parameters (such as Location near) produce no
		// entries, so search rejects them.
		return
	}
	x.values(&p.def, p.expr, resource)
}

// values adds the entries of def for the nodes that expr selects in tree.
func (x *extractor) values(def *Definition, expr *fhirpath.Expression, tree map[string]any) {
	nodes, err := expr.Evaluate(tree)
	if err != nil {
		x.errs = append(x.errs, fmt.Errorf("searchparam: %s parameter %s: %w", x.resourceType, def.Code, err))
		return
	}
	x.def = def
	start := len(x.out)
	for _, n := range nodes {
		switch def.Type {
		case TypeString:
			x.addString(n)
		case TypeToken:
			x.addToken(n)
		case TypeDate:
			x.addDate(n)
		case TypeReference:
			x.addReference(n)
		case TypeNumber:
			if num, ok := n.Value.(json.Number); ok {
				x.addNumber(Entry{}, string(num))
			}
		case TypeQuantity:
			x.addQuantity(n)
		case TypeURI:
			if s, ok := n.Value.(string); ok && s != "" {
				x.add(Entry{Exact: s})
			}
		}
	}
	x.out = append(x.out[:start], dedupe(x.out[start:])...)
}

// composite indexes each element that a composite parameter's expression
// selects: component k of element g becomes entries of the component's
// type under CompositeParam(code, g, k), so search can require all
// components to match within one element.
func (x *extractor) composite(p *param, resource map[string]any) {
	if p.components == nil {
		return
	}
	elements, err := p.expr.Evaluate(resource)
	if err != nil {
		x.errs = append(x.errs, fmt.Errorf("searchparam: %s parameter %s: %w", x.resourceType, p.def.Code, err))
		return
	}
	for g, element := range elements {
		tree, ok := element.Value.(map[string]any)
		if !ok {
			continue
		}
		start := len(x.out)
		for k, c := range p.components {
			before := len(x.out)
			def := Definition{Code: CompositeParam(p.def.Code, g, k+1), Type: c.typ, Expression: c.expr.String()}
			x.values(&def, c.expr, tree)
			if len(x.out) == before {
				// An element missing a component can never match, so
				// none of its rows are kept.
				x.out = x.out[:start]
				break
			}
		}
	}
}

// add appends e after setting its parameter code and type.
func (x *extractor) add(e Entry) {
	e.Param = x.def.Code
	e.Type = x.def.Type
	e.Identifier = x.def.Identifier && e.Type == TypeToken
	x.out = append(x.out, e)
}

func (x *extractor) invalid(err error) {
	x.errs = append(x.errs, fmt.Errorf("searchparam: %s parameter %s (%s): %w",
		x.resourceType, x.def.Code, x.def.Expression, err))
}

// dedupeScanMax is the length up to which dedupe compares every pair,
// which is cheaper than building a set for the few entries most parameters
// have.
const dedupeScanMax = 16

// dedupe removes repeated entries in place, keeping the first of each.
// Lists longer than dedupeScanMax go through a set, so that a resource
// with thousands of values of one parameter costs linear time.
func dedupe(entries []Entry) []Entry {
	out := entries[:0]
	if len(entries) > dedupeScanMax {
		seen := make(map[Entry]struct{}, len(entries))
		for _, e := range entries {
			if _, dup := seen[e]; !dup {
				seen[e] = struct{}{}
				out = append(out, e)
			}
		}
		return out
	}
	for _, e := range entries {
		seen := false
		for _, kept := range out {
			if kept == e {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, e)
		}
	}
	return out
}

// stringFields lists the parts of HumanName and Address that string
// parameters such as name and address match, each as its own entry.
var stringFields = []string{
	"family", "given", "prefix", "suffix", "text",
	"line", "city", "district", "state", "postalCode", "country",
}

func (x *extractor) addString(n fhirpath.Node) {
	switch v := n.Value.(type) {
	case string:
		x.addText(v)
	case map[string]any:
		for _, field := range stringFields {
			switch f := v[field].(type) {
			case string:
				x.addText(f)
			case []any:
				for _, item := range f {
					if s, ok := item.(string); ok {
						x.addText(s)
					}
				}
			}
		}
	}
}

func (x *extractor) addText(s string) {
	if s != "" {
		x.add(Entry{Text: FoldString(s), Exact: norm.NFC.String(s)})
	}
}

func (x *extractor) addToken(n fhirpath.Node) {
	switch v := n.Value.(type) {
	case string:
		if v != "" {
			x.add(Entry{Code: v})
		}
	case bool:
		x.add(Entry{Code: strconv.FormatBool(v)})
	case json.Number:
		x.add(Entry{Code: string(v)})
	case map[string]any:
		_, hasCoding := v["coding"]
		_, hasValue := v["value"]
		_, hasCode := v["code"]
		_, hasSystem := v["system"]
		switch {
		case hasCoding || n.Type == "CodeableConcept":
			x.addCodeableConcept(v)
		case hasValue:
			// Identifier and ContactPoint: the system and the value.
			x.add(Entry{System: stringOf(v["system"]), Code: stringOf(v["value"])})
			x.addIdentifierTypes(v)
		case hasCode || hasSystem:
			x.addCoding(v)
		default:
			if text := stringOf(v["text"]); text != "" {
				x.add(Entry{Text: FoldString(text)})
			}
		}
	}
}

// addIdentifierTypes adds, for each coding of an Identifier's type, an
// entry for the :of-type modifier: the value in Code and the type's system
// and code, joined by "|", in System.
func (x *extractor) addIdentifierTypes(v map[string]any) {
	typ, ok := v["type"].(map[string]any)
	value := stringOf(v["value"])
	if !ok || value == "" {
		return
	}
	codings, _ := typ["coding"].([]any)
	for _, c := range codings {
		coding, ok := c.(map[string]any)
		if !ok || stringOf(coding["code"]) == "" {
			continue
		}
		x.out = append(x.out, Entry{Param: OfTypeParam(x.def.Code), Type: TypeToken,
			System: OfTypeSystem(stringOf(coding["system"]), stringOf(coding["code"])), Code: value, Identifier: true})
	}
}

// IdentifierParam returns the index parameter name of the identifiers in
// the references of parameter code, for the :identifier modifier.
func IdentifierParam(code string) string { return code + ":identifier" }

// OfTypeParam returns the index parameter name of the typed identifiers
// of parameter code, for the :of-type modifier.
func OfTypeParam(code string) string { return code + ":of-type" }

// OfTypeSystem returns the stored system of an :of-type entry: the
// identifier type's system and code.
func OfTypeSystem(system, code string) string { return system + "|" + code }

// addCodeableConcept adds an entry per coding and, when the concept has a
// text, an entry holding only that text.
func (x *extractor) addCodeableConcept(v map[string]any) {
	codings, _ := v["coding"].([]any)
	for _, c := range codings {
		if coding, ok := c.(map[string]any); ok {
			x.addCoding(coding)
		}
	}
	if text := stringOf(v["text"]); text != "" {
		x.add(Entry{Text: FoldString(text)})
	}
}

func (x *extractor) addCoding(v map[string]any) {
	e := Entry{System: stringOf(v["system"]), Code: stringOf(v["code"])}
	if display := stringOf(v["display"]); display != "" {
		e.Text = FoldString(display)
	}
	if e != (Entry{}) {
		x.add(e)
	}
}

// stringOf returns v when it is a string or number, and "" otherwise.
func stringOf(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	}
	return ""
}

func (x *extractor) addDate(n fhirpath.Node) {
	switch v := n.Value.(type) {
	case string:
		switch n.Type {
		case "", "date", "dateTime", "instant":
		default:
			// A choice element of another type, such as the free text of
			// CarePlan.activity.detail.scheduledString.
			return
		}
		lo, hi, err := ParseDate(v)
		if err != nil {
			x.invalid(err)
			return
		}
		x.add(Entry{DateLo: lo, DateHi: hi})
	case map[string]any:
		if _, isTiming := v["event"]; isTiming || v["repeat"] != nil {
			x.addTiming(v)
			return
		}
		if lo, hi, ok := x.period(v); ok {
			x.add(Entry{DateLo: lo, DateHi: hi})
		}
	}
}

// period returns the range of a Period. An open start or end is
// math.MinInt64 or math.MaxInt64. ok is false for a Period with neither.
func (x *extractor) period(v map[string]any) (lo, hi int64, ok bool) {
	lo, hi = math.MinInt64, math.MaxInt64
	if start, isString := v["start"].(string); isString {
		l, _, err := ParseDate(start)
		if err != nil {
			x.invalid(err)
			return 0, 0, false
		}
		lo, ok = l, true
	}
	if end, isString := v["end"].(string); isString {
		_, h, err := ParseDate(end)
		if err != nil {
			x.invalid(err)
			return 0, 0, false
		}
		hi, ok = h, true
	}
	return lo, hi, ok
}

// addTiming adds one entry covering the outer limits of a Timing: its
// events and its repeat.boundsPeriod. FHIR R4 search matches a Timing by
// these limits only, ignoring the schedule inside them.
func (x *extractor) addTiming(v map[string]any) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	found := false
	events, _ := v["event"].([]any)
	for _, item := range events {
		s, ok := item.(string)
		if !ok {
			continue
		}
		l, h, err := ParseDate(s)
		if err != nil {
			x.invalid(err)
			continue
		}
		lo, hi, found = min(lo, l), max(hi, h), true
	}
	repeat, _ := v["repeat"].(map[string]any)
	if bounds, ok := repeat["boundsPeriod"].(map[string]any); ok {
		if l, h, ok := x.period(bounds); ok {
			lo, hi, found = min(lo, l), max(hi, h), true
		}
	}
	// NOTE: repeat.boundsDuration and boundsRange are not used, so a Timing
	// bounded only by them has no entry.
	if found {
		x.add(Entry{DateLo: lo, DateHi: hi})
	}
}

func (x *extractor) addReference(n fhirpath.Node) {
	switch v := n.Value.(type) {
	case string:
		// A canonical or uri element of a reference parameter.
		if v != "" {
			x.add(Entry{Exact: v})
		}
	case map[string]any:
		if id, ok := v["identifier"].(map[string]any); ok && stringOf(id["value"]) != "" {
			// Reference.identifier, matched by the :identifier modifier.
			x.out = append(x.out, Entry{Param: IdentifierParam(x.def.Code), Type: TypeToken,
				System: stringOf(id["system"]), Code: stringOf(id["value"]), Identifier: true})
		}
		if ref, ok := v["reference"].(string); ok && ref != "" {
			e := Entry{Exact: ref}
			e.RefType, e.RefID, e.RefVersion, _ = fhirpath.ParseReference(ref)
			x.add(e)
			return
		}
		// A resource reached by the expression itself, such as
		// Bundle.entry[0].resource for the Bundle composition parameter.
		resourceType, _ := v["resourceType"].(string)
		id, _ := v["id"].(string)
		if resourceType != "" && id != "" {
			x.add(Entry{Exact: resourceType + "/" + id, RefType: resourceType, RefID: id})
		}
	}
}

// addNumber sets the number fields of e from the JSON number lexical form
// and adds it.
func (x *extractor) addNumber(e Entry, lexical string) {
	v, lo, hi, err := ParseNumber(lexical)
	if err != nil {
		x.invalid(err)
		return
	}
	e.Num, e.NumLo, e.NumHi = v, lo, hi
	x.add(e)
}

// addQuantity adds a Quantity (or Age, Count, Distance, Duration,
// SimpleQuantity) with its unit system and code, falling back to the unit
// when the code is missing, or a Money with its currency.
func (x *extractor) addQuantity(n fhirpath.Node) {
	v, ok := n.Value.(map[string]any)
	if !ok {
		return
	}
	// NOTE: Range, Ratio and SampledData values of quantity parameters,
	// such as the Range values of context-quantity, produce no entries.
	num, ok := v["value"].(json.Number)
	if !ok {
		return
	}
	var e Entry
	if currency := stringOf(v["currency"]); currency != "" {
		e.System, e.Code = currencySystem, currency
	} else {
		e.System, e.Code = stringOf(v["system"]), stringOf(v["code"])
		if e.Code == "" {
			e.Code = stringOf(v["unit"])
		}
	}
	x.addNumber(e, string(num))
}

package emr

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// SearchResult is one page of a search.
type SearchResult struct {
	Resources []Resource
	// Included holds the resources _include and _revinclude added.
	Included []Resource
	// Total is the number of all matches, or -1 when not counted.
	Total int
	// Next holds the query of the next page (with the paging cursor in
	// _cursor), nil on the last page.
	Next url.Values
	// Self is the query as understood, in canonical order.
	Self url.Values
}

// Control parameters that search understands besides search parameters.
const (
	paramCount   = "_count"
	paramCursor  = "_cursor"
	paramSort    = "_sort"
	paramSummary = "_summary"
	paramTotal   = "_total"
)

// MaxSearchConditions bounds the conditions of one search: each value of
// each parameter counts once. Larger searches are rejected, because their
// SQL grows with every condition and PostgreSQL plans many nested
// subqueries slowly.
const MaxSearchConditions = 64

// ignoredParams are handled by the HTTP layer and never reach the index.
var ignoredParams = map[string]bool{"_format": true, "_pretty": true}

// Search runs a FHIR search on resources of type typ.
//
// It supports every string, token, date, reference, number, quantity, uri
// and composite parameter of the R4 definitions, with _id, _lastUpdated
// and _list. The modifiers are :missing (all types), :exact and :contains
// (string), :not, :text and :of-type (token), :below and :above (uri),
// :identifier and reference types such as subject:Patient (reference).
// _text, _content and the special parameters such as Location near are
// rejected with ErrUnsupported. Chained parameters (subject:Patient.name) and _has
// work, as do the prefixes eq, ne, lt, le, gt, ge, sa, eb and ap.
// Comma-separated values are alternatives and repeated parameters must
// all hold. _sort, _include and _revinclude (with :iterate), _count,
// _summary=count and _total complete it. Anything else is rejected with
// ErrInvalid or ErrUnsupported rather than ignored.
func (s *Service) Search(ctx context.Context, typ string, params url.Values) (*SearchResult, error) {
	includes := url.Values{}
	rest := url.Values{}
	for key, values := range params {
		name, _, _ := strings.Cut(key, ":")
		if name == paramInclude || name == paramRevinclude {
			includes[key] = values
		} else {
			rest[key] = values
		}
	}
	var specs []includeSpec
	for key, values := range includes {
		parsed, err := s.parseIncludes(typ, key, values)
		if err != nil {
			return nil, err
		}
		specs = append(specs, parsed...)
	}
	q, self, err := s.ParseSearch(typ, rest)
	if err != nil {
		return nil, err
	}
	for key, values := range includes {
		self[key] = values
	}
	page, err := s.store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	res := &SearchResult{Resources: page.Resources, Total: page.Total, Self: self}
	if len(specs) > 0 && len(page.Resources) > 0 {
		res.Included, err = s.resolveIncludes(ctx, page.Resources, specs)
		if err != nil {
			return nil, err
		}
	}
	if page.Next > 0 {
		next := url.Values{}
		for k, v := range self {
			next[k] = v
		}
		next.Set(paramCursor, s.encodeCursor(q, page.Next, page.NextValues))
		res.Next = next
	}
	return res, nil
}

// ParseSearch compiles search parameters into a store Query and returns the
// parameters it used, without the paging cursor. A _cursor must come from
// a next link of the same search (the same type, conditions and _sort;
// _count may differ), else ParseSearch rejects it with ErrInvalid.
func (s *Service) ParseSearch(typ string, params url.Values) (Query, url.Values, error) {
	if err := s.checkType(typ); err != nil {
		return Query{}, nil, err
	}
	q := Query{Type: typ, Count: s.cfg.DefaultCount}
	self := url.Values{}
	conditions := 0
	for key, values := range params {
		for _, v := range values {
			if !utf8.ValidString(key) || !utf8.ValidString(v) || strings.ContainsRune(key+v, 0) {
				return q, nil, malformed("", "search parameters must be valid UTF-8 text without NUL characters")
			}
			if !ignoredParams[key] && key != paramCount && key != paramCursor && key != paramSort &&
				key != paramSummary && key != paramTotal {
				conditions += 1 + strings.Count(v, ",")
			}
		}
	}
	if conditions > MaxSearchConditions {
		return q, nil, badSearch("", "too-costly", "search has %d conditions, the maximum is %d", conditions, MaxSearchConditions)
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	cursor := ""
	for _, key := range names {
		values := params[key]
		if ignoredParams[key] {
			continue
		}
		switch key {
		case paramCount:
			n, err := strconv.Atoi(last(values))
			if err != nil || n < 0 {
				return q, nil, badSearch(key, "value", "_count must be a non-negative integer")
			}
			if n == 0 {
				q.CountOnly = true
				self.Set(key, "0")
				continue
			}
			q.Count = s.pageSize(n)
			self.Set(key, strconv.Itoa(q.Count))
			continue
		case paramCursor:
			cursor = last(values)
			continue
		case paramSort:
			keys, err := s.parseSort(typ, values)
			if err != nil {
				return q, nil, err
			}
			q.Sort = keys
			self[key] = values
			continue
		case paramSummary:
			switch last(values) {
			case "count":
				q.CountOnly = true
			case "false":
			default:
				return q, nil, fmt.Errorf("search: this value of _summary: %w", ErrUnsupported)
			}
			self.Set(key, last(values))
			continue
		case paramTotal:
			switch last(values) {
			case "accurate", "estimate":
				q.Total = true
			case "none":
			default:
				return q, nil, badSearch(key, "value", "_total must be none, estimate or accurate")
			}
			self.Set(key, last(values))
			continue
		}
		for _, v := range values {
			clause, err := s.parseParam(typ, key, v)
			if err != nil {
				return q, nil, err
			}
			q.Where = append(q.Where, clause)
			self.Add(key, v)
		}
	}
	if cursor != "" {
		if err := s.decodeCursor(&q, cursor); err != nil {
			return q, nil, err
		}
	}
	return q, self, nil
}

// parseSort reads _sort: comma-separated parameter names, each with an
// optional "-" for descending order.
func (s *Service) parseSort(typ string, values []string) ([]SortKey, error) {
	var keys []SortKey
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			desc := strings.HasPrefix(name, "-")
			name = strings.TrimPrefix(name, "-")
			key := SortKey{Param: name, Desc: desc}
			switch name {
			case "_id":
				key.Kind = CondID
			case "_lastUpdated":
				key.Kind = CondLastUpdated
			default:
				def, ok := s.cfg.Registry.Lookup(typ, name)
				if !ok || def.Expression == "" {
					return nil, badSearch(paramSort, "not-supported", "cannot sort %s by unknown parameter %s", typ, name)
				}
				kind, ok := condKinds[def.Type]
				if !ok {
					return nil, badSearch(paramSort, "not-supported", "cannot sort by %s parameter %s", def.Type, name)
				}
				key.Kind, key.Param = kind, def.Code
			}
			keys = append(keys, key)
		}
	}
	if len(keys) > 8 {
		return nil, badSearch(paramSort, "too-costly", "_sort takes at most 8 keys")
	}
	return keys, nil
}

func last(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[len(values)-1]
}

// parseParam compiles one name=value pair; commas in value separate
// alternatives, and \, is a literal comma.
func (s *Service) parseParam(typ, key, value string) (Clause, error) {
	if strings.HasPrefix(key, "_has:") {
		return s.parseHas(typ, key, value)
	}
	if head, rest, ok := strings.Cut(key, "."); ok {
		return s.parseChain(typ, head, rest, value)
	}
	name, modifier, _ := strings.Cut(key, ":")
	var clause Clause
	for _, alt := range splitValues(value) {
		c, err := s.parseCond(typ, name, modifier, alt)
		if err != nil {
			return nil, err
		}
		clause = append(clause, c)
	}
	if len(clause) == 0 {
		return nil, badSearch(key, "value", "search parameter %s has an empty value", key)
	}
	return clause, nil
}

// parseChain reads a chained parameter such as subject:Patient.name, where
// head is "subject:Patient" and rest is "name".
func (s *Service) parseChain(typ, head, rest, value string) (Clause, error) {
	name, target, _ := strings.Cut(head, ":")
	def, ok := s.cfg.Registry.Lookup(typ, name)
	if !ok || def.Type != searchparam.TypeReference || def.Expression == "" {
		return nil, badSearch(head, "not-supported", "chained search needs a reference parameter of %s", typ)
	}
	if target == "" {
		if len(def.Targets) != 1 {
			return nil, badSearch(head, "invalid", "parameter %s may point to several types: name one, as in %s:Patient.%s", name, name, rest)
		}
		target = def.Targets[0]
	}
	if !IsResourceType(target) || !targetAllowed(def, target) {
		return nil, badSearch(head, "invalid", "parameter %s cannot point to %s", name, target)
	}
	inner, err := s.parseParam(target, rest, value)
	if err != nil {
		return nil, err
	}
	return Clause{{Kind: CondReference, Param: def.Code, Chain: &Nested{Type: target, Where: inner}}}, nil
}

// parseHas reads _has:Source:param:rest, which matches resources that a
// resource of type Source references through param and that matches
// rest=value.
func (s *Service) parseHas(typ, key, value string) (Clause, error) {
	parts := strings.SplitN(key, ":", 4)
	if len(parts) != 4 || !IsResourceType(parts[1]) {
		return nil, badSearch("_has", "invalid", "_has must be _has:Type:reference-parameter:parameter")
	}
	source, param, rest := parts[1], parts[2], parts[3]
	def, ok := s.cfg.Registry.Lookup(source, param)
	if !ok || def.Type != searchparam.TypeReference || def.Expression == "" || !targetAllowed(def, typ) {
		return nil, badSearch("_has", "invalid", "_has needs a reference parameter of %s that can point to %s", source, typ)
	}
	inner, err := s.parseParam(source, rest, value)
	if err != nil {
		return nil, err
	}
	return Clause{{Param: def.Code, Has: &Nested{Type: source, Where: inner}}}, nil
}

// splitValues splits a search value at commas that are not escaped. The
// FHIR escapes \, \| \$ and \\ are kept in each part, so a later split at
// "|" can tell an escaped bar from a separator; unescape removes them.
func splitValues(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '\\' && i+1 < len(v):
			cur.WriteByte(v[i])
			cur.WriteByte(v[i+1])
			i++
		case v[i] == ',':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(v[i])
		}
	}
	out = append(out, cur.String())
	kept := out[:0]
	for _, s := range out {
		if s != "" {
			kept = append(kept, s)
		}
	}
	return kept
}

// cutUnescaped splits s around the first sep not escaped by a backslash.
func cutUnescaped(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// unescape removes the backslash of the FHIR search escapes \, \| \$ and
// \\.
func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var datePrefixes = []string{"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

func splitPrefix(v string) (string, string) {
	if len(v) > 2 {
		for _, p := range datePrefixes {
			if strings.HasPrefix(v, p) {
				return p, v[2:]
			}
		}
	}
	return "eq", v
}

func (s *Service) parseCond(typ, name, modifier, value string) (Cond, error) {
	switch name {
	case "_id":
		if modifier != "" {
			return Cond{}, fmt.Errorf("search: modifier :%s on _id: %w", modifier, ErrUnsupported)
		}
		return Cond{Kind: CondID, Param: name, IDs: []string{unescape(value)}}, nil
	case "_lastUpdated":
		if modifier != "" {
			return Cond{}, fmt.Errorf("search: modifier :%s on _lastUpdated: %w", modifier, ErrUnsupported)
		}
		prefix, v := splitPrefix(value)
		lo, hi, err := searchparam.ParseDate(v)
		if err != nil {
			return Cond{}, badSearch(name, "value", "_lastUpdated must be a FHIR date, dateTime or instant with an optional prefix")
		}
		return Cond{Kind: CondLastUpdated, Param: name, Prefix: prefix, Lo: lo, Hi: hi}, nil
	case "_list":
		if modifier != "" {
			return Cond{}, fmt.Errorf("search: modifier :%s on _list: %w", modifier, ErrUnsupported)
		}
		// Matches the resources that the List with this id names in
		// List.entry.item.
		list := Clause{{Kind: CondID, Param: "_id", IDs: []string{unescape(value)}}}
		return Cond{Param: "item", Has: &Nested{Type: "List", Where: list}}, nil
	}
	def, ok := s.cfg.Registry.Lookup(typ, name)
	if !ok {
		return Cond{}, badSearch(name, "not-supported", "unknown search parameter %s for %s", name, typ)
	}
	if def.Expression == "" {
		return Cond{}, fmt.Errorf("search: parameter %s has no expression to index: %w", name, ErrUnsupported)
	}
	if def.Type == searchparam.TypeComposite {
		return s.parseComposite(typ, def, modifier, value)
	}
	return parseDefinedCond(def, name, modifier, value)
}

// parseDefinedCond compiles one value of the parameter def, which is
// called name in the request.
func parseDefinedCond(def searchparam.Definition, name, modifier, value string) (Cond, error) {
	c := Cond{Param: def.Code}
	badModifier := func() (Cond, error) {
		return Cond{}, fmt.Errorf("search: modifier :%s on %s parameter %s: %w", modifier, def.Type, name, ErrUnsupported)
	}
	if modifier == "missing" {
		kind, ok := condKinds[def.Type]
		if !ok {
			return badModifier()
		}
		var missing bool
		switch value {
		case "true":
			missing = true
		case "false":
		default:
			return Cond{}, badSearch(name+":missing", "value", ":missing takes true or false")
		}
		return Cond{Kind: kind, Param: def.Code, Missing: &missing}, nil
	}
	switch def.Type {
	case searchparam.TypeString:
		c.Kind = CondString
		switch modifier {
		case "":
			c.Mode, c.Text = StringPrefix, searchparam.FoldString(unescape(value))
		case "contains":
			c.Mode, c.Text = StringContains, searchparam.FoldString(unescape(value))
		case "exact":
			c.Mode, c.Text = StringExact, nfc(unescape(value))
		default:
			return badModifier()
		}
	case searchparam.TypeToken:
		c.Kind = CondToken
		switch modifier {
		case "":
		case "not":
			c.Not = true
		case "text":
			c.TokenText, c.Text = true, searchparam.FoldString(unescape(value))
			return c, nil
		case "of-type":
			return parseOfType(def, value)
		default:
			return badModifier()
		}
		if sys, code, ok := cutUnescaped(value, '|'); ok {
			sys, code = unescape(sys), unescape(code)
			c.System, c.Code = &sys, code
		} else {
			c.Code = unescape(value)
		}
	case searchparam.TypeDate:
		if modifier != "" {
			return badModifier()
		}
		prefix, v := splitPrefix(value)
		lo, hi, err := searchparam.ParseDate(v)
		if err != nil {
			return Cond{}, badSearch(name, "value", "%s must be a FHIR date, dateTime or instant with an optional prefix", name)
		}
		c.Kind, c.Prefix, c.Lo, c.Hi = CondDate, prefix, lo, hi
		if prefix == "ne" {
			c.Prefix, c.Not = "eq", true
		}
	case searchparam.TypeNumber, searchparam.TypeQuantity:
		if modifier != "" {
			return badModifier()
		}
		prefix, v := splitPrefix(value)
		var unitSystem, unitCode string
		hasUnit := false
		if def.Type == searchparam.TypeQuantity {
			if num, rest, ok := strings.Cut(v, "|"); ok {
				v = num
				unitSystem, unitCode, _ = strings.Cut(rest, "|")
				if strings.Contains(unitCode, "|") {
					return Cond{}, badSearch(name, "value", "%s must be number|system|code", name)
				}
				hasUnit = true
			}
		}
		num, lo, hi, err := searchparam.ParseNumber(v)
		if err != nil {
			return Cond{}, badSearch(name, "value", "%s must be a number with an optional prefix", name)
		}
		c.Kind, c.Prefix, c.Num, c.NumLo, c.NumHi = CondNumber, prefix, num, lo, hi
		if prefix == "ne" {
			c.Prefix, c.Not = "eq", true
		}
		if hasUnit {
			c.Code = unitCode
			if unitSystem != "" {
				c.System = &unitSystem
			}
		}
	case searchparam.TypeReference:
		c.Kind = CondReference
		if modifier == "identifier" {
			return parseReferenceIdentifier(def, value), nil
		}
		if modifier != "" {
			if !IsResourceType(modifier) || !targetAllowed(def, modifier) {
				return badModifier()
			}
			c.RefType = modifier
		}
		parseReferenceValue(&c, unescape(value))
	case searchparam.TypeURI:
		switch modifier {
		case "":
		case "below":
			c.URIMode = URIBelow
		case "above":
			c.URIMode = URIAbove
		default:
			return badModifier()
		}
		c.Kind, c.Text = CondURI, unescape(value)
	default:
		return Cond{}, fmt.Errorf("search: %s parameter %s: %w", def.Type, name, ErrUnsupported)
	}
	return c, nil
}

// condKinds maps search parameter types to the index they read.
var condKinds = map[searchparam.Type]CondKind{
	searchparam.TypeString: CondString, searchparam.TypeToken: CondToken, searchparam.TypeDate: CondDate,
	searchparam.TypeNumber: CondNumber, searchparam.TypeQuantity: CondNumber,
	searchparam.TypeReference: CondReference, searchparam.TypeURI: CondURI,
}

// targetAllowed reports whether a reference parameter may point to typ.
// A parameter that lists no targets may point to any type.
func targetAllowed(def searchparam.Definition, typ string) bool {
	if len(def.Targets) == 0 {
		return true
	}
	for _, t := range def.Targets {
		if t == typ {
			return true
		}
	}
	return false
}

// parseReferenceValue reads Type/id, a bare id, Type/id/_history/n or an
// absolute URL.
func parseReferenceValue(c *Cond, value string) {
	if strings.Contains(value, "://") || strings.HasPrefix(value, "urn:") {
		c.URL = value
		return
	}
	parts := strings.Split(value, "/")
	if len(parts) >= 4 && parts[len(parts)-2] == "_history" {
		parts = parts[:len(parts)-2]
	}
	switch len(parts) {
	case 1:
		c.RefID = parts[0]
	default:
		c.RefType, c.RefID = parts[len(parts)-2], parts[len(parts)-1]
	}
}

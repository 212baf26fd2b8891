package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"

	"github.com/nexus-health-360/nexus/emr"
)

// keptElementService is the optional part of a BillingService that
// keeps the elements of a resource the billing model has no field for.
// *billing.Service implements it. Without it, or when its store keeps
// nothing, a body with such an element is rejected with 422.
type keptElementService interface {
	KeepsElements() bool
	KeepElements(ctx context.Context, kind, id string, version int64, doc []byte) error
	KeptElements(ctx context.Context, kind, id string, version int64) ([]byte, error)
}

// Markers of the kept document. FHIR element names never start with
// "~", so they cannot clash with an element.
const (
	// keptAppend holds whole extensions the server does not read. They
	// are appended to the extensions the server writes.
	keptAppend = "~append"
	// keptItems holds, for an array of modelled items, one entry per
	// sent item that had unmodelled elements.
	keptItems = "~items"
)

// keptItem is an entry of keptItems: the index and the whole item as
// sent, which locate the rendered item to merge into, and the item's
// unmodelled elements. Item is only compared, never rendered, so amounts
// always come from the billing service.
type keptItem struct {
	At   int            `json:"at"`
	Item any            `json:"item"`
	Kept map[string]any `json:"kept"`
}

// keptModelled lists, by path without indexes, the elements a model has
// a field for that the billing service does not store, which are kept
// like unmodelled ones. The service stores one service time, the start
// of a ChargeItem's occurrencePeriod.
var keptModelled = map[string]bool{
	"ChargeItem.occurrencePeriod.end": true,
}

func (h *handler) keptService() (keptElementService, bool) {
	k, ok := h.cfg.Billing.(keptElementService)
	if !ok || !k.KeepsElements() {
		return nil, false
	}
	return k, true
}

// splitBillingElements returns the elements of body that model, the
// struct the body decodes into, has no json field for, as a document
// that mergeKept can put back. It returns nil when every element is
// modelled. Extensions need a URL that billingExtensions lists for their
// place, or they are kept whole. A modifierExtension or implicitRules is
// rejected, because the billing service cannot apply what it changes.
// Without a kept-element store, the first unmodelled element is rejected
// with 422, so nothing a client sends is dropped.
func (h *handler) splitBillingElements(typ string, body []byte, model any) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, malformedBody("the body must be a JSON " + typ + " resource")
	}
	delete(doc, "resourceType")
	delete(doc, "id")
	s := &splitter{}
	kept, err := s.splitObject(typ, doc, reflect.TypeOf(model))
	if err != nil || kept == nil {
		return nil, err
	}
	if _, ok := h.keptService(); !ok {
		return nil, unprocessable(s.first, "the billing service has no place to store this element, so the resource is rejected rather than stored without it")
	}
	return kept, nil
}

// splitter walks a body, recording the path of the first kept element.
type splitter struct{ first string }

func (s *splitter) keep(path string) {
	if s.first == "" {
		s.first = path
	}
}

func (s *splitter) splitObject(path string, value map[string]any, t reflect.Type) (map[string]any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, nil
	}
	fields := jsonFields(t)
	kept := map[string]any{}
	for _, key := range sortedKeys(value) {
		at := path + "." + key
		if key == "modifierExtension" || key == "implicitRules" {
			return nil, unprocessable(at, "the billing service cannot apply an element that changes the meaning of the resource")
		}
		field, ok := fields[key]
		if !ok || keptModelled[arrayIndex.ReplaceAllString(at, "")] {
			s.keep(at)
			kept[key] = value[key]
			continue
		}
		sub, err := s.splitValue(at, value[key], field)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			kept[key] = sub
		}
	}
	if t == reflect.TypeFor[billingExtension]() {
		if err := checkExtensionURL(path, value["url"]); err != nil {
			return nil, err
		}
	}
	if len(kept) == 0 {
		return nil, nil
	}
	return kept, nil
}

func (s *splitter) splitValue(path string, v any, t reflect.Type) (any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch value := v.(type) {
	case map[string]any:
		kept, err := s.splitObject(path, value, t)
		if kept == nil || err != nil {
			return nil, err
		}
		return kept, nil
	case []any:
		if t.Kind() != reflect.Slice {
			return nil, nil
		}
		if t.Elem() == reflect.TypeFor[billingExtension]() {
			return s.splitExtensions(path, value)
		}
		var items []keptItem
		for i, item := range value {
			obj, ok := item.(map[string]any)
			if !ok {
				continue
			}
			kept, err := s.splitObject(path+"["+strconv.Itoa(i)+"]", obj, t.Elem())
			if err != nil {
				return nil, err
			}
			if kept != nil {
				items = append(items, keptItem{At: i, Item: obj, Kept: kept})
			}
		}
		if len(items) == 0 {
			return nil, nil
		}
		return map[string]any{keptItems: items}, nil
	}
	return nil, nil
}

// splitExtensions keeps whole the extensions whose URL the server does
// not read at path. An extension the server reads must hold only the
// elements the server reads.
func (s *splitter) splitExtensions(path string, exts []any) (any, error) {
	var kept []any
	for i, ext := range exts {
		at := path + "[" + strconv.Itoa(i) + "]"
		obj, ok := ext.(map[string]any)
		if !ok {
			return nil, unprocessable(at, "an extension must be a JSON object")
		}
		if checkExtensionURL(at, obj["url"]) != nil {
			s.keep(at)
			kept = append(kept, obj)
			continue
		}
		sub, err := s.splitObject(at, obj, reflect.TypeFor[billingExtension]())
		if err != nil {
			return nil, err
		}
		if sub != nil {
			return nil, unprocessable(at, "an extension the billing service reads may hold only its url and value")
		}
	}
	if kept == nil {
		return nil, nil
	}
	return map[string]any{keptAppend: kept}, nil
}

// keepElements stores the kept document of a written resource, an empty
// object when nothing was kept, so a version never inherits the kept
// elements of an earlier one.
func (h *handler) keepElements(ctx context.Context, res *emr.Resource, kept map[string]any) error {
	k, ok := h.keptService()
	if !ok {
		return nil
	}
	if kept == nil {
		kept = map[string]any{}
	}
	doc, err := json.Marshal(kept)
	if err != nil {
		return err
	}
	return billingError(k.KeepElements(ctx, res.Type, res.ID, res.VersionID, doc))
}

// mergeKept adds the kept elements of res's version to its body. An
// element the billing mapping writes is never replaced, so amounts and
// states always come from the billing service.
func (h *handler) mergeKept(ctx context.Context, res *emr.Resource) error {
	k, ok := h.keptService()
	if !ok {
		return nil
	}
	doc, err := k.KeptElements(ctx, res.Type, res.ID, res.VersionID)
	if err != nil || len(doc) == 0 {
		return err
	}
	var kept, body map[string]any
	if err := decodeNumbers(doc, &kept); err != nil {
		return err
	}
	if len(kept) == 0 {
		return nil
	}
	if err := decodeNumbers(res.Body, &body); err != nil {
		return err
	}
	mergeObject(body, kept)
	joinOccurrence(body)
	merged, err := encodeJSON(body)
	if err != nil {
		return err
	}
	res.Body = merged
	return nil
}

// joinOccurrence renders a ChargeItem occurrence as one period when the
// kept elements hold the end of the period the client sent, because
// occurrence[x] takes one form and billing renders the start as
// occurrenceDateTime.
func joinOccurrence(body map[string]any) {
	p, ok := body["occurrencePeriod"].(map[string]any)
	start, hasStart := body["occurrenceDateTime"]
	if !ok || !hasStart {
		return
	}
	p["start"] = start
	delete(body, "occurrenceDateTime")
}

func decodeNumbers(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// mergeObject adds kept to body, leaving every element body has.
func mergeObject(body, kept map[string]any) {
	for _, key := range sortedKeys(kept) {
		value := kept[key]
		marked, _ := value.(map[string]any)
		switch {
		case marked[keptAppend] != nil:
			exts, _ := body[key].([]any)
			extra, _ := marked[keptAppend].([]any)
			body[key] = append(exts, extra...)
		case marked[keptItems] != nil:
			items, _ := body[key].([]any)
			body[key] = mergeItems(items, marked[keptItems])
		case body[key] == nil:
			body[key] = value
		default:
			cur, isObject := body[key].(map[string]any)
			if isObject && marked != nil {
				mergeObject(cur, marked)
			}
		}
	}
}

// mergeItems merges each kept item into the rendered item it was sent
// as: the first rendered item whose every element equals the sent one,
// else the item at the sent index. The rendered items can differ in
// order or number from the sent ones, because the server adds
// identifiers and price components. A kept item with no rendered item
// to merge into is appended, so it is not lost.
func mergeItems(items []any, raw any) []any {
	var entries []keptItem
	if encoded, err := json.Marshal(raw); err != nil || json.Unmarshal(encoded, &entries) != nil {
		return items
	}
	used := make([]bool, len(items))
	for _, e := range entries {
		target := -1
		for j, item := range items {
			if !used[j] && sameElements(item, e.Item) {
				target = j
				break
			}
		}
		if target < 0 && e.At < len(items) && !used[e.At] {
			target = e.At
		}
		if target < 0 {
			items = append(items, e.Kept)
			used = append(used, true)
			continue
		}
		used[target] = true
		if obj, ok := items[target].(map[string]any); ok {
			mergeObject(obj, e.Kept)
		}
	}
	return items
}

// sameElements reports whether every element of rendered equals the
// element of the same name in sent.
func sameElements(rendered, sent any) bool {
	r, ok := rendered.(map[string]any)
	s, ok2 := sent.(map[string]any)
	if !ok || !ok2 || len(r) == 0 {
		return false
	}
	for key, value := range r {
		a, err1 := json.Marshal(value)
		b, err2 := json.Marshal(s[key])
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

// writeBillingWritten stores the kept elements of a written resource,
// merges them into its body and writes it. The billing record is already
// written, so a failure to keep the elements returns 500 with the record
// stored without them.
// NOTE: the kept document is written in its own transaction after the
// billing record, so the two are not atomic.
func (h *handler) writeBillingWritten(x *exchange, kept map[string]any, status int, res *emr.Resource, action string) {
	if err := h.keepElements(x.ctx, res, kept); err != nil {
		h.fail(x, err)
		return
	}
	if err := h.mergeKept(x.ctx, res); err != nil {
		h.fail(x, err)
		return
	}
	h.writeWritten(x, status, res, action)
}

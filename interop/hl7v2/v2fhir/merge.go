package v2fhir

import (
	"slices"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
)

// mergeResource returns stored with the sent resource merged in, as Apply
// documents. Neither argument is changed.
func mergeResource(storedTree, sent map[string]any, e Entry) map[string]any {
	out := emr.CloneTree(storedTree)
	for k := range out {
		if inElements(k, e.replace) {
			delete(out, k)
		}
	}

	for k := range sent {
		// A choice element has one type at a time, so a sent
		// deceasedBoolean drops a stored deceasedDateTime.
		if group := choiceGroup(k); group != "" {
			for stored := range out {
				if stored != k && choiceGroup(stored) == group {
					delete(out, stored)
				}
			}
		}
	}

	for k, v := range sent {
		switch {
		case k == "resourceType" || k == "id" || k == "meta":
		case slices.Contains(e.keep, k) && out[k] != nil:
		case slices.Contains(e.union, k):
			out[k] = unionList(out[k], emr.CloneValue(v), k == "identifier")
		case slices.Contains(e.mergeObjects, k):
			merged, _ := out[k].(map[string]any)
			if merged == nil {
				merged = map[string]any{}
			}
			for mk, mv := range v.(map[string]any) {
				merged[mk] = emr.CloneValue(mv)
			}
			out[k] = merged
		case k == "location" && e.location != locationNone:
		default:
			out[k] = emr.CloneValue(v)
		}
	}

	if e.location != locationNone {
		var sentLocation map[string]any
		if list, ok := sent["location"].([]any); ok && len(list) > 0 {
			sentLocation, _ = emr.CloneValue(list[0]).(map[string]any)
		}
		list, _ := out["location"].([]any)
		list = mergeLocations(list, sentLocation, e.location, e.eventTime)
		if len(list) > 0 {
			out["location"] = list
		} else {
			delete(out, "location")
		}
	}

	for _, path := range e.Clear {
		deletePath(out, strings.Split(path, "."))
	}
	return out
}

// choiceGroups are the FHIR R4 choice elements (name[x]) of the resources
// that the mapping writes.
var choiceGroups = []string{"value", "effective", "deceased", "multipleBirth", "performed", "onset", "abatement"}

// choiceGroup returns the choice element that key is a type of, such as
// "value" for "valueQuantity", or "" when key is no choice type.
func choiceGroup(key string) string {
	for _, g := range choiceGroups {
		if len(key) > len(g) && strings.HasPrefix(key, g) && key[len(g)] >= 'A' && key[len(g)] <= 'Z' {
			return g
		}
	}
	return ""
}

// inElements reports whether key is one of elements, where "name[x]"
// means every type of the choice element name.
func inElements(key string, elements []string) bool {
	for _, el := range elements {
		if group, ok := strings.CutSuffix(el, "[x]"); ok && choiceGroup(key) == group || el == key {
			return true
		}
	}
	return false
}

// unionList appends the items of sent that stored lacks. Identifiers are
// the same when system and value are, and a sent identifier replaces the
// stored one with the same system and value.
func unionList(storedValue, sentValue any, identifiers bool) any {
	list, _ := storedValue.([]any)
	sentList, _ := sentValue.([]any)
	key := func(item any) string {
		if m, ok := item.(map[string]any); ok && identifiers {
			system, _ := m["system"].(string)
			value, _ := m["value"].(string)
			return system + "|" + value
		}
		b, _ := marshalJSON(item)
		return string(b)
	}
	index := map[string]int{}
	for i, item := range list {
		index[key(item)] = i
	}
	for _, item := range sentList {
		if i, ok := index[key(item)]; ok {
			list[i] = item
			continue
		}
		index[key(item)] = len(list)
		list = append(list, item)
	}
	return list
}

// mergeLocations applies the event's location policy to the stored
// Encounter.location list. A location that the event leaves becomes
// completed and its period ends at eventTime, unless it has an end. The
// sent location's period starts at eventTime, but the location that is
// active already keeps its own start.
func mergeLocations(list []any, sent map[string]any, policy locationPolicy, eventTime string) []any {
	var sentKey []byte
	if sent != nil {
		sentKey, _ = marshalJSON(sent["location"])
	}
	same := func(item any) bool {
		if sent == nil {
			return false
		}
		m, _ := item.(map[string]any)
		key, _ := marshalJSON(m["location"])
		return string(key) == string(sentKey)
	}

	if policy == locationCancelTransfer {
		// Only a location that a transfer added is dropped: with one
		// entry there was no transfer, and the entry is the admission's.
		if n := len(list); n > 1 && locationStatus(list[n-1]) == "active" && !same(list[n-1]) {
			list = list[:n-1]
		}
		if sent == nil && len(list) > 0 {
			reopenLocation(list[len(list)-1])
		}
	}

	if policy == locationRelease {
		for _, item := range list {
			if locationStatus(item) != "completed" {
				completeLocation(item, eventTime)
			}
		}
		return list
	}

	if sent != nil {
		if n := len(list); n > 0 && same(list[n-1]) {
			keepPeriod(sent, list[n-1])
			if policy == locationUpdate {
				if status := locationStatus(list[n-1]); status != "" {
					sent["status"] = status
				} else {
					delete(sent, "status")
				}
			} else {
				// The stay goes on, also after a cancelled transfer or
				// discharge that had ended it.
				reopenLocation(sent)
			}
			list[n-1] = sent
		} else {
			for _, item := range list {
				if locationStatus(item) == "active" {
					completeLocation(item, eventTime)
				}
			}
			list = append(list, sent)
		}
	}

	if policy == locationDischarge {
		for _, item := range list {
			if locationStatus(item) != "completed" {
				completeLocation(item, eventTime)
			}
		}
	}
	return list
}

func locationStatus(item any) string {
	m, _ := item.(map[string]any)
	s, _ := m["status"].(string)
	return s
}

// completeLocation marks a location left at eventTime.
func completeLocation(item any, eventTime string) {
	m, ok := item.(map[string]any)
	if !ok {
		return
	}
	m["status"] = "completed"
	if eventTime == "" {
		return
	}
	period, _ := m["period"].(map[string]any)
	if period == nil {
		period = map[string]any{}
		m["period"] = period
	}
	if _, ok := period["end"]; !ok {
		period["end"] = eventTime
	}
}

// reopenLocation makes a location active again and drops the end that
// leaving it gave its period.
func reopenLocation(item any) {
	m, ok := item.(map[string]any)
	if !ok {
		return
	}
	m["status"] = "active"
	if period, ok := m["period"].(map[string]any); ok {
		delete(period, "end")
		if len(period) == 0 {
			delete(m, "period")
		}
	}
}

// keepPeriod gives sent the period of the stored entry of the same
// location, so that a message that repeats the current location does not
// move when the stay began.
func keepPeriod(sent map[string]any, storedItem any) {
	stored, _ := storedItem.(map[string]any)
	if period, ok := stored["period"]; ok {
		sent["period"] = emr.CloneValue(period)
		return
	}
	delete(sent, "period")
}

// deletePath removes the element at path and every object that the
// removal leaves empty.
func deletePath(tree map[string]any, path []string) {
	if len(path) == 1 {
		delete(tree, path[0])
		return
	}
	child, ok := tree[path[0]].(map[string]any)
	if !ok {
		return
	}
	deletePath(child, path[1:])
	if len(child) == 0 {
		delete(tree, path[0])
	}
}

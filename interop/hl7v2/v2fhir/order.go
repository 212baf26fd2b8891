package v2fhir

import (
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
)

// resultOrder places one version of an Observation or DiagnosticReport in
// the life of its result, so that Apply can tell whether a message is
// newer than the stored version or a late copy of an older one.
type resultOrder struct {
	// rank orders the statuses: registered, then preliminary, final,
	// corrected and entered-in-error (see statusRanks).
	rank int
	// issued is when the version was released: OBR-22, else MSH-7.
	issued time.Time
	// effective is the clinically relevant time: OBX-14 or OBR-7.
	effective time.Time
}

// statusRanks orders the FHIR statuses that OBX-11 and OBR-25 map to. A
// result normally moves up: a correction (C) supersedes a final (F), which
// supersedes a preliminary (P). A cancellation ranks with preliminary, so
// it replaces a pending result but not a final one. entered-in-error (W,
// D) ranks highest, because it retracts whatever was released. Statuses
// not listed, unknown included, rank 0.
var statusRanks = map[string]int{
	"registered":       1,
	"partial":          2,
	"preliminary":      2,
	"cancelled":        2,
	"final":            3,
	"amended":          4,
	"corrected":        4,
	"entered-in-error": 5,
}

// orderOf returns the order of a mapped or stored resource from its
// status, issued and effective elements.
func orderOf(resource map[string]any) resultOrder {
	status, _ := resource["status"].(string)
	issued, _ := resource["issued"].(string)
	effective, _ := resource["effectiveDateTime"].(string)
	return resultOrder{
		rank:      statusRanks[status],
		issued:    parseFHIRTime(issued),
		effective: parseFHIRTime(effective),
	}
}

// olderThan reports whether o is a version that came before stored: a
// lower status rank, or the same rank with an earlier issued time, or
// with the same or unknown issued time an earlier effective time. A time
// that either side lacks does not decide, so a version without times is
// never held back by them.
func (o resultOrder) olderThan(stored resultOrder) bool {
	if o.rank != stored.rank {
		return o.rank < stored.rank
	}
	if cmp, ok := compareTimes(o.issued, stored.issued); ok && cmp != 0 {
		return cmp < 0
	}
	if cmp, ok := compareTimes(o.effective, stored.effective); ok {
		return cmp < 0
	}
	return false
}

// compareTimes compares two instants. ok is false when either is zero.
func compareTimes(a, b time.Time) (int, bool) {
	if a.IsZero() || b.IsZero() {
		return 0, false
	}
	return a.Compare(b), true
}

// fhirTimeLayouts are the FHIR dateTime and instant forms that the mapping
// writes, most precise first.
var fhirTimeLayouts = []string{time.RFC3339Nano, "2006-01-02", "2006-01", "2006"}

// parseFHIRTime reads a FHIR dateTime or instant, and returns the zero
// time for an empty or unreadable value. A date without a time is read as
// its first instant in UTC.
func parseFHIRTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range fhirTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// lateResultActivity is Provenance.activity.text of a late result.
const lateResultActivity = "HL7 v2 result received after a newer version; kept, not made current"

// lateProvenance returns a Provenance that keeps a late result: the
// resource the message mapped to, contained, with the current stored
// version it lost to as the target. recorded is Plan.Received, so the
// same message gives the same Provenance whenever MSH-7 has a time.
func lateProvenance(typ string, current *stored, late map[string]any, recorded string) map[string]any {
	contained := emr.CloneTree(late)
	contained["resourceType"] = typ
	contained["id"] = "result"
	delete(contained, "meta")
	p := map[string]any{
		"resourceType": "Provenance",
		"target": []any{map[string]any{
			"reference": typ + "/" + current.id + "/_history/" + strconv.FormatInt(current.version, 10),
		}},
		"activity": map[string]any{"text": lateResultActivity},
		"agent":    []any{map[string]any{"who": map[string]any{"display": "HL7 v2 interface"}}},
		"entity": []any{map[string]any{
			"role": "source",
			"what": map[string]any{"reference": "#result"},
		}},
		"contained": []any{contained},
	}
	if recorded != "" {
		p["recorded"] = recorded
	}
	return p
}

// isResultType reports whether typ is a resource type whose versions Apply
// orders by resultOrder.
func isResultType(typ string) bool {
	return typ == "Observation" || typ == "DiagnosticReport"
}

// instantOrEmpty returns t when it is a FHIR instant (a dateTime with a
// time of day), and "" for a date.
func instantOrEmpty(t string) string {
	if strings.Contains(t, "T") {
		return t
	}
	return ""
}

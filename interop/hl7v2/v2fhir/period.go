package v2fhir

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// Messages of the errors for a Period that would end before it starts,
// which FHIR R4 forbids (invariant per-1).
const (
	periodMessage = "Encounter.period would end before it starts: " +
		"the end time is earlier than the start time"
	periodEndMessage = "Encounter.period would end before it starts: " +
		"the end time is earlier than the stored start time"
	periodStartMessage = "Encounter.period would end before it starts: " +
		"the start time is later than the stored end time"
	locationPeriodMessage = "a period of Encounter.location would end before it starts: " +
		"the event time is earlier than the start of a stay that the event ends"
)

// A FHIR date without a time has no UTC offset, so the day it names may
// begin as early as it does at UTC+14:00 and end as late as it does at
// UTC-12:00, the extreme offsets in use.
const (
	dateEarliestShift = 14 * time.Hour
	dateLatestShift   = 12 * time.Hour
)

// endsBefore reports whether the FHIR dateTime end lies wholly before
// start: the latest instant that end can mean is earlier than the earliest
// instant that start can mean. A value means every instant its precision
// leaves open, so "2024-03" is all of March and "2024-03-01T08:00:00Z"
// the whole second. A value that does not parse never counts as before,
// because the clinical record's validation reports it.
func endsBefore(start, end string) bool {
	startLow, _, ok := instantRange(start)
	if !ok {
		return false
	}
	_, endHigh, ok := instantRange(end)
	// endHigh is exclusive, so the latest instant of end is just before it.
	return ok && endHigh <= startLow
}

// instantRange returns the half-open range [low, high) of instants, in
// microseconds since the Unix epoch, that a FHIR date or dateTime means,
// with its offset applied.
func instantRange(s string) (low, high int64, ok bool) {
	low, high, err := searchparam.ParseDate(s)
	if err != nil {
		return 0, 0, false
	}
	if !strings.Contains(s, "T") {
		low -= dateEarliestShift.Microseconds()
		high += dateLatestShift.Microseconds()
	}
	return low, high, true
}

// periodEndsBefore reports whether a Period object has a start and an end
// and ends before it starts.
func periodEndsBefore(period any) bool {
	m, _ := period.(map[string]any)
	start, _ := m["start"].(string)
	end, _ := m["end"].(string)
	return start != "" && end != "" && endsBefore(start, end)
}

// checkPeriods returns a located *Error when merged has a period that
// ends before it starts. merged is the Encounter that Apply would write
// for entry e, the sent resource merged into the stored match m. Periods
// equal to stored ones are not checked, so that a period stored that way
// does not block every later message of the visit.
func checkPeriods(e Entry, m *stored, sent, merged map[string]any) error {
	if e.Type != "Encounter" {
		return nil
	}
	if periodEndsBefore(merged["period"]) && !reflect.DeepEqual(merged["period"], m.tree["period"]) {
		// Convert rejects a message whose own start and end disagree, so
		// here one of them is stored.
		message := periodStartMessage
		if sentPeriod, _ := sent["period"].(map[string]any); sentPeriod["end"] != nil {
			message = periodEndMessage
		}
		return periodError(e.periodFrom, message, "Encounter.period", m)
	}

	storedPeriods := map[string]bool{}
	for _, item := range locationList(m.tree) {
		storedPeriods[periodKey(item)] = true
	}
	for _, item := range locationList(merged) {
		location, _ := item.(map[string]any)
		if periodEndsBefore(location["period"]) && !storedPeriods[periodKey(item)] {
			return periodError(e.eventFrom, locationPeriodMessage, "Encounter.location.period", m)
		}
	}
	return nil
}

func periodError(at source, message, element string, m *stored) *Error {
	return &Error{Code: CodeInternal, SegmentID: at.segment, Occurrence: at.occurrence, Field: at.field,
		Repetition: at.repetition, Message: message,
		cause: fmt.Errorf("apply: Encounter/%s: %s ends before it starts: %w", m.id, element, emr.ErrInvalid)}
}

func locationList(tree map[string]any) []any {
	list, _ := tree["location"].([]any)
	return list
}

// periodKey identifies an Encounter.location item by its period.
func periodKey(item any) string {
	location, _ := item.(map[string]any)
	period, _ := location["period"].(map[string]any)
	start, _ := period["start"].(string)
	end, _ := period["end"].(string)
	return start + "\x00" + end
}

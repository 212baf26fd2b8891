package v2fhir

import (
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// loincCoding is one LOINC code of the FHIR vital signs profiles.
type loincCoding struct{ code, display string }

// mdcVitalSigns maps ISO/IEEE 11073-10101 (MDC) observation codes, as IHE
// PCD-01 sends them in OBX-3, to the LOINC codes of the FHIR R4 vital
// signs profiles.
var mdcVitalSigns = map[string][]loincCoding{
	"150456": {{"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"}, {"2708-6", "Oxygen saturation in Arterial blood"}},
	"147842": {{"8867-4", "Heart rate"}},
	"149530": {{"8867-4", "Heart rate"}},
	"150021": {{"8480-6", "Systolic blood pressure"}},
	"150022": {{"8462-4", "Diastolic blood pressure"}},
	"150023": {{"8478-0", "Mean blood pressure"}},
	"150344": {{"8310-5", "Body temperature"}},
	"151562": {{"9279-1", "Respiratory rate"}},
}

// loincVitalSigns are the LOINC codes that make an Observation a vital
// sign when a sender uses them directly.
var loincVitalSigns = map[string]bool{
	"59408-5": true, "2708-6": true, "8867-4": true, "8480-6": true, "8462-4": true,
	"8478-0": true, "8310-5": true, "9279-1": true, "85354-9": true, "29463-7": true,
	"8302-2": true, "39156-5": true, "9843-4": true, "8287-5": true,
}

// mdcUnits maps MDC unit codes (OBX-6) to UCUM.
var mdcUnits = map[string]string{
	"262688": "%",
	"264864": "/min",
	"266016": "mm[Hg]",
	"268192": "Cel",
	"264928": "/min",
	"266560": "[degF]",
	"265216": "L/min",
}

// mapVitalSign adds the LOINC codings of an MDC vital sign to code, after
// the MDC coding, and reports whether the observation is a vital sign.
func mapVitalSign(r *hl7v2.Repetition, code map[string]any) bool {
	codings, _ := code["coding"].([]any)
	vital := false
	for _, first := range []int{1, 4} {
		system := strings.ToUpper(comp(r, first+2))
		switch {
		case system == "MDC":
			for _, l := range mdcVitalSigns[comp(r, first)] {
				codings = append(codings, map[string]any{"system": "http://loinc.org", "code": l.code, "display": l.display})
				vital = true
			}
		case system == "LN" && loincVitalSigns[comp(r, first)]:
			vital = true
		}
	}
	if len(codings) > 0 {
		code["coding"] = codings
	}
	return vital
}

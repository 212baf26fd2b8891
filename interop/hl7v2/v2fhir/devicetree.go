package v2fhir

import (
	"strings"

	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// containmentLevel is the level of an IEEE 11073 device containment tree
// that an IHE PCD-01 OBX-4 (MDS.VMD.channel.metric) points at.
type containmentLevel int

const (
	// levelMetric is a measurement, or any OBX that is no device row.
	levelMetric containmentLevel = iota
	// levelMDS is the medical device system, the device as a whole.
	levelMDS
	// levelVMD is a virtual medical device, such as the blood pressure
	// module of a monitor.
	levelVMD
	// levelChannel is a channel of a virtual medical device.
	levelChannel
)

// deviceRowLevel returns the containment level of an IHE PCD-01 device
// row, or levelMetric for every other OBX. A device row describes the
// device that made the measurements, not a measurement. It has an MDC code
// in OBX-3, no value type in OBX-2 and no value in OBX-5. Its OBX-4 has
// four numeric levels, the MDS level not 0 and the metric level 0, such as
// "1.0.0.0" for the MDS or "1.2.1.0" for a channel. OBX-11 is not checked.
func deviceRowLevel(obx seg, code *hl7v2.Repetition) containmentLevel {
	if obx.text(2) != "" || len(obx.reps(5)) > 0 || !hasMDCCode(code) {
		return levelMetric
	}
	levels := strings.Split(obx.text(4), ".")
	if len(levels) != 4 {
		return levelMetric
	}
	for _, level := range levels {
		if level == "" || strings.Trim(level, "0123456789") != "" {
			return levelMetric
		}
	}
	isZero := func(level string) bool { return strings.Trim(level, "0") == "" }
	switch {
	case isZero(levels[0]) || !isZero(levels[3]):
		return levelMetric
	case isZero(levels[1]) && isZero(levels[2]):
		return levelMDS
	case isZero(levels[2]):
		return levelVMD
	default:
		return levelChannel
	}
}

// hasMDCCode reports whether either coding of a CWE is of the MDC
// (ISO/IEEE 11073-10101) system.
func hasMDCCode(r *hl7v2.Repetition) bool {
	return strings.EqualFold(comp(r, 3), "MDC") || strings.EqualFold(comp(r, 6), "MDC")
}

// deviceSystem gives the Device of an MDS row's OBX-18 the MDS code of
// OBX-3 as its type, such as a multi-parameter physiological monitor. An
// MDS row without OBX-18 adds nothing. The Device becomes a conditional
// update, so that a Device stored without a type, or with another one,
// takes the type the MDS row sends.
func (c *converter) deviceSystem(obx seg, code map[string]any) {
	ref := c.device(obx)
	if ref == nil {
		return
	}
	e := c.byRef[ref["reference"].(string)]
	if _, ok := e.resource["type"]; ok {
		// A second MDS row with the same OBX-18 keeps the first type.
		return
	}
	e.resource["type"] = code
	e.Mode = ModeUpdate
	e.union = []string{"identifier"}
}

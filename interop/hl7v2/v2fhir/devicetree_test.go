package v2fhir_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const (
	monitorHeader = `MSH|^~\&|MONGW^0123456789ABCDEF^EUI-64|ICU|||20240311140114+0800||ORU^R01^ORU_R01|%s|P|2.6|||AL|NE||UNICODE UTF-8`
	monitorEUI64  = `0123456789ABCDEF^^0123456789ABCDEF^EUI-64`
	mdsRow        = `OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||` + monitorEUI64
	mdcSystem     = "urn:iso:std:iso:11073:10101"
)

// monitorMessage returns an IHE PCD-01 ORU^R01 of one bedside monitor with
// the given OBX rows.
func monitorMessage(control string, rows ...string) string {
	segments := []string{
		fmt.Sprintf(monitorHeader, control),
		`PID|||110012^^^HOSP^PI||TESTER^IKE`,
		`OBR|1|ORD12^MONGW|FIL12^MONGW|182777000^monitoring of patient^SCT|||20240311135800+0800`,
	}
	return message(append(segments, rows...)...)
}

func TestConvertDeviceRows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		row         string
		observation bool
		deviceType  string
	}{
		{"MDS", mdsRow, false, "69965"},
		{"MDS without device id", `OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X`, false, ""},
		// One field short: X lands in OBX-10 and the EUI-64 in OBX-17.
		{"status in OBX-10", `OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0||||||X|||||||` + monitorEUI64, false, ""},
		{"VMD", `OBX|1||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.1.0.0|||||||X|||||||` + monitorEUI64, false, ""},
		{"channel", `OBX|1||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.1.1.0|||||||X`, false, ""},
		{"MDC in alternate coding", `OBX|1||MON^Monitor^L^69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X`, false, ""},
		{"measurement not obtained", `OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1||266016^MDC_DIM_MMHG^MDC|||||X`, true, ""},
		{"metric without value type", `OBX|1||150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|||||||X`, true, ""},
		{"device path with value type", `OBX|1|NM|69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X`, true, ""},
		{"device path with value", `OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|1||||||X`, true, ""},
		{"device path without MDC", `OBX|1||MON^Monitor^L|1.0.0.0|||||||X`, true, ""},
		{"three levels", `OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0|||||||X`, true, ""},
		{"no MDS level", `OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|0.0.0.0|||||||X`, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan := convert(t, monitorMessage("CTRL1200", tt.row), v2fhir.Options{})
			report := resource(t, plan, "DiagnosticReport")
			if !tt.observation {
				assert.Empty(t, resources(t, plan, "Observation"))
				assert.NotContains(t, report, "result")
			} else {
				obs := resource(t, plan, "Observation")
				assert.Len(t, report["result"], 1)
				assert.NotContains(t, obs, "valueQuantity")
			}

			devices := resources(t, plan, "Device")
			if tt.deviceType == "" {
				for _, d := range devices {
					assert.NotContains(t, d, "type")
				}
				return
			}
			require.Len(t, devices, 1)
			coding := devices[0]["type"].(map[string]any)["coding"].([]any)[0].(map[string]any)
			assert.Equal(t, mdcSystem, coding["system"])
			assert.Equal(t, tt.deviceType, coding["code"])
			assert.Equal(t, []string{"Patient", "Device", "DiagnosticReport"}, plan.ResourceTypes())
			assert.Equal(t, v2fhir.ModeUpdate, plan.Entries[1].Mode)
		})
	}
}

func TestConvertMeasurementNotObtained(t *testing.T) {
	t.Parallel()
	plan := convert(t, monitorMessage("CTRL1201",
		`OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1||266016^MDC_DIM_MMHG^MDC|||||X`), v2fhir.Options{})
	obs := resource(t, plan, "Observation")
	assert.Equal(t, "cancelled", obs["status"])
	assert.NotContains(t, obs, "valueQuantity")
}

// monitorRows is a PCD-01 containment tree: the MDS, the blood pressure
// VMD and its channel, and two metrics of the channel.
var monitorRows = []string{
	mdsRow,
	`OBX|2||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.1.0.0|||||||X|||||||` + monitorEUI64,
	`OBX|3||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.1.1.0|||||||X|||||||` + monitorEUI64,
	`OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|120|266016^MDC_DIM_MMHG^MDC|||||R|||20240311140000+0800||||` + monitorEUI64,
	`OBX|5|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|80|266016^MDC_DIM_MMHG^MDC|||||R|||20240311140000+0800||||` + monitorEUI64,
}

// monitorMetrics are the metric rows of monitorRows.
var monitorMetrics = monitorRows[3:]

func TestApplyDeviceRows(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		res := applyText(t, svc, monitorMessage("CTRL1210", monitorRows...), v2fhir.Options{})
		assert.Equal(t, 5, res.Created, "Patient, Device, two Observations and the DiagnosticReport")

		observations := search(t, svc, "Observation", "")
		assert.Len(t, observations, 2, "only the metrics are Observations")
		devices := search(t, svc, "Device", "identifier=urn:nexus-health-360:hl7v2:eui-64|0123456789ABCDEF")
		require.Len(t, devices, 1)
		device := decode(t, devices[0].Body)
		coding := device["type"].(map[string]any)["coding"].([]any)[0].(map[string]any)
		assert.Equal(t, mdcSystem, coding["system"])
		assert.Equal(t, "69965", coding["code"])
		for _, o := range observations {
			obs := decode(t, o.Body)
			assert.Equal(t, "Device/"+devices[0].ID, obs["device"].(map[string]any)["reference"])
		}

		again := applyText(t, svc, monitorMessage("CTRL1210", monitorRows...), v2fhir.Options{})
		assert.Zero(t, again.Created)
		assert.Zero(t, again.Updated)
		assert.Equal(t, 1, versions(t, svc, "Device", devices[0].ID))
	})
}

// TestApplyDeviceTypeLater sends metrics alone, which store the Device
// without a type, and then a message with the MDS row, which adds it. A
// later message without the MDS row keeps the stored type.
func TestApplyDeviceTypeLater(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := serviceOn(t, db)
		applyText(t, svc, monitorMessage("CTRL1220", monitorMetrics...), v2fhir.Options{})
		devices := search(t, svc, "Device", "identifier=urn:nexus-health-360:hl7v2:eui-64|0123456789ABCDEF")
		require.Len(t, devices, 1)
		require.NotContains(t, decode(t, devices[0].Body), "type")

		// The MDS row follows the metrics here, so the Device entry that
		// the first metric made takes the type.
		res := applyText(t, svc, monitorMessage("CTRL1221", append(slices.Clone(monitorMetrics), mdsRow)...), v2fhir.Options{})
		assert.Equal(t, 1, res.Updated, "the Device gains its type")
		devices = search(t, svc, "Device", "identifier=urn:nexus-health-360:hl7v2:eui-64|0123456789ABCDEF")
		require.Len(t, devices, 1)
		assert.Contains(t, decode(t, devices[0].Body), "type")
		assert.Equal(t, 2, versions(t, svc, "Device", devices[0].ID))

		applyText(t, svc, monitorMessage("CTRL1222", monitorMetrics...), v2fhir.Options{})
		devices = search(t, svc, "Device", "identifier=urn:nexus-health-360:hl7v2:eui-64|0123456789ABCDEF")
		require.Len(t, devices, 1)
		assert.Contains(t, decode(t, devices[0].Body), "type")
		assert.Equal(t, 2, versions(t, svc, "Device", devices[0].ID))
	})
}

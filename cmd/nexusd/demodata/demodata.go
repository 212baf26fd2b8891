// Package demodata embeds the synthetic patients that `nexusd demo` loads.
package demodata

import "embed"

// Bundles holds the Synthea FHIR R4 bundles, one file per patient.
//
//go:embed *.json
var Bundles embed.FS

package fhir

import (
	"net/http"
	"strings"

	"github.com/nexus-health-360/nexus/emr"
)

// route is a matched request: the path pattern, without ids, that the
// request log shows, and the function that serves it.
type route struct {
	pattern string
	serve   func(h *handler, x *exchange)
}

// pathValues are the variable parts of a matched path.
type pathValues struct {
	typ, id, version string
	// file is the file name of an export file download.
	file string
}

// shape is one path form with the handler of each method it allows.
type shape struct {
	pattern string
	methods map[string]func(h *handler, x *exchange)
}

var (
	shapeBase = shape{"/", map[string]func(*handler, *exchange){
		http.MethodPost: (*handler).processBundle,
	}}
	shapeMetadata = shape{"/metadata", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).metadata,
	}}
	shapeSystemHistory = shape{"/_history", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).history,
	}}
	shapeType = shape{"/{type}", map[string]func(*handler, *exchange){
		http.MethodGet:    (*handler).search,
		http.MethodPost:   (*handler).create,
		http.MethodPut:    (*handler).conditionalUpdate,
		http.MethodDelete: (*handler).conditionalDelete,
	}}
	shapeTypeSearch = shape{"/{type}/_search", map[string]func(*handler, *exchange){
		http.MethodPost: (*handler).search,
	}}
	shapeTypeHistory = shape{"/{type}/_history", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).history,
	}}
	shapeInstance = shape{"/{type}/{id}", map[string]func(*handler, *exchange){
		http.MethodGet:    (*handler).read,
		http.MethodPut:    (*handler).update,
		http.MethodDelete: (*handler).delete,
		http.MethodPatch:  (*handler).patch,
	}}
	shapeTypeValidate = shape{"/{type}/$validate", map[string]func(*handler, *exchange){
		http.MethodPost: (*handler).validate,
	}}
	shapeInstanceValidate = shape{"/{type}/{id}/$validate", map[string]func(*handler, *exchange){
		http.MethodPost: (*handler).validate,
	}}
	shapeEverything = shape{"/{type}/{id}/$everything", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).everything,
	}}
	shapeInstanceHistory = shape{"/{type}/{id}/_history", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).history,
	}}
	shapeSystemExport = shape{"/$export", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).exportSystem,
	}}
	shapePatientExport = shape{"/Patient/$export", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).exportPatients,
	}}
	shapeGroupExport = shape{"/Group/{id}/$export", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).exportGroup,
	}}
	shapeExportStatus = shape{"/$export-status/{id}", map[string]func(*handler, *exchange){
		http.MethodGet:    (*handler).exportStatus,
		http.MethodDelete: (*handler).deleteExport,
	}}
	shapeExportFile = shape{"/$export-file/{id}/{file}", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).exportFile,
	}}
	shapeVersion = shape{"/{type}/{id}/_history/{vid}", map[string]func(*handler, *exchange){
		http.MethodGet: (*handler).vread,
	}}
)

// matchRoute finds the route for method and path, which is relative to the
// mount point. A trailing slash is ignored, so both "" and "/" are the base,
// and HEAD routes like GET. An unknown path or resource type routes to a
// 404, a known path with another method to a 405.
func matchRoute(method, path string) (route, pathValues) {
	trimmed := strings.Trim(path, "/")
	var segments []string
	if trimmed != "" {
		segments = strings.Split(trimmed, "/")
	}
	var p pathValues
	var s shape
	switch len(segments) {
	case 0:
		s = shapeBase
	case 1:
		switch segments[0] {
		case "metadata":
			s = shapeMetadata
		case "_history":
			s = shapeSystemHistory
		case exportOperation:
			s = shapeSystemExport
		default:
			p.typ, s = segments[0], shapeType
		}
	case 2:
		if segments[0] == exportStatusPath {
			p.id, s = segments[1], shapeExportStatus
			break
		}
		p.typ = segments[0]
		switch segments[1] {
		case exportOperation:
			if segments[0] != "Patient" {
				return notFoundRoute("$export is served on the base, Patient and Group/[id] only"), pathValues{}
			}
			s = shapePatientExport
		case "_search":
			s = shapeTypeSearch
		case "_history":
			s = shapeTypeHistory
		case validateOperation:
			s = shapeTypeValidate
		default:
			if isOperation(segments[1]) {
				return unknownOperationRoute(), pathValues{}
			}
			p.id, s = segments[1], shapeInstance
		}
	case 3:
		if segments[0] == exportFilePath {
			p.id, p.file, s = segments[1], segments[2], shapeExportFile
			break
		}
		p.typ, p.id = segments[0], segments[1]
		switch {
		case segments[2] == exportOperation && segments[0] == "Group":
			s = shapeGroupExport
		case segments[2] == "_history":
			s = shapeInstanceHistory
		case segments[2] == validateOperation:
			s = shapeInstanceValidate
		case segments[2] == everythingOperation && segments[0] == "Patient":
			s = shapeEverything
		case isOperation(segments[2]):
			return unknownOperationRoute(), pathValues{}
		default:
			return notFoundRoute("no FHIR interaction has this path"), pathValues{}
		}
	case 4:
		if segments[2] != "_history" {
			return notFoundRoute("no FHIR interaction has this path"), p
		}
		p.typ, p.id, p.version, s = segments[0], segments[1], segments[3], shapeVersion
	default:
		return notFoundRoute("no FHIR interaction has this path"), p
	}

	if p.typ != "" && !emr.IsResourceType(p.typ) {
		// The type is not echoed, because a path can carry anything.
		return notFoundRoute("unknown resource type in the path; FHIR R4 type names are case-sensitive, such as Patient"), pathValues{}
	}
	if method == http.MethodHead {
		method = http.MethodGet
	}
	serve, ok := s.methods[method]
	if !ok {
		return methodNotAllowedRoute(s), p
	}
	return route{pattern: s.pattern, serve: serve}, p
}

// validateOperation is the path segment of the $validate operation.
const validateOperation = "$validate"

// isOperation reports whether a path segment names a FHIR operation.
func isOperation(segment string) bool { return strings.HasPrefix(segment, "$") }

// unknownOperationRoute serves an operation this server does not support.
// The operation name is not echoed, because a path can carry anything.
func unknownOperationRoute() route {
	return notFoundRoute("this server does not support the operation; it serves $validate, Patient $everything and $export")
}

func notFoundRoute(message string) route {
	return route{pattern: "unmatched", serve: func(h *handler, x *exchange) {
		h.fail(x, requestError(http.StatusNotFound, "not-found", message))
	}}
}

func methodNotAllowedRoute(s shape) route {
	allowed := make([]string, 0, len(s.methods)+1)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if s.methods[m] == nil {
			continue
		}
		allowed = append(allowed, m)
		if m == http.MethodGet {
			allowed = append(allowed, http.MethodHead)
		}
	}
	allow := strings.Join(allowed, ", ")
	return route{pattern: s.pattern, serve: func(h *handler, x *exchange) {
		x.w.Header().Set("Allow", allow)
		h.fail(x, requestError(http.StatusMethodNotAllowed, "not-supported",
			"method "+x.r.Method+" is not allowed on "+s.pattern+"; allowed: "+allow))
	}}
}

package fhir

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
)

// contentType is the media type of every response.
const contentType = "application/fhir+json; charset=utf-8"

// jsonTypes are the media types accepted for FHIR JSON in Content-Type,
// Accept and _format. "application/json+fhir" is the DSTU2 name, which some
// clients still send.
var jsonTypes = map[string]bool{
	"application/fhir+json": true,
	"application/json":      true,
	"application/json+fhir": true,
	"json":                  true,
}

// checkAccept rejects a request whose _format or Accept header excludes
// JSON, with 406. _format takes precedence over Accept, as FHIR specifies.
func checkAccept(r *http.Request, query url.Values) error {
	if format := query.Get("_format"); format != "" {
		mediaType, _, err := mime.ParseMediaType(format)
		if err != nil {
			mediaType = strings.ToLower(strings.TrimSpace(format))
		}
		if !jsonTypes[mediaType] {
			return requestError(http.StatusNotAcceptable, "not-supported",
				"_format must be json or application/fhir+json; this server does not support XML or RDF")
		}
		return nil
	}
	accept := strings.Join(r.Header.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" || acceptsJSON(accept) {
		return nil
	}
	return requestError(http.StatusNotAcceptable, "not-supported",
		"the Accept header excludes JSON; this server only returns application/fhir+json")
}

// acceptsJSON reports whether an Accept header value admits FHIR JSON. A
// media range with q=0 excludes that range.
func acceptsJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch {
		case mediaType == "*/*", mediaType == "application/*", jsonTypes[mediaType] && mediaType != "json":
			return true
		}
	}
	return false
}

// checkContentType rejects a request body that is not FHIR JSON, or a form
// when form is true, with 415. A missing Content-Type is taken as JSON.
func checkContentType(r *http.Request, form bool) error {
	header := r.Header.Get("Content-Type")
	if header == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(header)
	if err != nil {
		return requestError(http.StatusUnsupportedMediaType, "not-supported",
			"invalid Content-Type header: send "+acceptedBodyTypes(form))
	}
	if mediaType != "json" && jsonTypes[mediaType] {
		return nil
	}
	if form && mediaType == "application/x-www-form-urlencoded" {
		return nil
	}
	// Echoing the media type is safe, because mime.ParseMediaType accepts
	// only token characters, and fail never logs a client error's message.
	message := "unsupported content type " + mediaType + ": send " + acceptedBodyTypes(form)
	if isXML(mediaType) {
		message += "; this server does not support XML"
	}
	return requestError(http.StatusUnsupportedMediaType, "not-supported", message)
}

// acceptedBodyTypes names the request body types checkContentType accepts.
func acceptedBodyTypes(form bool) string {
	if form {
		return "application/x-www-form-urlencoded or application/fhir+json"
	}
	return "application/fhir+json"
}

// isXML reports whether mediaType is an XML type, such as
// application/fhir+xml or text/xml.
func isXML(mediaType string) bool {
	return strings.HasSuffix(mediaType, "/xml") || strings.HasSuffix(mediaType, "+xml")
}

// readBody reads the request body up to the configured limit. A larger body
// gives an *http.MaxBytesError, which fails with 413.
func (h *handler) readBody(x *exchange, form bool) ([]byte, error) {
	if err := checkContentType(x.r, form); err != nil {
		return nil, err
	}
	return h.readLimited(x)
}

// readLimited reads the request body, whatever its type, up to the
// configured limit.
func (h *handler) readLimited(x *exchange) ([]byte, error) {
	// MaxBytesReader gets the server's own writer, because it closes the
	// connection after an oversized body through an unexported method of
	// that writer.
	body := http.MaxBytesReader(x.w.ResponseWriter, x.r.Body, h.cfg.MaxBodyBytes)
	return io.ReadAll(body)
}

// readResourceBody reads a request body that must contain a resource or a
// Bundle, and rejects an empty one with 400.
func (h *handler) readResourceBody(x *exchange) ([]byte, error) {
	body, err := h.readBody(x, false)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, malformedBody("the request body is empty: send a FHIR resource as application/fhir+json")
	}
	return body, nil
}

// decodeObject parses body as one JSON object into its members, for the
// checks this package makes before emr parses the body. Anything else,
// such as an array, null or text after the object, gets 400.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, malformedBody("invalid JSON: the body must be one JSON object")
	}
	return members, nil
}

// writeJSON encodes v and writes it with status.
func (h *handler) writeJSON(x *exchange, status int, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		h.log.ErrorContext(x.ctx, "encode fhir response", "request_id", x.requestID, "error", err)
		status = http.StatusInternalServerError
		body, _ = encodeJSON(internalOutcome(x.requestID))
	}
	h.writeBytes(x, status, body)
}

// encodeJSON encodes v without escaping HTML characters, so resource bodies
// embedded as json.RawMessage keep their bytes.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeBytes writes a JSON document, indented when the request has
// _pretty=true. Indenting only changes whitespace, so numbers and strings
// keep their lexical form.
func (h *handler) writeBytes(x *exchange, status int, body []byte) {
	if x.pretty {
		var indented bytes.Buffer
		if err := json.Indent(&indented, body, "", "  "); err == nil {
			body = indented.Bytes()
		}
	}
	header := x.w.Header()
	header.Set("Content-Type", contentType)
	header.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
}

func (h *handler) writeOutcome(x *exchange, status int, oo *operationOutcome) {
	h.writeJSON(x, status, oo)
}

// writeResource writes a stored version as it is, with its ETag and
// Last-Modified headers.
func (h *handler) writeResource(x *exchange, status int, res *emr.Resource) {
	setVersionHeaders(x.w.Header(), res)
	h.writeBytes(x, status, res.Body)
}

func setVersionHeaders(header http.Header, res *emr.Resource) {
	header.Set("ETag", etag(res.VersionID))
	header.Set("Last-Modified", res.LastUpdated.UTC().Format(http.TimeFormat))
}

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// instant formats t as a FHIR instant with millisecond precision.
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// preferReturn returns the return preference of the Prefer header:
// "minimal", "representation", "OperationOutcome" or "" when not given.
func preferReturn(r *http.Request) string {
	for _, value := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(value, ",") {
			key, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && strings.EqualFold(strings.TrimSpace(key), "return") {
				return strings.Trim(strings.TrimSpace(v), `"`)
			}
		}
	}
	return ""
}

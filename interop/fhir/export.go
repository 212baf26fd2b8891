package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/emr"
)

// Path segments of the FHIR Bulk Data Access operations.
const (
	exportOperation  = "$export"
	exportStatusPath = "$export-status"
	exportFilePath   = "$export-file"
)

// ndjsonType is the media type of the exported files.
const ndjsonType = "application/fhir+ndjson"

// exportRetryAfter is the Retry-After, in seconds, of a running job's
// status and of a kick-off rejected because too many jobs run.
const exportRetryAfter = "2"

// outputFormats are the _outputFormat values the kick-off accepts.
var outputFormats = map[string]bool{
	"application/fhir+ndjson": true,
	"application/ndjson":      true,
	"ndjson":                  true,
}

// exportSystem serves GET [base]/$export.
func (h *handler) exportSystem(x *exchange) { h.kickOff(x, emr.ExportParams{}, "") }

// exportPatients serves GET [base]/Patient/$export.
func (h *handler) exportPatients(x *exchange) {
	h.kickOff(x, emr.ExportParams{PatientLevel: true}, "")
}

// exportGroup serves GET [base]/Group/[id]/$export.
func (h *handler) exportGroup(x *exchange) {
	if !emr.ValidID(x.path.id) {
		h.fail(x, invalidID())
		return
	}
	h.kickOff(x, emr.ExportParams{PatientLevel: true}, x.path.id)
}

// kickOff checks an export request, starts its job and responds with 202
// and the status URL. groupID, when not empty, limits the export to the
// members of that Group.
func (h *handler) kickOff(x *exchange, p emr.ExportParams, groupID string) {
	if !prefersAsync(x.r) {
		h.fail(x, requestError(http.StatusBadRequest, "invalid",
			"$export is asynchronous: send the header Prefer: respond-async"))
		return
	}
	if err := parseExportParams(x, &p); err != nil {
		h.fail(x, err)
		return
	}
	var members []string
	if groupID != "" {
		group, err := h.svc.Read(x.ctx, "Group", groupID)
		if err != nil {
			h.fail(x, err)
			return
		}
		if members, err = groupPatients(group.Body, x.base); err != nil {
			h.fail(x, err)
			return
		}
	}

	request := x.base + x.r.URL.EscapedPath()
	if x.r.URL.RawQuery != "" {
		request += "?" + x.r.URL.RawQuery
	}
	job, err := h.exports.start(x.ctx, request, h.cfg.Clock(), func(ctx context.Context, open func(string) (io.Writer, error)) (map[string]int, error) {
		return h.runExport(ctx, p, groupID != "", members, open)
	})
	switch {
	case errors.Is(err, errTooManyExports):
		x.w.Header().Set("Retry-After", exportRetryAfter)
		h.fail(x, requestError(http.StatusTooManyRequests, "throttled",
			"too many export jobs are running; retry later or delete a finished job"))
		return
	case errors.Is(err, errExportsClosed):
		h.fail(x, requestError(http.StatusServiceUnavailable, "transient", "the server is shutting down"))
		return
	case err != nil:
		h.fail(x, err)
		return
	}
	x.w.Header().Set("Content-Location", x.base+"/"+exportStatusPath+"/"+job.id)
	x.w.WriteHeader(http.StatusAccepted)
}

// runExport writes the export through emr. A Group export skips members
// that do not exist or are deleted, and a Group without patient members
// exports nothing.
func (h *handler) runExport(ctx context.Context, p emr.ExportParams, group bool, members []string, open func(string) (io.Writer, error)) (map[string]int, error) {
	if group {
		for _, id := range members {
			_, err := h.svc.Read(ctx, "Patient", id)
			switch {
			case err == nil:
				p.Patients = append(p.Patients, id)
			case errors.Is(err, emr.ErrNotFound), errors.Is(err, emr.ErrGone):
			default:
				return nil, err
			}
		}
		if len(p.Patients) == 0 {
			return map[string]int{}, nil
		}
	}
	return h.svc.Export(ctx, p, open)
}

// parseExportParams reads _type, _since and _outputFormat into p and
// rejects any other parameter but _format and _pretty.
func parseExportParams(x *exchange, p *emr.ExportParams) error {
	for name, values := range x.query {
		if formatParams[name] {
			continue
		}
		switch name {
		case "_type":
			for _, v := range values {
				for _, typ := range strings.Split(v, ",") {
					typ = strings.TrimSpace(typ)
					if !emr.IsResourceType(typ) {
						return requestError(http.StatusBadRequest, "value",
							"_type must list FHIR R4 resource types separated by commas, such as Patient,Observation")
					}
					p.Types = append(p.Types, typ)
				}
			}
		case "_since":
			since, err := time.Parse(time.RFC3339Nano, values[len(values)-1])
			if err != nil {
				return requestError(http.StatusBadRequest, "value", "_since must be an instant such as 2024-01-01T00:00:00Z")
			}
			p.Since = since
		case "_outputFormat":
			if !outputFormats[values[len(values)-1]] {
				return requestError(http.StatusBadRequest, "not-supported",
					"_outputFormat must be application/fhir+ndjson, application/ndjson or ndjson")
			}
		default:
			return requestError(http.StatusBadRequest, "not-supported",
				"$export takes only _type, _since and _outputFormat")
		}
	}
	return nil
}

// prefersAsync reports whether the Prefer header contains respond-async.
func prefersAsync(r *http.Request) bool {
	for _, value := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(value, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "respond-async") {
				return true
			}
		}
	}
	return false
}

// groupPatients returns the ids of the Patients in Group.member.entity,
// leaving out inactive members and members of other types. A reference
// may be relative or absolute below base.
func groupPatients(body []byte, base string) ([]string, error) {
	var group struct {
		Member []struct {
			Entity struct {
				Reference string `json:"reference"`
			} `json:"entity"`
			Inactive bool `json:"inactive"`
		} `json:"member"`
	}
	if err := json.Unmarshal(body, &group); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, m := range group.Member {
		if m.Inactive {
			continue
		}
		ref := strings.TrimPrefix(m.Entity.Reference, base+"/")
		parts := strings.Split(ref, "/")
		if parts[0] != "Patient" || (len(parts) != 2 && !(len(parts) == 4 && parts[2] == "_history")) {
			continue
		}
		if id := parts[1]; emr.ValidID(id) && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// exportManifest is the completed job's status body defined by the Bulk
// Data Access IG.
type exportManifest struct {
	TransactionTime     string         `json:"transactionTime"`
	Request             string         `json:"request"`
	RequiresAccessToken bool           `json:"requiresAccessToken"`
	Output              []exportOutput `json:"output"`
	Error               []exportOutput `json:"error"`
}

type exportOutput struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count"`
}

// exportStatus serves GET [base]/$export-status/[id].
func (h *handler) exportStatus(x *exchange) {
	job, ok := h.findExport(x)
	if !ok {
		return
	}
	switch job.state {
	case exportRunning:
		x.w.Header().Set("X-Progress", strconv.FormatInt(job.job.written.Load(), 10)+" resources written")
		x.w.Header().Set("Retry-After", exportRetryAfter)
		x.w.WriteHeader(http.StatusAccepted)
	case exportFailed:
		h.writeOutcome(x, http.StatusInternalServerError, newOutcome(outcomeIssue{Severity: "error", Code: "exception",
			Diagnostics: "the export job failed; the server log has the details under export job " + job.job.id}))
	default:
		h.writeManifest(x, job)
	}
}

func (h *handler) writeManifest(x *exchange, job exportSnapshot) {
	types := make([]string, 0, len(job.counts))
	for typ := range job.counts {
		types = append(types, typ)
	}
	sort.Strings(types)
	m := exportManifest{
		TransactionTime: instant(job.job.transactionTime),
		Request:         job.job.request,
		// The file URLs need the same bearer token as the kick-off when
		// an Authorizer decides requests.
		RequiresAccessToken: h.authz.authorizer != nil,
		Output:              []exportOutput{},
		Error:               []exportOutput{},
	}
	for _, typ := range types {
		m.Output = append(m.Output, exportOutput{Type: typ, Count: job.counts[typ],
			URL: x.base + "/" + exportFilePath + "/" + job.job.id + "/" + typ + ".ndjson"})
	}
	body, err := encodeJSON(m)
	if err != nil {
		h.fail(x, err)
		return
	}
	header := x.w.Header()
	header.Set("Content-Type", "application/json")
	header.Set("Content-Length", strconv.Itoa(len(body)))
	header.Set("Expires", job.expires.UTC().Format(http.TimeFormat))
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(body)
}

// deleteExport serves DELETE [base]/$export-status/[id]: it cancels the job
// and deletes its files.
func (h *handler) deleteExport(x *exchange) {
	if !exportJobIDPattern.MatchString(x.path.id) || !h.exports.remove(x.path.id) {
		h.fail(x, exportNotFound())
		return
	}
	x.w.WriteHeader(http.StatusAccepted)
}

// exportFile serves GET [base]/$export-file/[id]/[type].ndjson. Only a
// type in the completed job's manifest is served, so the file path is
// always the job folder joined with a resource type name.
func (h *handler) exportFile(x *exchange) {
	job, ok := h.findExport(x)
	if !ok {
		return
	}

	typ, ok := strings.CutSuffix(x.path.file, ".ndjson")
	if job.state != exportCompleted || !ok || !emr.IsResourceType(typ) || job.counts[typ] == 0 {
		h.fail(x, requestError(http.StatusNotFound, "not-found", "the export job has no such file"))
		return
	}

	f, err := os.Open(filepath.Join(job.job.dir, typ+".ndjson"))
	if errors.Is(err, os.ErrNotExist) {
		// The job was deleted or expired after findExport.
		h.fail(x, exportNotFound())
		return
	}
	if err != nil {
		h.fail(x, err)
		return
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		h.fail(x, err)
		return
	}

	header := x.w.Header()
	header.Set("Content-Type", ndjsonType)
	header.Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	x.w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(x.w, f); err != nil {
		h.log.DebugContext(x.ctx, "fhir export file download stopped", "request_id", x.requestID,
			"export_job", job.job.id, "error", err)
	}
}

// findExport returns the job of the path, or writes 404.
func (h *handler) findExport(x *exchange) (exportSnapshot, bool) {
	if exportJobIDPattern.MatchString(x.path.id) {
		if job, ok := h.exports.get(x.path.id); ok {
			return job, true
		}
	}
	h.fail(x, exportNotFound())
	return exportSnapshot{}, false
}

func exportNotFound() error {
	return requestError(http.StatusNotFound, "not-found",
		"no export job has this id; it may have been deleted or expired")
}

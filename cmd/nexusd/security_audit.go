package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/fhir"
	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/audit"
)

// careEncounterLimit bounds the in-progress encounters read per care
// relation query.
const careEncounterLimit = 1000

// emrCareRelations finds a user's patients in the clinical record: the
// subjects of in-progress Encounters on the user's ward Location, and of
// those with the user's Practitioner as a participant.
type emrCareRelations struct{ svc *emr.Service }

// PatientsOf runs up to two Encounter searches. security's Middleware
// stores the result for the request, so the decisions of one request
// share it.
// NOTE: a ward with more than careEncounterLimit in-progress encounters
// reaches only the patients of the first ones.
func (c emrCareRelations) PatientsOf(ctx context.Context, p *security.Principal) ([]string, error) {
	var queries []url.Values
	if p.Location != "" {
		queries = append(queries, url.Values{"status": {"in-progress"}, "location": {"Location/" + p.Location}})
	}
	if id, ok := strings.CutPrefix(p.FHIRUser, "Practitioner/"); ok {
		queries = append(queries, url.Values{"status": {"in-progress"}, "participant": {"Practitioner/" + id}})
	}
	seen := map[string]bool{}
	var out []string
	for _, q := range queries {
		q.Set("_count", strconv.Itoa(careEncounterLimit))
		res, err := c.svc.Search(emr.ContextWithAccess(ctx, nil), "Encounter", q)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Resources {
			var enc struct {
				Subject struct {
					Reference string `json:"reference"`
				} `json:"subject"`
			}
			if json.Unmarshal(r.Body, &enc) != nil {
				continue
			}
			if id, ok := strings.CutPrefix(enc.Subject.Reference, "Patient/"); ok && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// emrPatients checks break-the-glass patients against the clinical
// record.
type emrPatients struct{ svc *emr.Service }

// PatientExists reports whether a current, not deleted, Patient has id.
func (p emrPatients) PatientExists(ctx context.Context, id string) (bool, error) {
	_, err := p.svc.Read(emr.ContextWithAccess(ctx, nil), "Patient", id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, emr.ErrNotFound), errors.Is(err, emr.ErrGone):
		return false, nil
	}
	return false, err
}

// accessAudit writes FHIR interactions to the audit log, one entry per
// patient whose record the interaction disclosed or wrote, and one
// without a patient when it touched none.
type accessAudit struct{ log *audit.Log }

func (a accessAudit) RecordAccess(ctx context.Context, e fhir.AccessEvent) error {
	base := audit.Entry{
		Recorded: e.Time, Type: audit.TypeRest, Subtype: e.Action, Action: auditAction(e.Action),
		Outcome: auditOutcome(e.Status), Agent: audit.Agent{Who: e.Subject, Client: e.ClientID, Address: e.Address},
		What: e.ResourceType,
	}
	if base.Agent.Who == "" {
		base.Agent.Who = "anonymous"
	}
	if e.ResourceID != "" {
		base.What += "/" + e.ResourceID
	}

	switch e.Action {
	case "export", "export-status", "export-file":
		base.Type = audit.TypeExport
	case "search", "history", "everything":
		base.Type = audit.TypeQuery
	}
	if e.Status >= http.StatusBadRequest {
		base.OutcomeDescription = http.StatusText(e.Status)
	}

	if len(e.Patients) == 0 {
		base.Purpose = breakGlassPurpose(e.BreakGlass)
		return a.log.Record(ctx, base)
	}

	// Concurrent Record calls share one append transaction.
	errs := make([]error, len(e.Patients))
	var wg sync.WaitGroup
	for i, patient := range e.Patients {
		entry := base
		entry.Patient = patient
		entry.Purpose = breakGlassPurpose(grantsFor(e, patient))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.log.Record(ctx, entry)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// grantsFor returns the ids of the break-the-glass grants of e for
// patient. An event without grant details returns every grant id of e.
func grantsFor(e fhir.AccessEvent, patient string) []string {
	if len(e.BreakGlassGrants) == 0 {
		return e.BreakGlass
	}
	var ids []string
	for _, g := range e.BreakGlassGrants {
		if g.Patient == patient {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

func breakGlassPurpose(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return "break-the-glass grant " + strings.Join(ids, ", ")
}

func auditAction(action string) audit.Action {
	switch action {
	case "create":
		return audit.ActionCreate
	case "update", "patch":
		return audit.ActionUpdate
	case "delete":
		return audit.ActionDelete
	case "read", "vread", "history", "everything", "export-file", "export-status", "capabilities":
		return audit.ActionRead
	}
	return audit.ActionExecute
}

func auditOutcome(status int) audit.Outcome {
	switch {
	case status >= http.StatusInternalServerError:
		return audit.OutcomeSeriousFail
	case status >= http.StatusBadRequest:
		return audit.OutcomeMinorFailure
	}
	return audit.OutcomeSuccess
}

// securityAudit writes sign-ins, token grants and break-the-glass grants
// to the audit log.
type securityAudit struct{ log *audit.Log }

func (s securityAudit) RecordSecurityEvent(ctx context.Context, e security.Event) error {
	entry := audit.Entry{
		Recorded: e.Time, Type: audit.TypeLogin, Subtype: string(e.Type), Action: audit.ActionExecute,
		Outcome: audit.OutcomeSuccess, Agent: audit.Agent{Who: e.Subject, Client: e.ClientID},
	}
	if entry.Agent.Who == "" {
		entry.Agent.Who = e.ClientID
	}
	if entry.Agent.Who == "" {
		entry.Agent.Who = "unknown"
	}
	switch e.Type {
	case security.EventLoginFailed, security.EventTokenDenied:
		entry.Outcome = audit.OutcomeMinorFailure
		entry.OutcomeDescription = e.Reason
	case security.EventBreakGlass, security.EventBreakGlassNo:
		entry.Type = audit.TypeEmergency
		entry.Patient = e.Patient
		entry.Purpose = e.Reason
		entry.What = e.GrantID
		if e.Type == security.EventBreakGlassNo {
			entry.Outcome = audit.OutcomeMinorFailure
		}
	case security.EventUserDisabled, security.EventUserEnabled:
		entry.Type = audit.TypeEmergency
		entry.What = "user/" + e.Target
	case security.EventClientDisabled, security.EventClientEnabled:
		entry.Type = audit.TypeEmergency
		entry.What = "client/" + e.Target
	}
	return s.log.Record(ctx, entry)
}

package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// restfulInteractions are the subtypes that are FHIR R4 restful-interaction
// codes. Other subtypes get the local code system.
var restfulInteractions = map[string]bool{
	"read": true, "vread": true, "update": true, "patch": true, "delete": true, "history": true,
	"history-instance": true, "history-type": true, "history-system": true, "create": true,
	"search": true, "search-type": true, "search-system": true, "capabilities": true,
	"transaction": true, "batch": true, "operation": true,
}

var typeDisplays = map[string]string{
	TypeRest: "RESTful Operation", TypeLogin: "User Authentication", TypeExport: "Export",
	TypeQuery: "Query", TypeEmergency: "Security Alert",
}

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

type concept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type identifier struct {
	Value string `json:"value"`
}

type agentJSON struct {
	Type      *concept  `json:"type,omitempty"`
	Role      []concept `json:"role,omitempty"`
	Who       reference `json:"who"`
	Requestor bool      `json:"requestor"`
	Network   *network  `json:"network,omitempty"`
}

type network struct {
	Address string `json:"address"`
	Type    string `json:"type"`
}

type entityJSON struct {
	What  reference `json:"what"`
	Type  *coding   `json:"type,omitempty"`
	Role  *coding   `json:"role,omitempty"`
	Query string    `json:"query,omitempty"`
}

type auditEventJSON struct {
	ResourceType   string       `json:"resourceType"`
	ID             string       `json:"id"`
	Type           coding       `json:"type"`
	Subtype        []coding     `json:"subtype,omitempty"`
	Action         Action       `json:"action"`
	Recorded       string       `json:"recorded"`
	Outcome        Outcome      `json:"outcome"`
	OutcomeDesc    string       `json:"outcomeDesc,omitempty"`
	PurposeOfEvent []concept    `json:"purposeOfEvent,omitempty"`
	Agent          []agentJSON  `json:"agent"`
	Source         sourceJSON   `json:"source"`
	Entity         []entityJSON `json:"entity,omitempty"`
}

type sourceJSON struct {
	Observer reference `json:"observer"`
}

// AuditEventJSON renders r as a FHIR R4 AuditEvent with the entry's Seq as
// its id. The patient is an entity with type Person and role Patient, as
// IHE BALP records it, and a search query is the entity's base64 query.
func AuditEventJSON(r Record) ([]byte, error) {
	ev := auditEventJSON{
		ResourceType: "AuditEvent", ID: strconv.FormatInt(r.Seq, 10),
		Type:     coding{System: typeSystem(r.Type), Code: r.Type, Display: typeDisplays[r.Type]},
		Action:   r.Action,
		Recorded: r.Recorded.UTC().Format(time.RFC3339Nano), Outcome: r.Outcome, OutcomeDesc: r.OutcomeDescription,
		Source: sourceJSON{Observer: reference{Display: r.Source}},
	}
	if r.Subtype != "" {
		system := subtypeSystemLocal
		if restfulInteractions[r.Subtype] {
			system = subtypeSystemFHIR
		}
		ev.Subtype = []coding{{System: system, Code: r.Subtype}}
	}
	if r.Purpose != "" {
		ev.PurposeOfEvent = []concept{{Text: r.Purpose}}
	}

	user := agentJSON{Who: reference{Identifier: &identifier{Value: r.Agent.Who}}, Requestor: true}
	for _, role := range r.Agent.Roles {
		user.Role = append(user.Role, concept{Text: role})
	}
	if r.Agent.Address != "" {
		// Network type 2 is an IP address (audit-event-network-type).
		user.Network = &network{Address: r.Agent.Address, Type: "2"}
	}
	ev.Agent = append(ev.Agent, user)
	if r.Agent.Client != "" && r.Agent.Client != r.Agent.Who {
		ev.Agent = append(ev.Agent, agentJSON{
			Type: &concept{Coding: []coding{{System: typeSystemDICOM, Code: "110150", Display: "Application"}}},
			Who:  reference{Identifier: &identifier{Value: r.Agent.Client}},
		})
	}

	if r.Patient != "" {
		ev.Entity = append(ev.Entity, entityJSON{
			What: reference{Reference: "Patient/" + r.Patient},
			Type: &coding{System: "http://terminology.hl7.org/CodeSystem/audit-entity-type", Code: "1", Display: "Person"},
			Role: &coding{System: "http://terminology.hl7.org/CodeSystem/object-role", Code: "1", Display: "Patient"},
		})
	}
	if r.What != "" || r.Query != "" {
		entity := entityJSON{What: reference{Reference: r.What}}
		if r.Query != "" {
			entity.Query = base64.StdEncoding.EncodeToString([]byte(r.Query))
		}
		ev.Entity = append(ev.Entity, entity)
	}

	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("audit: render entry %d as AuditEvent: %w", r.Seq, err)
	}
	return data, nil
}

func typeSystem(code string) string {
	if code == TypeRest {
		return typeSystemRest
	}
	return typeSystemDICOM
}

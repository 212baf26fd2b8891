package fhir

import (
	"net/http"
	"sort"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// capabilityStatement is the FHIR CapabilityStatement resource as this
// package writes it.
type capabilityStatement struct {
	ResourceType   string       `json:"resourceType"`
	Status         string       `json:"status"`
	Date           string       `json:"date"`
	Kind           string       `json:"kind"`
	Software       capSoftware  `json:"software"`
	Implementation capImplement `json:"implementation"`
	FHIRVersion    string       `json:"fhirVersion"`
	Format         []string     `json:"format"`
	// PatchFormat lists the media types PATCH accepts: JSON Patch, and
	// FHIR JSON for a FHIRPath Patch Parameters resource.
	PatchFormat []string  `json:"patchFormat"`
	Rest        []capRest `json:"rest"`
}

type capSoftware struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type capImplement struct {
	Description string `json:"description"`
	URL         string `json:"url,omitempty"`
}

// OAuthEndpoints are the absolute URLs of the OAuth2 authorization
// server that the CapabilityStatement names in rest.security.
type OAuthEndpoints struct {
	Token     string
	Authorize string
}

// smartOAuthURIs is the extension of SMART App Launch v2 that names the
// OAuth2 endpoints in CapabilityStatement.rest.security.
const smartOAuthURIs = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

type capSecurity struct {
	Extension []capExtension `json:"extension"`
	// CORS is false because no Access-Control-* headers are served.
	CORS        bool         `json:"cors"`
	Service     []capConcept `json:"service"`
	Description string       `json:"description"`
}

type capExtension struct {
	URL       string         `json:"url"`
	ValueURI  string         `json:"valueUri,omitempty"`
	Extension []capExtension `json:"extension,omitempty"`
}

type capConcept struct {
	Coding []capCoding `json:"coding"`
	Text   string      `json:"text,omitempty"`
}

type capCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// restSecurity returns rest.security for the endpoints, nil without.
func restSecurity(oauth *OAuthEndpoints) *capSecurity {
	if oauth == nil {
		return nil
	}
	return &capSecurity{
		Extension: []capExtension{{URL: smartOAuthURIs, Extension: []capExtension{
			{URL: "token", ValueURI: oauth.Token},
			{URL: "authorize", ValueURI: oauth.Authorize},
		}}},
		Service: []capConcept{{
			Coding: []capCoding{{System: "http://terminology.hl7.org/CodeSystem/restful-security-service", Code: "SMART-on-FHIR"}},
			Text:   "OAuth2 with SMART on FHIR scopes",
		}},
		Description: "Every request except metadata needs an OAuth2 bearer access token. Apps use the " +
			"authorization code flow with PKCE, backend services client_credentials with a private_key_jwt assertion.",
	}
}

type capRest struct {
	Mode        string           `json:"mode"`
	Security    *capSecurity     `json:"security,omitempty"`
	Resource    []capResource    `json:"resource"`
	Interaction []capInteraction `json:"interaction"`
	Operation   []capOperation   `json:"operation,omitempty"`
}

type capResource struct {
	Type              string           `json:"type"`
	Interaction       []capInteraction `json:"interaction"`
	Versioning        string           `json:"versioning"`
	ReadHistory       bool             `json:"readHistory"`
	UpdateCreate      bool             `json:"updateCreate"`
	ConditionalCreate bool             `json:"conditionalCreate"`
	ConditionalRead   string           `json:"conditionalRead"`
	ConditionalUpdate bool             `json:"conditionalUpdate"`
	ConditionalDelete string           `json:"conditionalDelete"`
	SearchInclude     []string         `json:"searchInclude,omitempty"`
	SearchRevInclude  []string         `json:"searchRevInclude,omitempty"`
	SearchParam       []capSearchParam `json:"searchParam,omitempty"`
	Operation         []capOperation   `json:"operation"`
}

type capOperation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

type capInteraction struct {
	Code string `json:"code"`
}

type capSearchParam struct {
	Name       string `json:"name"`
	Definition string `json:"definition,omitempty"`
	Type       string `json:"type"`
}

// typeInteractions are the interactions served for every resource type.
var typeInteractions = []string{
	"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type",
}

// operationsFor returns the operations served for typ: $validate for
// every type, and $everything and $export for Patient, $export for Group.
func operationsFor(typ string) []capOperation {
	ops := append([]capOperation(nil), typeOperations...)
	switch typ {
	case "Patient":
		ops = append(ops,
			capOperation{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
			capOperation{Name: "export", Definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"})
	case "Group":
		ops = append(ops, capOperation{Name: "export", Definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"})
	}
	return ops
}

// typeOperations are the operations served for every resource type.
var typeOperations = []capOperation{
	{Name: "validate", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-validate"},
}

// searchableTypes are the search parameter types emr.Service.Search
// supports. Special parameters are left out of the CapabilityStatement
// because a search with them fails, and composite parameters are listed
// when the registry has their component types.
var searchableTypes = map[searchparam.Type]bool{
	searchparam.TypeString:    true,
	searchparam.TypeToken:     true,
	searchparam.TypeDate:      true,
	searchparam.TypeReference: true,
	searchparam.TypeNumber:    true,
	searchparam.TypeQuantity:  true,
	searchparam.TypeURI:       true,
	searchparam.TypeComposite: true,
}

// buildCapability lists what the handler serves. implementation.url is set
// per request from the base URL.
func buildCapability(cfg Config, registry *searchparam.Registry) capabilityStatement {
	interactions := make([]capInteraction, len(typeInteractions))
	for i, code := range typeInteractions {
		interactions[i] = capInteraction{Code: code}
	}
	types := emr.ResourceTypes()
	includes, revIncludes := includeLists(registry, types)
	resources := make([]capResource, 0, len(types))
	for _, typ := range types {
		if cfg.Scheduling != nil && isSchedulingType(typ) {
			continue
		}
		if cfg.Billing != nil && isBillingType(typ) {
			continue
		}
		resources = append(resources, capResource{
			Type:              typ,
			Interaction:       interactions,
			Versioning:        "versioned-update",
			ReadHistory:       true,
			UpdateCreate:      true,
			ConditionalCreate: true,
			ConditionalRead:   "full-support",
			ConditionalUpdate: true,
			ConditionalDelete: "single",
			SearchInclude:     includes[typ],
			SearchRevInclude:  revIncludes[typ],
			SearchParam:       searchParams(registry, typ),
			Operation:         operationsFor(typ),
		})
	}
	if cfg.Scheduling != nil {
		resources = append(resources, schedulingCapabilities(registry)...)
	}
	if cfg.Billing != nil {
		resources = append(resources, billingCapabilities(registry)...)
	}
	if cfg.Scheduling != nil || cfg.Billing != nil {
		sort.Slice(resources, func(i, j int) bool { return resources[i].Type < resources[j].Type })
	}
	return capabilityStatement{
		ResourceType: "CapabilityStatement",
		Status:       "active",
		Date:         instant(cfg.Clock()),
		Kind:         "instance",
		Software:     capSoftware{Name: cfg.SoftwareName, Version: cfg.SoftwareVersion},
		Implementation: capImplement{
			Description: cfg.SoftwareName + " FHIR R4 server",
		},
		FHIRVersion: "4.0.1",
		Format:      []string{"json", "application/fhir+json"},
		PatchFormat: []string{jsonPatchType, fhirJSONType},
		Rest: []capRest{{
			Mode:     "server",
			Security: restSecurity(cfg.OAuth),
			Resource: resources,
			Interaction: []capInteraction{
				{Code: "transaction"}, {Code: "batch"}, {Code: "history-system"},
			},
			Operation: []capOperation{
				{Name: "export", Definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},
			},
		}},
	}
}

// searchParams returns the parameters of typ that search supports, with
// _id and _lastUpdated, which emr handles itself, sorted by name. A
// parameter without an expression (_text, _content, _query) is left out:
// nothing is indexed for it, so a search with it never matches.
func searchParams(registry *searchparam.Registry, typ string) []capSearchParam {
	var params []capSearchParam
	seen := map[string]bool{}
	for _, def := range registry.ForType(typ) {
		if !searchableTypes[def.Type] || def.Expression == "" || seen[def.Code] {
			continue
		}
		if _, ok := registry.ComponentTypes(typ, def.Code); def.Type == searchparam.TypeComposite && !ok {
			continue
		}
		seen[def.Code] = true
		params = append(params, capSearchParam{Name: def.Code, Definition: def.URL, Type: string(def.Type)})
	}
	for _, p := range []capSearchParam{
		{Name: "_id", Definition: "http://hl7.org/fhir/SearchParameter/Resource-id", Type: "token"},
		{Name: "_lastUpdated", Definition: "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated", Type: "date"},
	} {
		if !seen[p.Name] {
			params = append(params, p)
		}
	}
	sort.Slice(params, func(i, j int) bool { return params[i].Name < params[j].Name })
	return params
}

// includeLists returns, by resource type, the _include values of its
// reference parameters ("Encounter:subject") and the _revinclude values of
// the reference parameters of every type that may point at it, as listed
// in each parameter's target types. A parameter without an expression is left
// out, because nothing is indexed for it.
func includeLists(registry *searchparam.Registry, types []string) (includes, revIncludes map[string][]string) {
	includes = map[string][]string{}
	revIncludes = map[string][]string{}
	for _, source := range types {
		seen := map[string]bool{}
		for _, def := range registry.ForType(source) {
			if def.Type != searchparam.TypeReference || def.Expression == "" || seen[def.Code] {
				continue
			}
			seen[def.Code] = true
			value := source + ":" + def.Code
			includes[source] = append(includes[source], value)
			targets := map[string]bool{}
			for _, target := range def.Targets {
				if emr.IsResourceType(target) && !targets[target] {
					targets[target] = true
					revIncludes[target] = append(revIncludes[target], value)
				}
			}
		}
	}
	for _, lists := range []map[string][]string{includes, revIncludes} {
		for _, values := range lists {
			sort.Strings(values)
		}
	}
	return includes, revIncludes
}

func (h *handler) metadata(x *exchange) {
	for name := range x.query {
		if !formatParams[name] && name != "mode" {
			h.fail(x, requestError(http.StatusBadRequest, "not-supported", "parameter "+name+" is not supported on metadata"))
			return
		}
	}
	if mode := x.query.Get("mode"); mode != "" && mode != "full" {
		h.fail(x, requestError(http.StatusBadRequest, "not-supported", "metadata mode must be full; normative and terminology are not supported"))
		return
	}
	cs := h.capability
	cs.Implementation.URL = x.base
	h.writeJSON(x, http.StatusOK, cs)
}

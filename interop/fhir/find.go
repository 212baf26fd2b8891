package fhir

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/scheduling"
)

// findSlots serves GET and POST Appointment/$find, which returns a
// searchset of free Slots for an appointment type:
//
//   - service-type: the appointment type code (required)
//   - actor: an actor every slot needs; repeat it for several. One value
//     may list alternatives separated by commas, and each slot then uses
//     one of them. Without actor, every active schedule is a candidate.
//   - start, end: the window, dateTimes; start defaults to now and end to
//     defaultSlotWindow after start
//   - _count: the page size
//
// POST takes the same parameters as a Parameters resource.
func (h *handler) findSlots(x *exchange) {
	params, err := h.findParams(x)
	if err != nil {
		h.fail(x, err)
		return
	}
	if err := checkParamNames(params, "service-type", "actor", "start", "end", "_count", cursorParam); err != nil {
		h.fail(x, err)
		return
	}
	p, err := parsePage(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	f, err := h.parseFind(params)
	if err != nil {
		h.fail(x, err)
		return
	}
	f.Limit = p.limit()
	slots, err := h.cfg.Scheduling.FindSlots(x.ctx, f)
	if err != nil {
		h.fail(x, schedulingError(err))
		return
	}
	out, err := h.slotResources(x.ctx, slots)
	if err != nil {
		h.fail(x, err)
		return
	}
	h.searchBundle(x, "/Appointment/$find", params, p, out)
}

func (h *handler) parseFind(params url.Values) (scheduling.FindSlotsParams, error) {
	var f scheduling.FindSlotsParams
	codes := params["service-type"]
	if len(codes) != 1 || codes[0] == "" || strings.Contains(codes[0], ",") {
		return f, requestError(http.StatusBadRequest, "required", "$find needs exactly one service-type, the appointment type code")
	}
	code, err := typeCode(codes[0])
	if err != nil {
		return f, err
	}
	f.AppointmentType = code
	for _, v := range params["actor"] {
		actors, err := parseActorList(v)
		if err != nil {
			return f, err
		}
		if len(actors) == 1 {
			f.Require = append(f.Require, actors[0])
			continue
		}
		if f.AnyOf != nil {
			return f, requestError(http.StatusBadRequest, "not-supported", "only one actor parameter may list alternatives")
		}
		f.AnyOf = actors
	}
	loc := h.cfg.Scheduling.Location()
	f.From = h.cfg.Clock()
	if v := params.Get("start"); v != "" {
		if f.From, err = parseInstant(v, loc); err != nil {
			return f, requestError(http.StatusBadRequest, "invalid", "start must be a FHIR dateTime such as 2025-03-03T09:00:00+01:00")
		}
	}
	f.To = f.From.Add(defaultSlotWindow)
	if v := params.Get("end"); v != "" {
		if f.To, err = parseInstant(v, loc); err != nil {
			return f, requestError(http.StatusBadRequest, "invalid", "end must be a FHIR dateTime such as 2025-03-07T17:00:00+01:00")
		}
	}
	return f, nil
}

// findParams returns the parameters of $find: the query for GET, and the
// query plus a Parameters body for POST.
func (h *handler) findParams(x *exchange) (url.Values, error) {
	params := url.Values{}
	for name, values := range x.query {
		if !formatParams[name] {
			params[name] = append(params[name], values...)
		}
	}
	if x.r.Method != http.MethodPost {
		return params, nil
	}
	body, err := h.readResourceBody(x)
	if err != nil {
		return nil, err
	}
	var in struct {
		ResourceType string `json:"resourceType"`
		Parameter    []struct {
			Name           string          `json:"name"`
			ValueString    *string         `json:"valueString"`
			ValueCode      *string         `json:"valueCode"`
			ValueDateTime  *string         `json:"valueDateTime"`
			ValueInstant   *string         `json:"valueInstant"`
			ValueDate      *string         `json:"valueDate"`
			ValueInteger   *int            `json:"valueInteger"`
			ValueReference *reference      `json:"valueReference"`
			ValueCoding    *coding         `json:"valueCoding"`
			Resource       json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.ResourceType != "Parameters" {
		return nil, malformedBody("the body of POST $find must be a Parameters resource")
	}
	for i, part := range in.Parameter {
		var value string
		switch {
		case part.ValueString != nil:
			value = *part.ValueString
		case part.ValueCode != nil:
			value = *part.ValueCode
		case part.ValueDateTime != nil:
			value = *part.ValueDateTime
		case part.ValueInstant != nil:
			value = *part.ValueInstant
		case part.ValueDate != nil:
			value = *part.ValueDate
		case part.ValueInteger != nil:
			value = strconv.Itoa(*part.ValueInteger)
		case part.ValueReference != nil:
			value = part.ValueReference.Reference
		case part.ValueCoding != nil:
			value = part.ValueCoding.Code
			if part.ValueCoding.System != "" {
				value = part.ValueCoding.System + "|" + value
			}
		default:
			return nil, &httpError{status: http.StatusBadRequest, code: "invalid",
				expression: "Parameters.parameter[" + strconv.Itoa(i) + "]",
				message:    "each $find parameter needs a string, code, dateTime, instant, date, integer, Reference or Coding value"}
		}
		params.Add(part.Name, value)
	}
	return params, nil
}

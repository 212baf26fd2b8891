package fhir_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/fhir"
)

func TestScheduleReadAndSearch(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)

	resp := s.do(http.MethodGet, "/Schedule/"+s.weberID, "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	sc := resp.json(t)
	assert.Equal(t, "Schedule", sc["resourceType"])
	assert.Equal(t, true, sc["active"])
	assert.Equal(t, "Practitioner/dr-weber", at(sc, "actor", 0, "reference"))
	assert.Equal(t, "consult", at(sc, "serviceType", 0, "coding", 0, "code"))

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"by actor", "actor=Practitioner/dr-weber", []string{s.weberID}},
		{"by either actor", "actor=Practitioner/dr-weber,Location/room-1", nil},
		{"by unknown actor", "actor=Device/none", nil},
		{"active", "active=true", nil},
		{"inactive", "active=false", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, "/Schedule?"+tc.query, "")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			ids := entryIDs(t, resp.json(t))
			switch tc.name {
			case "by either actor", "active":
				assert.ElementsMatch(t, []string{s.weberID, s.roomID}, ids)
			default:
				assert.Equal(t, tc.want, ids)
			}
		})
	}

	resp = s.do(http.MethodGet, "/Schedule?name=x", "")
	assert.Equal(t, http.StatusBadRequest, resp.status)
}

func TestScheduleCreate(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	resp := s.do(http.MethodPost, "/Schedule",
		`{"resourceType":"Schedule","actor":[{"reference":"Device/us-1","display":"Ultrasound 1"},{"reference":"Location/room-1"}]}`)
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, s.base+"/Schedule/"+id, resp.header.Get("Location"))

	read := s.do(http.MethodGet, "/Schedule/"+id, "").json(t)
	assert.Equal(t, "Device/us-1", at(read, "actor", 0, "reference"))
	assert.Equal(t, "Ultrasound 1", at(read, "actor", 0, "display"))
	assert.Equal(t, "Location/room-1", at(read, "actor", 1, "reference"))

	again := s.do(http.MethodPost, "/Schedule", `{"resourceType":"Schedule","actor":[{"reference":"Device/us-1"}]}`)
	assert.Equal(t, http.StatusConflict, again.status, "a second schedule for one actor")
	patient := s.do(http.MethodPost, "/Schedule", `{"resourceType":"Schedule","actor":[{"reference":"Patient/p1"}]}`)
	assert.Equal(t, http.StatusBadRequest, patient.status)
}

func TestSlotSearchAndRead(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	first := s.firstStart
	monday := "schedule=Schedule/" + s.weberID + "&service-type=consult&start=ge2025-03-03&start=lt2025-03-04"

	resp := s.do(http.MethodGet, "/Slot?"+monday, "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	assert.Equal(t, []string{s.slotOf(first), s.slotOf(first.Add(20 * time.Minute)), s.slotOf(first.Add(40 * time.Minute))}, entryIDs(t, b))
	assert.Equal(t, "2025-03-03T09:00:00+01:00", at(b, "entry", 0, "resource", "start"))
	assert.Equal(t, "2025-03-03T09:20:00+01:00", at(b, "entry", 0, "resource", "end"))
	assert.Equal(t, "free", at(b, "entry", 0, "resource", "status"))
	assert.Equal(t, "Schedule/"+s.weberID, at(b, "entry", 0, "resource", "schedule", "reference"))

	busy := s.do(http.MethodGet, "/Slot?"+monday+"&status=busy", "").json(t)
	assert.Empty(t, entryIDs(t, busy))

	read := s.do(http.MethodGet, "/Slot/"+s.slotOf(first), "")
	require.Equal(t, http.StatusOK, read.status, "%s", read.body)
	assert.Equal(t, "2025-03-03T09:00:00+01:00", read.json(t)["start"])

	offGrid := s.do(http.MethodGet, "/Slot/"+s.slotOf(first.Add(5*time.Minute)), "")
	assert.Equal(t, http.StatusNotFound, offGrid.status)
	unknown := s.do(http.MethodGet, "/Slot/nothing.1740990000.consult", "")
	assert.Equal(t, http.StatusNotFound, unknown.status)

	bad := s.do(http.MethodGet, "/Slot?start=ne2025-03-03", "")
	assert.Equal(t, http.StatusBadRequest, bad.status)
}

func TestSlotSearchPaging(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	resp := s.do(http.MethodGet, "/Slot?schedule="+s.weberID+"&service-type=consult&_count=2", "")
	require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
	b := resp.json(t)
	firstPage := entryIDs(t, b)
	require.Len(t, firstPage, 2)
	next := link(b, "next")
	require.NotEmpty(t, next)
	assert.Contains(t, next, "schedule="+s.weberID)
	assert.Contains(t, next, "service-type=consult")

	second := s.do(http.MethodGet, next, "")
	require.Equal(t, http.StatusOK, second.status, "%s", second.body)
	secondPage := entryIDs(t, second.json(t))
	require.Len(t, secondPage, 2)
	assert.NotContains(t, secondPage, firstPage[0])
	assert.NotContains(t, secondPage, firstPage[1])
	assert.Equal(t, s.slotOf(s.firstStart.Add(40*time.Minute)), secondPage[0])
}

func TestFindOperation(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	get := s.do(http.MethodGet, "/Appointment/$find?service-type=consult&actor=Practitioner/dr-weber&start=2025-03-03T00:00:00%2B01:00&end=2025-03-04&_count=10", "")
	require.Equal(t, http.StatusOK, get.status, "%s", get.body)
	b := get.json(t)
	assert.Equal(t, "searchset", b["type"])
	assert.Len(t, entryIDs(t, b), 3)
	assert.Equal(t, s.slotOf(s.firstStart), at(b, "entry", 0, "resource", "id"))

	post := s.do(http.MethodPost, "/Appointment/$find", `{"resourceType":"Parameters","parameter":[
		{"name":"service-type","valueCode":"consult"},
		{"name":"actor","valueReference":{"reference":"Practitioner/dr-weber"}},
		{"name":"actor","valueReference":{"reference":"Location/room-1"}},
		{"name":"start","valueDateTime":"2025-03-03"},
		{"name":"end","valueDateTime":"2025-03-04"},
		{"name":"_count","valueInteger":2}]}`)
	require.Equal(t, http.StatusOK, post.status, "%s", post.body)
	pb := post.json(t)
	ids := entryIDs(t, pb)
	require.Len(t, ids, 2, "both actors' Slots of the first time")
	assert.Contains(t, ids, s.slotOf(s.firstStart))
	assert.Contains(t, link(pb, "next"), "service-type=consult")

	missing := s.do(http.MethodGet, "/Appointment/$find?actor=Practitioner/dr-weber", "")
	assert.Equal(t, http.StatusBadRequest, missing.status)
}

func TestAppointmentBookAndRead(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	slot := s.slotOf(s.firstStart)

	resp := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"slot":[{"reference":"Slot/`+slot+`"}]`))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	a := resp.json(t)
	id, _ := a["id"].(string)
	assert.Equal(t, "booked", a["status"])
	assert.Equal(t, "2025-03-03T09:00:00+01:00", a["start"])
	assert.Equal(t, "consult", at(a, "appointmentType", "coding", 0, "code"))
	assert.Equal(t, "Slot/"+slot, at(a, "slot", 0, "reference"))
	assert.Equal(t, "Patient/pat-1", at(a, "participant", 0, "actor", "reference"))
	assert.Equal(t, "Practitioner/dr-weber", at(a, "participant", 1, "actor", "reference"))
	assert.Equal(t, `W/"1"`, resp.header.Get("ETag"))
	assert.Equal(t, s.base+"/Appointment/"+id+"/_history/1", resp.header.Get("Location"))

	read := s.do(http.MethodGet, "/Appointment/"+id, "")
	require.Equal(t, http.StatusOK, read.status)
	assert.Equal(t, "booked", read.json(t)["status"])
	slotNow := s.do(http.MethodGet, "/Slot/"+slot, "").json(t)
	assert.Equal(t, "busy", slotNow["status"])

	byTime := s.do(http.MethodPost, "/Appointment", bookingBody("booked",
		`"start":"2025-03-03T09:20:00+01:00","end":"2025-03-03T09:40:00+01:00"`))
	require.Equal(t, http.StatusCreated, byTime.status, "%s", byTime.body)
	assert.Equal(t, "consult", at(byTime.json(t), "appointmentType", "coding", 0, "code"), "type follows from the duration")

	hold := s.do(http.MethodPost, "/Appointment", bookingBody("pending",
		`"start":"2025-03-03T09:40:00+01:00","appointmentType":{"coding":[{"system":"`+fhir.AppointmentTypeSystem+`","code":"consult"}]}`))
	require.Equal(t, http.StatusCreated, hold.status, "%s", hold.body)
	assert.Equal(t, "pending", hold.json(t)["status"])

	conflict := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"slot":[{"reference":"Slot/`+slot+`"}]`))
	require.Equal(t, http.StatusConflict, conflict.status, "%s", conflict.body)
	assert.Equal(t, "conflict", issue(t, conflict.json(t))["code"])

	outside := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-03T11:00:00+01:00","end":"2025-03-03T11:20:00+01:00"`))
	assert.Equal(t, http.StatusConflict, outside.status, "outside availability")
	wrongEnd := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-10T09:00:00+01:00","end":"2025-03-10T09:30:00+01:00","appointmentType":{"coding":[{"code":"consult"}]}`))
	assert.Equal(t, http.StatusBadRequest, wrongEnd.status)

	search := s.do(http.MethodGet, "/Appointment?patient=Patient/pat-1&status=booked&date=2025-03-03&service-type=consult", "")
	require.Equal(t, http.StatusOK, search.status, "%s", search.body)
	assert.Len(t, entryIDs(t, search.json(t)), 2)
	byActor := s.do(http.MethodGet, "/Appointment?actor=Practitioner/dr-weber&_count=1", "")
	require.Equal(t, http.StatusOK, byActor.status)
	ab := byActor.json(t)
	assert.Equal(t, []string{id}, entryIDs(t, ab))
	assert.Contains(t, link(ab, "next"), "actor=Practitioner")
}

func TestAppointmentConcurrentBookingOfOneSlot(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	body := bookingBody("booked", `"slot":[{"reference":"Slot/`+s.slotOf(s.firstStart)+`"}]`)
	const n = 100
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, s.base+"/Appointment", strings.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/fhir+json")
			resp, err := s.srv.Client().Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, st := range statuses {
		counts[st]++
	}
	assert.Equal(t, 1, counts[http.StatusCreated], "statuses: %v", counts)
	assert.Equal(t, n-1, counts[http.StatusConflict], "statuses: %v", counts)
}

func TestAppointmentStatusChanges(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	resp := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"slot":[{"reference":"Slot/`+s.slotOf(s.firstStart)+`"}]`))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)
	withStatus := func(status, extra string) string {
		return withID(id, bookingBody(status, `"start":"2025-03-03T09:00:00+01:00"`+extra))
	}

	invalid := s.do(http.MethodPut, "/Appointment/"+id, withStatus("fulfilled", ""))
	require.Equal(t, http.StatusConflict, invalid.status, "%s", invalid.body)
	diagnostics, _ := issue(t, invalid.json(t))["diagnostics"].(string)
	assert.Contains(t, diagnostics, "from booked to fulfilled")
	assert.NotContains(t, diagnostics, "pat-1")

	stale := s.do(http.MethodPut, "/Appointment/"+id, withStatus("cancelled", ""), "If-Match", `W/"7"`)
	assert.Equal(t, http.StatusPreconditionFailed, stale.status)

	cancel := s.do(http.MethodPut, "/Appointment/"+id, withStatus("cancelled", `,"cancelationReason":{"text":"patient-request"}`), "If-Match", `W/"1"`)
	require.Equal(t, http.StatusOK, cancel.status, "%s", cancel.body)
	c := cancel.json(t)
	assert.Equal(t, "cancelled", c["status"])
	assert.Equal(t, "patient-request", at(c, "cancelationReason", "text"))
	assert.Equal(t, `W/"2"`, cancel.header.Get("ETag"))
	assert.Equal(t, "free", s.do(http.MethodGet, "/Slot/"+s.slotOf(s.firstStart), "").json(t)["status"])

	history := s.do(http.MethodGet, "/Appointment/"+id+"/_history", "")
	require.Equal(t, http.StatusOK, history.status, "%s", history.body)
	h := history.json(t)
	assert.Equal(t, "history", h["type"])
	assert.Equal(t, "cancelled", at(h, "entry", 0, "resource", "status"))
	assert.Equal(t, "booked", at(h, "entry", 1, "resource", "status"))
	assert.Equal(t, "POST", at(h, "entry", 1, "request", "method"))
	v1 := s.do(http.MethodGet, "/Appointment/"+id+"/_history/1", "")
	require.Equal(t, http.StatusOK, v1.status)
	assert.Equal(t, "booked", v1.json(t)["status"])

	again := s.do(http.MethodPut, "/Appointment/"+id, withStatus("booked", ""))
	assert.Equal(t, http.StatusConflict, again.status, "cancelled to booked")
}

func TestAppointmentReschedule(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	resp := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00","end":"2025-03-03T09:20:00+01:00"`))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)

	moved := s.do(http.MethodPut, "/Appointment/"+id, withID(id, bookingBody("booked", `"start":"2025-03-10T09:20:00+01:00"`)))
	require.Equal(t, http.StatusOK, moved.status, "%s", moved.body)
	old := moved.json(t)
	assert.Equal(t, "cancelled", old["status"])
	next, _ := at(old, "extension", 0, "valueReference", "reference").(string)
	require.True(t, strings.HasPrefix(next, "Appointment/"), "replaced-by extension: %v", old["extension"])
	n := s.do(http.MethodGet, "/"+next, "").json(t)
	assert.Equal(t, "booked", n["status"])
	assert.Equal(t, "2025-03-10T09:20:00+01:00", n["start"])
	assert.Equal(t, "Appointment/"+id, at(n, "extension", 0, "valueReference", "reference"))
}

func TestSchedulingRoutes(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"appointment response unknown", http.MethodGet, "/AppointmentResponse/x", "", http.StatusNotFound},
		{"appointment response empty", http.MethodPost, "/AppointmentResponse", `{"resourceType":"AppointmentResponse"}`, http.StatusBadRequest},
		{"appointment response delete", http.MethodDelete, "/AppointmentResponse/x", "", http.StatusMethodNotAllowed},
		{"slot create", http.MethodPost, "/Slot", `{"resourceType":"Slot"}`, http.StatusMethodNotAllowed},
		{"appointment delete", http.MethodDelete, "/Appointment/x", "", http.StatusMethodNotAllowed},
		{"appointment type history", http.MethodGet, "/Appointment/_history", "", http.StatusNotFound},
		{"unknown appointment", http.MethodGet, "/Appointment/nope", "", http.StatusNotFound},
		{"put creates nothing", http.MethodPut, "/Appointment/nope", withID("nope", bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00"`)), http.StatusNotFound},
		{"transaction with appointment", http.MethodPost, "", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` +
			bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00"`) + `,"request":{"method":"POST","url":"Appointment"}}]}`, http.StatusBadRequest},
		{"patient still served", http.MethodGet, "/Patient", "", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(tc.method, tc.path, tc.body)
			assert.Equal(t, tc.want, resp.status, "%s", resp.body)
			if tc.want >= 400 {
				assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])
			}
		})
	}
}

func TestSchedulingCapability(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	cs := s.do(http.MethodGet, "/metadata", "").json(t)
	resources, _ := at(cs, "rest", 0, "resource").([]any)
	byType := map[string]map[string]any{}
	for _, r := range resources {
		m, _ := r.(map[string]any)
		typ, _ := m["type"].(string)
		byType[typ] = m
	}
	codes := func(r map[string]any, list, key string) []string {
		var out []string
		items, _ := r[list].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			v, _ := m[key].(string)
			out = append(out, v)
		}
		return out
	}
	assert.Contains(t, byType, "Patient")
	tests := []struct {
		typ          string
		interactions []string
		params       []string
	}{
		{"Schedule", []string{"read", "create", "search-type"}, []string{"active", "actor"}},
		{"Slot", []string{"read", "search-type"}, []string{"schedule", "service-type", "start", "status"}},
		{"AppointmentResponse", []string{"read", "create", "search-type"}, []string{"actor", "appointment", "part-status"}},
		{"Appointment", []string{"read", "vread", "update", "history-instance", "create", "search-type"},
			[]string{"actor", "date", "patient", "service-type", "status"}},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			r := byType[tc.typ]
			require.NotNil(t, r)
			assert.Equal(t, tc.interactions, codes(r, "interaction", "code"))
			assert.Equal(t, tc.params, codes(r, "searchParam", "name"))
		})
	}
	assert.Equal(t, []string{"find"}, codes(byType["Appointment"], "operation", "name"))
}

func TestAppointmentUpdateRejectsUnclearChanges(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	resp := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00","end":"2025-03-03T09:20:00+01:00"`))
	require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	id, _ := resp.json(t)["id"].(string)
	patientOnly := `{"resourceType":"Appointment","id":"` + id + `","status":"booked","start":"2025-03-03T09:00:00+01:00",` +
		`"participant":[{"actor":{"reference":"Patient/pat-1"},"status":"accepted"}]}`
	cases := []struct {
		name string
		body string
		path string
	}{
		{name: "participants dropped", body: patientOnly, path: "Appointment.participant"},
		{name: "end changed alone", body: withID(id, bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00","end":"2025-03-03T09:40:00+01:00"`)), path: "Appointment.end"},
		{name: "slot changed alone", body: withID(id, bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00","slot":[{"reference":"Slot/`+s.slotOf(s.firstStart.Add(time.Hour))+`"}]`)), path: "Appointment.slot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(http.MethodPut, "/Appointment/"+id, tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
			assert.Equal(t, []any{tc.path}, issue(t, r.json(t))["expression"])
		})
	}
	cur := s.do(http.MethodGet, "/Appointment/"+id, "")
	assert.Equal(t, `W/"1"`, cur.header.Get("ETag"), "rejected updates change nothing")
	assert.Equal(t, "booked", cur.json(t)["status"])
}

package fhir_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// responseBody returns an AppointmentResponse of actor to appointment id.
func responseBody(id, actor, status string) string {
	return `{"resourceType":"AppointmentResponse","appointment":{"reference":"Appointment/` + id +
		`"},"actor":{"reference":"` + actor + `"},"participantStatus":"` + status + `","comment":"ok"}`
}

// participantStatuses returns participant[].status by actor reference.
func participantStatuses(t *testing.T, appointment map[string]any) map[string]any {
	t.Helper()
	out := map[string]any{}
	list, _ := appointment["participant"].([]any)
	for i := range list {
		ref, _ := at(list[i], "actor", "reference").(string)
		out[ref] = at(list[i], "status")
	}
	return out
}

func TestAppointmentResponseAcceptsHold(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	hold := s.do(http.MethodPost, "/Appointment", bookingBody("pending", `"start":"2025-03-03T09:00:00+01:00","end":"2025-03-03T09:20:00+01:00"`))
	require.Equal(t, http.StatusCreated, hold.status, "%s", hold.body)
	id, _ := hold.json(t)["id"].(string)

	created := s.do(http.MethodPost, "/AppointmentResponse", responseBody(id, "Practitioner/dr-weber", "accepted"))
	require.Equal(t, http.StatusCreated, created.status, "%s", created.body)
	r := created.json(t)
	responseID, _ := r["id"].(string)
	require.NotEmpty(t, responseID)
	assert.Equal(t, "1", at(r, "meta", "versionId"))
	assert.Equal(t, "accepted", r["participantStatus"])
	assert.Equal(t, "ok", r["comment"])

	read := s.do(http.MethodGet, "/AppointmentResponse/"+responseID, "")
	require.Equal(t, http.StatusOK, read.status, "%s", read.body)
	assert.Equal(t, "Appointment/"+id, at(read.json(t), "appointment", "reference"))

	a := s.do(http.MethodGet, "/Appointment/"+id, "").json(t)
	assert.Equal(t, "pending", a["status"])
	statuses := participantStatuses(t, a)
	assert.Equal(t, "accepted", statuses["Practitioner/dr-weber"])
	assert.Equal(t, "tentative", statuses["Patient/pat-1"], "no response yet: a hold is tentative")

	patient := s.do(http.MethodPost, "/AppointmentResponse", responseBody(id, "Patient/pat-1", "accepted"))
	require.Equal(t, http.StatusCreated, patient.status, "%s", patient.body)
	a = s.do(http.MethodGet, "/Appointment/"+id, "").json(t)
	assert.Equal(t, "booked", a["status"], "every participant accepted")
	assert.Equal(t, "accepted", participantStatuses(t, a)["Patient/pat-1"])
}

func TestAppointmentResponseSearch(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	booked := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00","end":"2025-03-03T09:20:00+01:00"`))
	require.Equal(t, http.StatusCreated, booked.status, "%s", booked.body)
	id, _ := booked.json(t)["id"].(string)
	for _, body := range []string{
		responseBody(id, "Practitioner/dr-weber", "tentative"),
		responseBody(id, "Patient/pat-1", "accepted"),
	} {
		resp := s.do(http.MethodPost, "/AppointmentResponse", body)
		require.Equal(t, http.StatusCreated, resp.status, "%s", resp.body)
	}
	tests := []struct {
		name, query string
		want        int
	}{
		{"by appointment", "appointment=Appointment/" + id, 2},
		{"by actor", "actor=Practitioner/dr-weber", 1},
		{"by patient actor", "actor=Patient/pat-1", 1},
		{"by part-status", "part-status=accepted", 1},
		{"all must match", "appointment=" + id + "&part-status=declined", 0},
		{"unknown appointment", "appointment=nope", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(http.MethodGet, "/AppointmentResponse?"+tc.query, "")
			require.Equal(t, http.StatusOK, resp.status, "%s", resp.body)
			entries, _ := resp.json(t)["entry"].([]any)
			assert.Len(t, entries, tc.want)
		})
	}
	bad := s.do(http.MethodGet, "/AppointmentResponse?part-status=maybe", "")
	assert.Equal(t, http.StatusBadRequest, bad.status)

	a := s.do(http.MethodGet, "/Appointment/"+id, "").json(t)
	assert.Equal(t, "booked", a["status"], "a response to a booking keeps its status")
	assert.Equal(t, "tentative", participantStatuses(t, a)["Practitioner/dr-weber"])
}

func TestAppointmentResponseErrors(t *testing.T) {
	t.Parallel()
	s := newSchedulingServer(t)
	booked := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-03T09:00:00+01:00","end":"2025-03-03T09:20:00+01:00"`))
	require.Equal(t, http.StatusCreated, booked.status, "%s", booked.body)
	id, _ := booked.json(t)["id"].(string)
	cancelled := s.do(http.MethodPost, "/Appointment", bookingBody("booked", `"start":"2025-03-03T09:20:00+01:00","end":"2025-03-03T09:40:00+01:00"`))
	require.Equal(t, http.StatusCreated, cancelled.status, "%s", cancelled.body)
	cancelledID, _ := cancelled.json(t)["id"].(string)
	moved := s.do(http.MethodPut, "/Appointment/"+cancelledID, withID(cancelledID, bookingBody("cancelled", `"start":"2025-03-03T09:20:00+01:00","end":"2025-03-03T09:40:00+01:00"`)))
	require.Equal(t, http.StatusOK, moved.status, "%s", moved.body)

	tests := []struct {
		name, body string
		want       int
	}{
		{"unknown appointment", responseBody("nope", "Practitioner/dr-weber", "accepted"), http.StatusUnprocessableEntity},
		{"actor not on appointment", responseBody(id, "Practitioner/dr-other", "accepted"), http.StatusUnprocessableEntity},
		{"other patient", responseBody(id, "Patient/pat-2", "accepted"), http.StatusUnprocessableEntity},
		{"cancelled appointment", responseBody(cancelledID, "Practitioner/dr-weber", "accepted"), http.StatusConflict},
		{"unknown status", responseBody(id, "Practitioner/dr-weber", "maybe"), http.StatusBadRequest},
		{"organization actor", responseBody(id, "Organization/o1", "accepted"), http.StatusBadRequest},
		{"not a response", `{"resourceType":"Appointment"}`, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := s.do(http.MethodPost, "/AppointmentResponse", tc.body)
			assert.Equal(t, tc.want, resp.status, "%s", resp.body)
			assert.Equal(t, "OperationOutcome", resp.json(t)["resourceType"])
		})
	}
}

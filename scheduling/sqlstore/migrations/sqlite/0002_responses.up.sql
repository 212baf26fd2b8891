-- Participant responses to appointments (FHIR AppointmentResponse). The
-- position orders the responses of an appointment, so the last one of a
-- participant is that participant's current status. participant_kind is
-- an actor kind or "Patient", whose participant_id is the patient id.
CREATE TABLE scheduling_responses (
	position INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL UNIQUE,
	appointment_id TEXT NOT NULL REFERENCES scheduling_appointments (id),
	participant_kind TEXT NOT NULL,
	participant_id TEXT NOT NULL,
	status TEXT NOT NULL,
	comment TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX scheduling_responses_appointment ON scheduling_responses (appointment_id, position);
CREATE INDEX scheduling_responses_participant ON scheduling_responses (participant_kind, participant_id);

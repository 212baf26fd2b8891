-- Times are BIGINT microseconds since the Unix epoch, UTC. Ids and codes
-- compare bytewise (COLLATE "C"), as on SQLite.

-- One schedule per actor.
CREATE TABLE scheduling_schedules (
	id TEXT COLLATE "C" PRIMARY KEY,
	actor_kind TEXT COLLATE "C" NOT NULL,
	actor_id TEXT COLLATE "C" NOT NULL,
	name TEXT NOT NULL,
	location_id TEXT COLLATE "C" NOT NULL,
	time_zone TEXT NOT NULL,
	granularity_seconds BIGINT NOT NULL,
	overbooking_mode TEXT NOT NULL,
	overbooking_extra INTEGER NOT NULL,
	overbooking_percent INTEGER NOT NULL,
	active BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	UNIQUE (actor_kind, actor_id)
);
CREATE INDEX scheduling_schedules_location ON scheduling_schedules (location_id);

-- Weekly rules (weekday, minutes, valid dates), one-off additions and
-- exceptions (start_at, end_at; 0 for weekly rules).
CREATE TABLE scheduling_availability (
	id TEXT COLLATE "C" PRIMARY KEY,
	schedule_id TEXT COLLATE "C" NOT NULL REFERENCES scheduling_schedules (id),
	kind TEXT NOT NULL,
	weekday INTEGER NOT NULL,
	start_minute INTEGER NOT NULL,
	end_minute INTEGER NOT NULL,
	valid_from TEXT NOT NULL,
	valid_until TEXT NOT NULL,
	start_at BIGINT NOT NULL,
	end_at BIGINT NOT NULL,
	capacity INTEGER NOT NULL,
	appointment_types TEXT NOT NULL, -- codes separated by spaces
	reason TEXT NOT NULL
);
CREATE INDEX scheduling_availability_schedule ON scheduling_availability (schedule_id, end_at);

CREATE TABLE scheduling_appointment_types (
	code TEXT COLLATE "C" PRIMARY KEY,
	display TEXT NOT NULL,
	duration_seconds BIGINT NOT NULL,
	buffer_before_seconds BIGINT NOT NULL,
	buffer_after_seconds BIGINT NOT NULL
);

CREATE TABLE scheduling_appointments (
	id TEXT COLLATE "C" PRIMARY KEY,
	version BIGINT NOT NULL,
	status TEXT NOT NULL,
	appointment_type TEXT COLLATE "C" NOT NULL,
	patient_id TEXT COLLATE "C" NOT NULL,
	start_at BIGINT NOT NULL,
	end_at BIGINT NOT NULL,
	hold_expires BIGINT NOT NULL, -- 0 unless a pending hold
	cancel_reason TEXT NOT NULL,
	replaces TEXT COLLATE "C" NOT NULL,
	replaced_by TEXT COLLATE "C" NOT NULL,
	waitlist_entry_id TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX scheduling_appointments_patient ON scheduling_appointments (patient_id, start_at);
CREATE INDEX scheduling_appointments_hold ON scheduling_appointments (status, hold_expires);
CREATE INDEX scheduling_appointments_start ON scheduling_appointments (start_at);

-- The actors of each appointment, with its period copied for searches by
-- actor and time.
CREATE TABLE scheduling_participants (
	appointment_id TEXT COLLATE "C" NOT NULL REFERENCES scheduling_appointments (id),
	actor_kind TEXT COLLATE "C" NOT NULL,
	actor_id TEXT COLLATE "C" NOT NULL,
	start_at BIGINT NOT NULL,
	end_at BIGINT NOT NULL,
	PRIMARY KEY (appointment_id, actor_kind, actor_id)
);
CREATE INDEX scheduling_participants_actor ON scheduling_participants (actor_kind, actor_id, start_at);

-- Every version of every appointment, never updated or deleted.
CREATE TABLE scheduling_appointment_history (
	appointment_id TEXT COLLATE "C" NOT NULL REFERENCES scheduling_appointments (id),
	version BIGINT NOT NULL,
	status TEXT NOT NULL,
	start_at BIGINT NOT NULL,
	end_at BIGINT NOT NULL,
	reason TEXT NOT NULL,
	changed_at BIGINT NOT NULL,
	PRIMARY KEY (appointment_id, version)
);

-- Seat counters: one row per schedule and grid cell that was ever claimed.
-- Claims increment booked with a guarded upsert (only while booked < seats)
-- and the CHECK rejects any write that would overfill a cell.
CREATE TABLE scheduling_cells (
	schedule_id TEXT COLLATE "C" NOT NULL REFERENCES scheduling_schedules (id),
	cell_start BIGINT NOT NULL,
	seats INTEGER NOT NULL,
	booked INTEGER NOT NULL,
	PRIMARY KEY (schedule_id, cell_start),
	CHECK (booked >= 0 AND booked <= seats)
);

-- Which cells each appointment holds a seat in.
CREATE TABLE scheduling_claims (
	appointment_id TEXT COLLATE "C" NOT NULL REFERENCES scheduling_appointments (id),
	schedule_id TEXT COLLATE "C" NOT NULL,
	cell_start BIGINT NOT NULL,
	PRIMARY KEY (appointment_id, schedule_id, cell_start),
	FOREIGN KEY (schedule_id, cell_start) REFERENCES scheduling_cells (schedule_id, cell_start)
);

CREATE TABLE scheduling_waitlist (
	id TEXT COLLATE "C" PRIMARY KEY,
	patient_id TEXT COLLATE "C" NOT NULL,
	appointment_type TEXT COLLATE "C" NOT NULL,
	actor_kind TEXT COLLATE "C" NOT NULL, -- empty: any actor
	actor_id TEXT COLLATE "C" NOT NULL,
	window_start BIGINT NOT NULL,
	window_end BIGINT NOT NULL,
	status TEXT NOT NULL,
	offered_appointment_id TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX scheduling_waitlist_queue ON scheduling_waitlist (status, appointment_type, created_at, id);
CREATE INDEX scheduling_waitlist_patient ON scheduling_waitlist (patient_id);

-- Transactional outbox of domain events and reminders, read by position.
CREATE TABLE scheduling_outbox (
	position BIGSERIAL PRIMARY KEY,
	event_type TEXT NOT NULL,
	appointment_id TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL,
	waitlist_entry_id TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	due_at BIGINT NOT NULL, -- 0 unless a reminder
	data TEXT NOT NULL
);

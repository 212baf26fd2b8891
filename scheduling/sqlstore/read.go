package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/storage"
)

type scheduleRow struct {
	ID                 string `db:"id"`
	ActorKind          string `db:"actor_kind"`
	ActorID            string `db:"actor_id"`
	Name               string `db:"name"`
	LocationID         string `db:"location_id"`
	TimeZone           string `db:"time_zone"`
	GranularitySeconds int64  `db:"granularity_seconds"`
	OverbookingMode    string `db:"overbooking_mode"`
	OverbookingExtra   int    `db:"overbooking_extra"`
	OverbookingPercent int    `db:"overbooking_percent"`
	Active             bool   `db:"active"`
	CreatedAt          int64  `db:"created_at"`
	UpdatedAt          int64  `db:"updated_at"`
}

const scheduleColumns = `id, actor_kind, actor_id, name, location_id, time_zone, granularity_seconds,
	overbooking_mode, overbooking_extra, overbooking_percent, active, created_at, updated_at`

func (r scheduleRow) schedule() scheduling.Schedule {
	return scheduling.Schedule{
		ID:          r.ID,
		Actor:       scheduling.Actor{Kind: scheduling.ActorKind(r.ActorKind), ID: r.ActorID},
		Name:        r.Name,
		LocationID:  r.LocationID,
		TimeZone:    r.TimeZone,
		Granularity: time.Duration(r.GranularitySeconds) * time.Second,
		Overbooking: scheduling.OverbookingPolicy{
			Mode:    scheduling.OverbookingMode(r.OverbookingMode),
			Extra:   r.OverbookingExtra,
			Percent: r.OverbookingPercent,
		},
		Active:  r.Active,
		Created: fromMicros(r.CreatedAt),
		Updated: fromMicros(r.UpdatedAt),
	}
}

func (s *Store) GetSchedule(ctx context.Context, id string) (*scheduling.Schedule, error) {
	var row scheduleRow
	err := s.reader().get(ctx, &row, `SELECT `+scheduleColumns+` FROM scheduling_schedules WHERE id = ?`, id)
	if err != nil {
		return nil, notFound("schedule", id, err)
	}
	sc := row.schedule()
	return &sc, nil
}

func (s *Store) ListSchedules(ctx context.Context, f scheduling.ScheduleFilter) ([]scheduling.Schedule, error) {
	var where []string
	var args []any
	if len(f.Actors) > 0 {
		cond, a := actorCondition("actor_kind", "actor_id", f.Actors)
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.Kind != "" {
		where = append(where, "actor_kind = ?")
		args = append(args, string(f.Kind))
	}
	if f.LocationID != "" {
		where = append(where, "location_id = ?")
		args = append(args, f.LocationID)
	}
	if f.ActiveOnly {
		where = append(where, "active = ?")
		args = append(args, true)
	}
	query := `SELECT ` + scheduleColumns + ` FROM scheduling_schedules`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY actor_kind, actor_id"
	var rows []scheduleRow
	if err := s.reader().sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	out := make([]scheduling.Schedule, len(rows))
	for i, r := range rows {
		out[i] = r.schedule()
	}
	return out, nil
}

type availabilityRow struct {
	ID               string `db:"id"`
	ScheduleID       string `db:"schedule_id"`
	Kind             string `db:"kind"`
	Weekday          int    `db:"weekday"`
	StartMinute      int    `db:"start_minute"`
	EndMinute        int    `db:"end_minute"`
	ValidFrom        string `db:"valid_from"`
	ValidUntil       string `db:"valid_until"`
	StartAt          int64  `db:"start_at"`
	EndAt            int64  `db:"end_at"`
	Capacity         int    `db:"capacity"`
	AppointmentTypes string `db:"appointment_types"`
	Reason           string `db:"reason"`
}

func (r availabilityRow) availability() scheduling.Availability {
	// The dates were written by Date.String, so they parse.
	from, _ := scheduling.ParseDate(r.ValidFrom)
	until, _ := scheduling.ParseDate(r.ValidUntil)
	return scheduling.Availability{
		ID:               r.ID,
		ScheduleID:       r.ScheduleID,
		Kind:             scheduling.AvailabilityKind(r.Kind),
		Weekday:          time.Weekday(r.Weekday),
		StartTime:        scheduling.TimeOfDay(r.StartMinute),
		EndTime:          scheduling.TimeOfDay(r.EndMinute),
		ValidFrom:        from,
		ValidUntil:       until,
		Start:            fromMicros(r.StartAt),
		End:              fromMicros(r.EndAt),
		Capacity:         r.Capacity,
		AppointmentTypes: strings.Fields(r.AppointmentTypes),
		Reason:           r.Reason,
	}
}

func (s *Store) ListAvailability(ctx context.Context, f scheduling.AvailabilityFilter) ([]scheduling.Availability, error) {
	if len(f.ScheduleIDs) == 0 {
		return []scheduling.Availability{}, nil
	}
	query := `SELECT id, schedule_id, kind, weekday, start_minute, end_minute, valid_from, valid_until,
		start_at, end_at, capacity, appointment_types, reason
		FROM scheduling_availability WHERE schedule_id IN (` + in(len(f.ScheduleIDs)) + `)`
	args := anyOf(f.ScheduleIDs)
	if !f.From.IsZero() {
		query += ` AND (kind = 'weekly' OR end_at > ?)`
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		query += ` AND (kind = 'weekly' OR start_at < ?)`
		args = append(args, micros(f.To))
	}
	query += ` ORDER BY schedule_id, kind, weekday, start_minute, start_at, id`
	var rows []availabilityRow
	if err := s.reader().sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list availability: %w", err)
	}
	out := make([]scheduling.Availability, len(rows))
	for i, r := range rows {
		out[i] = r.availability()
	}
	return out, nil
}

type typeRow struct {
	Code          string `db:"code"`
	Display       string `db:"display"`
	DurationSec   int64  `db:"duration_seconds"`
	BeforeSeconds int64  `db:"buffer_before_seconds"`
	AfterSeconds  int64  `db:"buffer_after_seconds"`
}

func (r typeRow) appointmentType() scheduling.AppointmentType {
	return scheduling.AppointmentType{
		Code:         r.Code,
		Display:      r.Display,
		Duration:     time.Duration(r.DurationSec) * time.Second,
		BufferBefore: time.Duration(r.BeforeSeconds) * time.Second,
		BufferAfter:  time.Duration(r.AfterSeconds) * time.Second,
	}
}

const typeColumns = `code, display, duration_seconds, buffer_before_seconds, buffer_after_seconds`

func (s *Store) GetAppointmentType(ctx context.Context, code string) (*scheduling.AppointmentType, error) {
	var row typeRow
	err := s.reader().get(ctx, &row, `SELECT `+typeColumns+` FROM scheduling_appointment_types WHERE code = ?`, code)
	if err != nil {
		return nil, notFound("appointment type", code, err)
	}
	t := row.appointmentType()
	return &t, nil
}

func (s *Store) ListAppointmentTypes(ctx context.Context) ([]scheduling.AppointmentType, error) {
	var rows []typeRow
	if err := s.reader().sel(ctx, &rows, `SELECT `+typeColumns+` FROM scheduling_appointment_types ORDER BY code`); err != nil {
		return nil, fmt.Errorf("list appointment types: %w", err)
	}
	out := make([]scheduling.AppointmentType, len(rows))
	for i, r := range rows {
		out[i] = r.appointmentType()
	}
	return out, nil
}

// ListCells scans rows by hand: a search reads thousands of cells, and
// sqlx's reflection costs more than the query.
func (s *Store) ListCells(ctx context.Context, f scheduling.CellFilter) ([]scheduling.Cell, error) {
	if len(f.ScheduleIDs) == 0 {
		return []scheduling.Cell{}, nil
	}
	c := s.reader()
	query := `SELECT schedule_id, cell_start, seats, booked FROM scheduling_cells
		WHERE schedule_id IN (` + in(len(f.ScheduleIDs)) + `) AND cell_start >= ? AND cell_start < ? AND booked > 0
		ORDER BY schedule_id, cell_start`
	args := append(anyOf(f.ScheduleIDs), micros(f.From), micros(f.To))
	rows, err := c.q.QueryContext(ctx, c.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list cells: %w", mapErr(err))
	}
	defer rows.Close()
	out := []scheduling.Cell{}
	for rows.Next() {
		var cell scheduling.Cell
		var start int64
		if err := rows.Scan(&cell.ScheduleID, &start, &cell.Seats, &cell.Booked); err != nil {
			return nil, fmt.Errorf("list cells: %w", err)
		}
		cell.Start = fromMicros(start)
		out = append(out, cell)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list cells: %w", mapErr(err))
	}
	return out, nil
}

type appointmentRow struct {
	ID              string `db:"id"`
	Version         int64  `db:"version"`
	Status          string `db:"status"`
	AppointmentType string `db:"appointment_type"`
	PatientID       string `db:"patient_id"`
	StartAt         int64  `db:"start_at"`
	EndAt           int64  `db:"end_at"`
	HoldExpires     int64  `db:"hold_expires"`
	CancelReason    string `db:"cancel_reason"`
	Replaces        string `db:"replaces"`
	ReplacedBy      string `db:"replaced_by"`
	WaitlistEntryID string `db:"waitlist_entry_id"`
	CreatedAt       int64  `db:"created_at"`
	UpdatedAt       int64  `db:"updated_at"`
}

const appointmentColumns = `a.id, a.version, a.status, a.appointment_type, a.patient_id, a.start_at, a.end_at,
	a.hold_expires, a.cancel_reason, a.replaces, a.replaced_by, a.waitlist_entry_id, a.created_at, a.updated_at`

func (r appointmentRow) appointment() scheduling.Appointment {
	return scheduling.Appointment{
		ID:              r.ID,
		Version:         r.Version,
		Status:          scheduling.Status(r.Status),
		AppointmentType: r.AppointmentType,
		PatientID:       r.PatientID,
		Start:           fromMicros(r.StartAt),
		End:             fromMicros(r.EndAt),
		HoldExpires:     fromMicros(r.HoldExpires),
		CancelReason:    r.CancelReason,
		Replaces:        r.Replaces,
		ReplacedBy:      r.ReplacedBy,
		WaitlistEntryID: r.WaitlistEntryID,
		Created:         fromMicros(r.CreatedAt),
		Updated:         fromMicros(r.UpdatedAt),
	}
}

func (s *Store) GetAppointment(ctx context.Context, id string) (*scheduling.Appointment, error) {
	return getAppointment(ctx, s.reader(), id, false)
}

func getAppointment(ctx context.Context, c conn, id string, lock bool) (*scheduling.Appointment, error) {
	query := `SELECT ` + appointmentColumns + ` FROM scheduling_appointments a WHERE a.id = ?`
	if lock && c.dialect == storage.Postgres {
		query += ` FOR UPDATE`
	}
	var row appointmentRow
	if err := c.get(ctx, &row, query, id); err != nil {
		return nil, notFound("appointment", id, err)
	}
	list := []scheduling.Appointment{row.appointment()}
	if err := loadParticipants(ctx, c, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

func (s *Store) ListAppointments(ctx context.Context, f scheduling.AppointmentFilter) ([]scheduling.Appointment, error) {
	return listAppointments(ctx, s.reader(), f)
}

func listAppointments(ctx context.Context, c conn, f scheduling.AppointmentFilter) ([]scheduling.Appointment, error) {
	var where []string
	var args []any
	if len(f.Actors) > 0 {
		cond, a := actorCondition("p.actor_kind", "p.actor_id", f.Actors)
		sub := `a.id IN (SELECT p.appointment_id FROM scheduling_participants p WHERE ` + cond
		if !f.To.IsZero() {
			sub += ` AND p.start_at < ?`
			a = append(a, micros(f.To))
		}
		if !f.From.IsZero() {
			sub += ` AND p.end_at > ?`
			a = append(a, micros(f.From))
		}
		where = append(where, sub+`)`)
		args = append(args, a...)
	}
	if f.PatientID != "" {
		where = append(where, "a.patient_id = ?")
		args = append(args, f.PatientID)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "a.status IN ("+in(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	if !f.From.IsZero() {
		where = append(where, "a.end_at > ?")
		args = append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "a.start_at < ?")
		args = append(args, micros(f.To))
	}
	if !f.HoldExpiredBy.IsZero() {
		where = append(where, "a.status = 'pending' AND a.hold_expires > 0 AND a.hold_expires <= ?")
		args = append(args, micros(f.HoldExpiredBy))
	}
	query := `SELECT ` + appointmentColumns + ` FROM scheduling_appointments a`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY a.start_at, a.id"
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var rows []appointmentRow
	if err := c.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list appointments: %w", err)
	}
	out := make([]scheduling.Appointment, len(rows))
	for i, r := range rows {
		out[i] = r.appointment()
	}
	if err := loadParticipants(ctx, c, out); err != nil {
		return nil, err
	}
	return out, nil
}

// loadParticipants fills in the actors of each appointment, reading them
// in batches of 500 ids.
func loadParticipants(ctx context.Context, c conn, list []scheduling.Appointment) error {
	byID := make(map[string]int, len(list))
	for i, a := range list {
		byID[a.ID] = i
		list[i].Participants = []scheduling.Actor{}
	}
	for start := 0; start < len(list); start += 500 {
		batch := list[start:min(start+500, len(list))]
		ids := make([]any, len(batch))
		for i, a := range batch {
			ids[i] = a.ID
		}
		var rows []struct {
			AppointmentID string `db:"appointment_id"`
			Kind          string `db:"actor_kind"`
			ID            string `db:"actor_id"`
		}
		err := c.sel(ctx, &rows, `SELECT appointment_id, actor_kind, actor_id FROM scheduling_participants
			WHERE appointment_id IN (`+in(len(ids))+`)`, ids...)
		if err != nil {
			return fmt.Errorf("read participants: %w", err)
		}
		for _, r := range rows {
			i := byID[r.AppointmentID]
			list[i].Participants = append(list[i].Participants, scheduling.Actor{Kind: scheduling.ActorKind(r.Kind), ID: r.ID})
		}
	}
	for i := range list {
		slices.SortFunc(list[i].Participants, func(a, b scheduling.Actor) int {
			return strings.Compare(a.String(), b.String())
		})
	}
	return nil
}

func (s *Store) AppointmentHistory(ctx context.Context, id string) ([]scheduling.AppointmentVersion, error) {
	var rows []struct {
		Version   int64  `db:"version"`
		Status    string `db:"status"`
		StartAt   int64  `db:"start_at"`
		EndAt     int64  `db:"end_at"`
		Reason    string `db:"reason"`
		ChangedAt int64  `db:"changed_at"`
	}
	err := s.reader().sel(ctx, &rows, `SELECT version, status, start_at, end_at, reason, changed_at
		FROM scheduling_appointment_history WHERE appointment_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("appointment history %s: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("appointment %s: %w", id, scheduling.ErrNotFound)
	}
	out := make([]scheduling.AppointmentVersion, len(rows))
	for i, r := range rows {
		out[i] = scheduling.AppointmentVersion{Version: r.Version, Status: scheduling.Status(r.Status),
			Start: fromMicros(r.StartAt), End: fromMicros(r.EndAt), Reason: r.Reason, Time: fromMicros(r.ChangedAt)}
	}
	return out, nil
}

type waitlistRow struct {
	ID                   string `db:"id"`
	PatientID            string `db:"patient_id"`
	AppointmentType      string `db:"appointment_type"`
	ActorKind            string `db:"actor_kind"`
	ActorID              string `db:"actor_id"`
	WindowStart          int64  `db:"window_start"`
	WindowEnd            int64  `db:"window_end"`
	Status               string `db:"status"`
	OfferedAppointmentID string `db:"offered_appointment_id"`
	CreatedAt            int64  `db:"created_at"`
	UpdatedAt            int64  `db:"updated_at"`
}

const waitlistColumns = `id, patient_id, appointment_type, actor_kind, actor_id, window_start, window_end,
	status, offered_appointment_id, created_at, updated_at`

func (r waitlistRow) entry() scheduling.WaitlistEntry {
	return scheduling.WaitlistEntry{
		ID:                   r.ID,
		PatientID:            r.PatientID,
		AppointmentType:      r.AppointmentType,
		Actor:                scheduling.Actor{Kind: scheduling.ActorKind(r.ActorKind), ID: r.ActorID},
		From:                 fromMicros(r.WindowStart),
		To:                   fromMicros(r.WindowEnd),
		Status:               scheduling.WaitlistStatus(r.Status),
		OfferedAppointmentID: r.OfferedAppointmentID,
		Created:              fromMicros(r.CreatedAt),
		Updated:              fromMicros(r.UpdatedAt),
	}
}

func (s *Store) GetWaitlistEntry(ctx context.Context, id string) (*scheduling.WaitlistEntry, error) {
	return getWaitlistEntry(ctx, s.reader(), id, false)
}

func getWaitlistEntry(ctx context.Context, c conn, id string, lock bool) (*scheduling.WaitlistEntry, error) {
	query := `SELECT ` + waitlistColumns + ` FROM scheduling_waitlist WHERE id = ?`
	if lock && c.dialect == storage.Postgres {
		query += ` FOR UPDATE`
	}
	var row waitlistRow
	if err := c.get(ctx, &row, query, id); err != nil {
		return nil, notFound("waitlist entry", id, err)
	}
	e := row.entry()
	return &e, nil
}

func (s *Store) ListWaitlist(ctx context.Context, f scheduling.WaitlistFilter) ([]scheduling.WaitlistEntry, error) {
	var where []string
	var args []any
	if f.PatientID != "" {
		where = append(where, "patient_id = ?")
		args = append(args, f.PatientID)
	}
	if f.AppointmentType != "" {
		where = append(where, "appointment_type = ?")
		args = append(args, f.AppointmentType)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN ("+in(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	query := `SELECT ` + waitlistColumns + ` FROM scheduling_waitlist`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at, id"
	if f.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	var rows []waitlistRow
	if err := s.reader().sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list waitlist: %w", err)
	}
	out := make([]scheduling.WaitlistEntry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

func (s *Store) Events(ctx context.Context, after int64, limit int) ([]scheduling.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	var rows []struct {
		Position        int64  `db:"position"`
		Type            string `db:"event_type"`
		AppointmentID   string `db:"appointment_id"`
		Version         int64  `db:"version"`
		WaitlistEntryID string `db:"waitlist_entry_id"`
		CreatedAt       int64  `db:"created_at"`
		DueAt           int64  `db:"due_at"`
		Data            string `db:"data"`
	}
	err := s.reader().sel(ctx, &rows, `SELECT position, event_type, appointment_id, version, waitlist_entry_id,
		created_at, due_at, data FROM scheduling_outbox WHERE position > ? ORDER BY position LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]scheduling.Event, len(rows))
	for i, r := range rows {
		out[i] = scheduling.Event{Position: r.Position, Type: r.Type, AppointmentID: r.AppointmentID, Version: r.Version,
			WaitlistEntryID: r.WaitlistEntryID, Time: fromMicros(r.CreatedAt), DueAt: fromMicros(r.DueAt), Data: []byte(r.Data)}
	}
	return out, nil
}

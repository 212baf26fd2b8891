package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/storage"
)

// outboxLock is the PostgreSQL advisory lock key that orders outbox
// writes: a transaction takes it just before inserting its events and
// holds it until it commits.
const outboxLock = 0x5c4ed0

// txn is a scheduling.Tx.
type txn struct {
	c conn
	// events are outbox rows written at commit, in order.
	events []scheduling.Event
}

var _ scheduling.Tx = (*txn)(nil)

func (t *txn) PutSchedule(ctx context.Context, s scheduling.Schedule) error {
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_schedules (`+scheduleColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, location_id = excluded.location_id,
			time_zone = excluded.time_zone, overbooking_mode = excluded.overbooking_mode,
			overbooking_extra = excluded.overbooking_extra, overbooking_percent = excluded.overbooking_percent,
			active = excluded.active, updated_at = excluded.updated_at`,
		s.ID, string(s.Actor.Kind), s.Actor.ID, s.Name, s.LocationID, s.TimeZone, int64(s.Granularity/time.Second),
		string(s.Overbooking.Mode), s.Overbooking.Extra, s.Overbooking.Percent, s.Active, micros(s.Created), micros(s.Updated))
	if err != nil {
		return fmt.Errorf("put schedule %s: %w", s.ID, err)
	}
	return nil
}

func (t *txn) PutAvailability(ctx context.Context, a scheduling.Availability) error {
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_availability (id, schedule_id, kind, weekday, start_minute,
		end_minute, valid_from, valid_until, start_at, end_at, capacity, appointment_types, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, weekday = excluded.weekday,
			start_minute = excluded.start_minute, end_minute = excluded.end_minute,
			valid_from = excluded.valid_from, valid_until = excluded.valid_until, start_at = excluded.start_at,
			end_at = excluded.end_at, capacity = excluded.capacity,
			appointment_types = excluded.appointment_types, reason = excluded.reason`,
		a.ID, a.ScheduleID, string(a.Kind), int(a.Weekday), int(a.StartTime), int(a.EndTime), a.ValidFrom.String(),
		a.ValidUntil.String(), micros(a.Start), micros(a.End), a.Capacity, strings.Join(a.AppointmentTypes, " "), a.Reason)
	if err != nil {
		return fmt.Errorf("put availability %s: %w", a.ID, err)
	}
	return nil
}

func (t *txn) DeleteAvailability(ctx context.Context, id string) error {
	res, err := t.c.exec(ctx, `DELETE FROM scheduling_availability WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete availability %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("availability %s: %w", id, scheduling.ErrNotFound)
	}
	return nil
}

func (t *txn) PutAppointmentType(ctx context.Context, a scheduling.AppointmentType) error {
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_appointment_types (`+typeColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET display = excluded.display, duration_seconds = excluded.duration_seconds,
			buffer_before_seconds = excluded.buffer_before_seconds, buffer_after_seconds = excluded.buffer_after_seconds`,
		a.Code, a.Display, int64(a.Duration/time.Second), int64(a.BufferBefore/time.Second), int64(a.BufferAfter/time.Second))
	if err != nil {
		return fmt.Errorf("put appointment type %s: %w", a.Code, err)
	}
	return nil
}

func (t *txn) GetAppointment(ctx context.Context, id string) (*scheduling.Appointment, error) {
	return getAppointment(ctx, t.c, id, true)
}

func (t *txn) ListAppointments(ctx context.Context, f scheduling.AppointmentFilter) ([]scheduling.Appointment, error) {
	return listAppointments(ctx, t.c, f)
}

func (t *txn) PutAppointment(ctx context.Context, a scheduling.Appointment, reason string) error {
	if err := t.writeAppointment(ctx, a); err != nil {
		return fmt.Errorf("put appointment %s: %w", a.ID, err)
	}
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_appointment_history
		(appointment_id, version, status, start_at, end_at, reason, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Version, string(a.Status), micros(a.Start), micros(a.End), reason, micros(a.Updated))
	if err != nil {
		return fmt.Errorf("record version %d of appointment %s: %w", a.Version, a.ID, err)
	}
	return nil
}

func (t *txn) writeAppointment(ctx context.Context, a scheduling.Appointment) error {
	values := []any{string(a.Status), a.AppointmentType, a.PatientID, micros(a.Start), micros(a.End),
		micros(a.HoldExpires), a.CancelReason, a.Replaces, a.ReplacedBy, a.WaitlistEntryID, micros(a.Updated)}
	if a.Version != 1 {
		args := append([]any{a.Version}, values...)
		args = append(args, a.ID, a.Version-1)
		res, err := t.c.exec(ctx, `UPDATE scheduling_appointments SET version = ?, status = ?, appointment_type = ?,
			patient_id = ?, start_at = ?, end_at = ?, hold_expires = ?, cancel_reason = ?, replaces = ?,
			replaced_by = ?, waitlist_entry_id = ?, updated_at = ? WHERE id = ? AND version = ?`, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("stored version is not %d: %w", a.Version-1, scheduling.ErrConflict)
		}
		_, err = t.c.exec(ctx, `UPDATE scheduling_participants SET start_at = ?, end_at = ? WHERE appointment_id = ?`,
			micros(a.Start), micros(a.End), a.ID)
		return err
	}
	args := append([]any{a.ID, a.Version}, values...)
	args = append(args, micros(a.Created))
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_appointments (id, version, status, appointment_type, patient_id,
		start_at, end_at, hold_expires, cancel_reason, replaces, replaced_by, waitlist_entry_id, updated_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return err
	}
	if len(a.Participants) == 0 {
		return nil
	}
	rows := make([]string, len(a.Participants))
	pargs := make([]any, 0, 5*len(a.Participants))
	for i, p := range a.Participants {
		rows[i] = "(?, ?, ?, ?, ?)"
		pargs = append(pargs, a.ID, string(p.Kind), p.ID, micros(a.Start), micros(a.End))
	}
	_, err = t.c.exec(ctx, `INSERT INTO scheduling_participants (appointment_id, actor_kind, actor_id, start_at, end_at)
		VALUES `+strings.Join(rows, ", "), pargs...)
	return err
}

// Claim takes one seat per cell in (schedule, start) order. Every
// transaction locks cells in this one order, so overlapping claims wait
// for each other instead of deadlocking.
func (t *txn) Claim(ctx context.Context, appointmentID string, cells []scheduling.Cell) error {
	sorted := slices.Clone(cells)
	slices.SortFunc(sorted, func(a, b scheduling.Cell) int {
		if c := strings.Compare(a.ScheduleID, b.ScheduleID); c != 0 {
			return c
		}
		return a.Start.Compare(b.Start)
	})
	sorted = slices.CompactFunc(sorted, func(a, b scheduling.Cell) bool {
		return a.ScheduleID == b.ScheduleID && a.Start.Equal(b.Start)
	})
	for i, c := range sorted {
		if c.Seats < 1 {
			return fmt.Errorf("claim for appointment %s: cell of schedule %s has %d seats: %w", appointmentID, c.ScheduleID, c.Seats, scheduling.ErrInvalid)
		}
		res, err := t.c.exec(ctx, `INSERT INTO scheduling_cells (schedule_id, cell_start, seats, booked) VALUES (?, ?, ?, 1)
			ON CONFLICT (schedule_id, cell_start) DO UPDATE SET booked = scheduling_cells.booked + 1, seats = excluded.seats
			WHERE scheduling_cells.booked < excluded.seats`, c.ScheduleID, micros(c.Start), c.Seats)
		if err != nil {
			return fmt.Errorf("claim cell of schedule %s at %s: %w", c.ScheduleID, c.Start.Format(time.RFC3339), err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			continue
		}
		if err := t.decrement(ctx, sorted[:i]); err != nil {
			return err
		}
		return fmt.Errorf("schedule %s at %s: %w", c.ScheduleID, c.Start.Format(time.RFC3339), scheduling.ErrSlotFull)
	}
	rows := make([]string, 0, len(sorted))
	args := make([]any, 0, 3*len(sorted))
	for _, c := range sorted {
		rows = append(rows, "(?, ?, ?)")
		args = append(args, appointmentID, c.ScheduleID, micros(c.Start))
	}
	// Batches of 300 rows stay below SQLite's limit on bound values.
	for start := 0; start < len(rows); start += 300 {
		end := min(start+300, len(rows))
		_, err := t.c.exec(ctx, `INSERT INTO scheduling_claims (appointment_id, schedule_id, cell_start) VALUES `+
			strings.Join(rows[start:end], ", "), args[3*start:3*end]...)
		if err != nil {
			return fmt.Errorf("record claims of appointment %s: %w", appointmentID, err)
		}
	}
	return nil
}

func (t *txn) decrement(ctx context.Context, cells []scheduling.Cell) error {
	for _, c := range cells {
		_, err := t.c.exec(ctx, `UPDATE scheduling_cells SET booked = booked - 1 WHERE schedule_id = ? AND cell_start = ?`,
			c.ScheduleID, micros(c.Start))
		if err != nil {
			return fmt.Errorf("return seat of schedule %s at %s: %w", c.ScheduleID, c.Start.Format(time.RFC3339), err)
		}
	}
	return nil
}

func (t *txn) Release(ctx context.Context, appointmentID string) ([]scheduling.Cell, error) {
	var rows []struct {
		ScheduleID string `db:"schedule_id"`
		CellStart  int64  `db:"cell_start"`
		Seats      int    `db:"seats"`
	}
	err := t.c.sel(ctx, &rows, `SELECT c.schedule_id, c.cell_start, s.seats FROM scheduling_claims c
		JOIN scheduling_cells s ON s.schedule_id = c.schedule_id AND s.cell_start = c.cell_start
		WHERE c.appointment_id = ? ORDER BY c.schedule_id, c.cell_start`, appointmentID)
	if err != nil {
		return nil, fmt.Errorf("read claims of appointment %s: %w", appointmentID, err)
	}
	cells := make([]scheduling.Cell, len(rows))
	for i, r := range rows {
		cells[i] = scheduling.Cell{ScheduleID: r.ScheduleID, Start: fromMicros(r.CellStart), Seats: r.Seats}
	}
	if err := t.decrement(ctx, cells); err != nil {
		return nil, err
	}
	if _, err := t.c.exec(ctx, `DELETE FROM scheduling_claims WHERE appointment_id = ?`, appointmentID); err != nil {
		return nil, fmt.Errorf("delete claims of appointment %s: %w", appointmentID, err)
	}
	return cells, nil
}

func (t *txn) GetWaitlistEntry(ctx context.Context, id string) (*scheduling.WaitlistEntry, error) {
	return getWaitlistEntry(ctx, t.c, id, true)
}

// NextWaitlistEntry skips entries that another transaction has locked on
// PostgreSQL, so two cancellations at once offer their slots to two
// different entries.
func (t *txn) NextWaitlistEntry(ctx context.Context, m scheduling.WaitlistMatch) (*scheduling.WaitlistEntry, error) {
	query := `SELECT ` + waitlistColumns + ` FROM scheduling_waitlist
		WHERE status = 'waiting' AND appointment_type = ? AND window_start <= ? AND window_end >= ?`
	args := []any{m.AppointmentType, micros(m.Start), micros(m.End)}
	if len(m.Actors) > 0 {
		cond, a := actorCondition("actor_kind", "actor_id", m.Actors)
		query += ` AND (actor_kind = '' OR ` + cond + `)`
		args = append(args, a...)
	} else {
		query += ` AND actor_kind = ''`
	}
	query += ` ORDER BY created_at, id LIMIT 1`
	if t.c.dialect == storage.Postgres {
		query += ` FOR UPDATE SKIP LOCKED`
	}
	var row waitlistRow
	if err := t.c.get(ctx, &row, query, args...); err != nil {
		return nil, notFound("waitlist entry for", m.AppointmentType, err)
	}
	e := row.entry()
	return &e, nil
}

func (t *txn) PutWaitlistEntry(ctx context.Context, e scheduling.WaitlistEntry) error {
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_waitlist (`+waitlistColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status,
			offered_appointment_id = excluded.offered_appointment_id, updated_at = excluded.updated_at`,
		e.ID, e.PatientID, e.AppointmentType, string(e.Actor.Kind), e.Actor.ID, micros(e.From), micros(e.To),
		string(e.Status), e.OfferedAppointmentID, micros(e.Created), micros(e.Updated))
	if err != nil {
		return fmt.Errorf("put waitlist entry %s: %w", e.ID, err)
	}
	return nil
}

// Emit buffers the event; InTx writes it just before commit.
func (t *txn) Emit(ctx context.Context, e scheduling.Event) error {
	if e.Type == "" {
		return errors.New("emit: event type is empty")
	}
	t.events = append(t.events, e)
	return nil
}

func (t *txn) flushEvents(ctx context.Context) error {
	if len(t.events) == 0 {
		return nil
	}
	if t.c.dialect == storage.Postgres {
		if _, err := t.c.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, outboxLock); err != nil {
			return fmt.Errorf("lock outbox: %w", err)
		}
	}
	for start := 0; start < len(t.events); start += 100 {
		batch := t.events[start:min(start+100, len(t.events))]
		rows := make([]string, len(batch))
		args := make([]any, 0, 7*len(batch))
		for i, e := range batch {
			data := string(e.Data)
			if data == "" {
				data = "{}"
			}
			rows[i] = "(?, ?, ?, ?, ?, ?, ?)"
			args = append(args, e.Type, e.AppointmentID, e.Version, e.WaitlistEntryID, micros(e.Time), micros(e.DueAt), data)
		}
		_, err := t.c.exec(ctx, `INSERT INTO scheduling_outbox (event_type, appointment_id, version, waitlist_entry_id,
			created_at, due_at, data) VALUES `+strings.Join(rows, ", "), args...)
		if err != nil {
			return fmt.Errorf("write outbox: %w", err)
		}
	}
	t.events = nil
	return nil
}

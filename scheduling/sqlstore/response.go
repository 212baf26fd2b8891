package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/nexus-health-360/nexus/scheduling"
)

var _ scheduling.ResponseStore = (*Store)(nil)

type responseRow struct {
	ID              string `db:"id"`
	AppointmentID   string `db:"appointment_id"`
	ParticipantKind string `db:"participant_kind"`
	ParticipantID   string `db:"participant_id"`
	Status          string `db:"status"`
	Comment         string `db:"comment"`
	CreatedAt       int64  `db:"created_at"`
}

const responseColumns = `id, appointment_id, participant_kind, participant_id, status, comment, created_at`

func (r responseRow) response() scheduling.Response {
	return scheduling.Response{
		ID:            r.ID,
		AppointmentID: r.AppointmentID,
		Participant:   scheduling.Actor{Kind: scheduling.ActorKind(r.ParticipantKind), ID: r.ParticipantID},
		Status:        scheduling.ResponseStatus(r.Status),
		Comment:       r.Comment,
		Created:       fromMicros(r.CreatedAt),
	}
}

func (t *txn) PutResponse(ctx context.Context, r scheduling.Response) error {
	_, err := t.c.exec(ctx, `INSERT INTO scheduling_responses (`+responseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.AppointmentID, string(r.Participant.Kind), r.Participant.ID, string(r.Status), r.Comment, micros(r.Created))
	if err != nil {
		return fmt.Errorf("put response %s to appointment %s: %w", r.ID, r.AppointmentID, mapErr(err))
	}
	return nil
}

func (t *txn) ListResponses(ctx context.Context, f scheduling.ResponseFilter) ([]scheduling.Response, error) {
	return listResponses(ctx, t.c, f)
}

func (s *Store) ListResponses(ctx context.Context, f scheduling.ResponseFilter) ([]scheduling.Response, error) {
	return listResponses(ctx, s.reader(), f)
}

func (s *Store) GetResponse(ctx context.Context, id string) (*scheduling.Response, error) {
	var row responseRow
	err := s.reader().get(ctx, &row, `SELECT `+responseColumns+` FROM scheduling_responses WHERE id = ?`, id)
	if err != nil {
		return nil, notFound("response", id, err)
	}
	r := row.response()
	return &r, nil
}

func listResponses(ctx context.Context, c conn, f scheduling.ResponseFilter) ([]scheduling.Response, error) {
	var where []string
	var args []any
	if len(f.AppointmentIDs) > 0 {
		where = append(where, "appointment_id IN ("+in(len(f.AppointmentIDs))+")")
		args = append(args, anyOf(f.AppointmentIDs)...)
	}
	if f.Participant != (scheduling.Actor{}) {
		where = append(where, "participant_kind = ? AND participant_id = ?")
		args = append(args, string(f.Participant.Kind), f.Participant.ID)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN ("+in(len(f.Statuses))+")")
		for _, s := range f.Statuses {
			args = append(args, string(s))
		}
	}
	query := `SELECT ` + responseColumns + ` FROM scheduling_responses`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY position`
	if f.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	var rows []responseRow
	if err := c.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list responses: %w", mapErr(err))
	}
	out := make([]scheduling.Response, len(rows))
	for i, r := range rows {
		out[i] = r.response()
	}
	return out, nil
}

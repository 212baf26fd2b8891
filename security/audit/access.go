package audit

import (
	"context"
	"fmt"
)

// AccessQuery selects one page of a patient's access log.
type AccessQuery struct {
	Patient string
	// Before is the paging cursor: entries with a smaller Seq, 0 for the
	// newest.
	Before int64
	// Count is the page size. Default 50, at most 1000.
	Count int
}

// AccessPage is one page of a patient's access log, newest first.
type AccessPage struct {
	Entries []Record
	// Next is the cursor of the next page, 0 when this is the last.
	Next int64
}

// Access returns who read, searched, changed or exported a patient's
// record, newest first, for showing to the patient.
func (l *Log) Access(ctx context.Context, q AccessQuery) (*AccessPage, error) {
	if q.Patient == "" {
		return nil, errorf(ErrInvalid, "access log: Patient is missing")
	}
	count := q.Count
	if count <= 0 {
		count = 50
	}
	count = min(count, 1000)
	records, err := l.store.ByPatient(ctx, q.Patient, q.Before, count+1)
	if err != nil {
		return nil, fmt.Errorf("audit: access log: %w", err)
	}
	page := &AccessPage{Entries: records}
	if len(records) > count {
		page.Entries = records[:count]
		page.Next = records[count-1].Seq
	}
	return page, nil
}

package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/scheduling"
	schedsql "github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestLoadDemoSchedules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.SQLite(t)
	require.NoError(t, db.Migrate(ctx, schedsql.Migrations()))
	// Wednesday 5 March 2025, 10:00 in Berlin.
	now := time.Date(2025, time.March, 5, 9, 0, 0, 0, time.UTC)
	svc, err := scheduling.NewService(schedsql.New(db), scheduling.Config{
		TimeZone: "Europe/Berlin", Clock: func() time.Time { return now },
	})
	require.NoError(t, err)
	patients := []string{"pat-1", "pat-2", "pat-3", "pat-4", "pat-5"}

	require.NoError(t, loadDemoSchedules(ctx, svc, now, patients))

	schedules, err := svc.ListSchedules(ctx, scheduling.ScheduleFilter{})
	require.NoError(t, err)
	assert.Len(t, schedules, 4)
	booked, err := svc.ListAppointments(ctx, scheduling.AppointmentFilter{Statuses: []scheduling.Status{scheduling.StatusBooked}})
	require.NoError(t, err)
	require.Len(t, booked, len(patients))
	var bookedPatients []string
	for _, a := range booked {
		bookedPatients = append(bookedPatients, a.PatientID)
		assert.True(t, a.Start.After(now), "appointment %s starts in the future", a.ID)
	}
	assert.ElementsMatch(t, patients, bookedPatients)

	free, err := svc.FindSlots(ctx, scheduling.FindSlotsParams{
		AppointmentType: "consult-20", Require: []scheduling.Actor{demoClinicians[0].actor},
		From: now, To: now.AddDate(0, 0, 7),
	})
	require.NoError(t, err)
	assert.NotEmpty(t, free, "free slots remain")
}

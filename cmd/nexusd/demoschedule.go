package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
)

// demoClinicians are the actors of the demo clinics: three practitioners
// and one room, each with a schedule.
var demoClinicians = []struct {
	actor scheduling.Actor
	name  string
}{
	{scheduling.Actor{Kind: scheduling.Practitioner, ID: "demo-dr-weber"}, "Dr Weber, general practice"},
	{scheduling.Actor{Kind: scheduling.Practitioner, ID: "demo-dr-yilmaz"}, "Dr Yilmaz, cardiology"},
	{scheduling.Actor{Kind: scheduling.Practitioner, ID: "demo-dr-novak"}, "Dr Novak, dermatology"},
	{scheduling.Actor{Kind: scheduling.Location, ID: "demo-ultrasound-room"}, "Ultrasound room"},
}

// demoAppointmentTypes are the demo's visit types.
var demoAppointmentTypes = []scheduling.AppointmentType{
	{Code: "consult-20", Display: "Consultation, 20 minutes", Duration: 20 * time.Minute},
	{Code: "followup-30", Display: "Follow-up, 30 minutes", Duration: 30 * time.Minute},
}

// loadDemoSchedules creates the demo clinics' schedules, open Monday to
// Friday from 09:00 to 17:00 in the service's facility zone. It then books
// one appointment per patient in patientIDs from the day after now on,
// with the three practitioners in turn, and most slots stay free. It
// expects a fresh database, because a second run fails on the existing
// schedules.
func loadDemoSchedules(ctx context.Context, svc *scheduling.Service, now time.Time, patientIDs []string) error {
	for _, t := range demoAppointmentTypes {
		if err := svc.PutAppointmentType(ctx, t); err != nil {
			return fmt.Errorf("demo schedules: %w", err)
		}
	}
	for _, c := range demoClinicians {
		sc, err := svc.CreateSchedule(ctx, scheduling.CreateScheduleParams{Actor: c.actor, Name: c.name})
		if err != nil {
			return fmt.Errorf("demo schedules: %w", err)
		}
		for day := time.Monday; day <= time.Friday; day++ {
			_, err := svc.AddAvailability(ctx, scheduling.Availability{
				ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: day,
				StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(17, 0),
			})
			if err != nil {
				return fmt.Errorf("demo schedules: %w", err)
			}
		}
	}

	local := now.In(svc.Location())
	from := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, svc.Location())
	for i, patientID := range patientIDs {
		doctor := demoClinicians[i%3].actor
		typ := demoAppointmentTypes[i%len(demoAppointmentTypes)].Code
		// Each round of three patients takes a slot three places later,
		// so free slots stay between the appointments.
		slots, err := svc.FindSlots(ctx, scheduling.FindSlotsParams{
			AppointmentType: typ, Require: []scheduling.Actor{doctor},
			From: from, To: from.AddDate(0, 0, 14), Limit: 3*(i/3) + 1,
		})
		if err != nil {
			return fmt.Errorf("demo schedules: find a slot with %s: %w", doctor, err)
		}
		if len(slots) == 0 {
			return fmt.Errorf("demo schedules: no free slot with %s in the next 14 days", doctor)
		}
		_, err = svc.Book(ctx, scheduling.BookParams{
			PatientID: patientID, AppointmentType: typ, Actors: []scheduling.Actor{doctor},
			Start: slots[len(slots)-1].Start,
		})
		if err != nil {
			return fmt.Errorf("demo schedules: book with %s: %w", doctor, err)
		}
	}
	return nil
}

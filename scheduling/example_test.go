package scheduling_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// newExampleService opens a service on a new SQLite database in a
// temporary folder, with the clock fixed at Saturday 1 March 2025 in
// Berlin. The returned function removes the database.
func newExampleService() (*scheduling.Service, func()) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "scheduling-example")
	if err != nil {
		panic(err)
	}
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "example.db"), storage.Options{})
	if err != nil {
		panic(err)
	}
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		panic(err)
	}
	now := time.Date(2025, time.March, 1, 8, 0, 0, 0, time.UTC)
	svc, err := scheduling.NewService(sqlstore.New(db), scheduling.Config{
		TimeZone: "Europe/Berlin",
		Clock:    func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	return svc, func() { db.Close(); os.RemoveAll(dir) }
}

// setUpClinic creates a 20-minute appointment type and a practitioner who
// works Mondays from 09:00 to 10:00 Berlin time.
func setUpClinic(ctx context.Context, svc *scheduling.Service) scheduling.Actor {
	doctor := scheduling.Actor{Kind: scheduling.Practitioner, ID: "dr-weber"}
	if err := svc.PutAppointmentType(ctx, scheduling.AppointmentType{Code: "consult", Duration: 20 * time.Minute}); err != nil {
		panic(err)
	}
	sc, err := svc.CreateSchedule(ctx, scheduling.CreateScheduleParams{Actor: doctor, Name: "Dr Weber"})
	if err != nil {
		panic(err)
	}
	_, err = svc.AddAvailability(ctx, scheduling.Availability{
		ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: time.Monday,
		StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(10, 0),
	})
	if err != nil {
		panic(err)
	}
	return doctor
}

func ExampleService_CreateSchedule() {
	svc, done := newExampleService()
	defer done()
	ctx := context.Background()
	doctor := scheduling.Actor{Kind: scheduling.Practitioner, ID: "dr-weber"}

	sc, err := svc.CreateSchedule(ctx, scheduling.CreateScheduleParams{
		Actor:       doctor,
		Name:        "Dr Weber",
		Overbooking: scheduling.OverbookingPolicy{Mode: scheduling.OverbookExtra, Extra: 1},
	})
	if err != nil {
		panic(err)
	}
	// A weekly template: Mondays 09:00 to 12:00 local time.
	rule, err := svc.AddAvailability(ctx, scheduling.Availability{
		ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: time.Monday,
		StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(12, 0),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(sc.Actor, sc.Overbooking.Seats(1), "seats per slot")
	fmt.Println(rule.Weekday, rule.StartTime, "to", rule.EndTime)
	// Output:
	// Practitioner/dr-weber 2 seats per slot
	// Monday 09:00 to 12:00
}

func ExampleService_FindSlots() {
	svc, done := newExampleService()
	defer done()
	ctx := context.Background()
	doctor := setUpClinic(ctx, svc)

	// The Mondays on both sides of the change to summer time (30 March).
	slots, err := svc.FindSlots(ctx, scheduling.FindSlotsParams{
		AppointmentType: "consult",
		Require:         []scheduling.Actor{doctor},
		From:            time.Date(2025, time.March, 24, 0, 0, 0, 0, time.UTC),
		To:              time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	for _, s := range slots {
		fmt.Println(s.Start.Format("Mon 02 Jan 15:04 MST"), "to", s.End.Format("15:04"), "UTC", s.Start.UTC().Format("15:04"))
	}
	// Output:
	// Mon 24 Mar 09:00 CET to 09:20 UTC 08:00
	// Mon 24 Mar 09:20 CET to 09:40 UTC 08:20
	// Mon 24 Mar 09:40 CET to 10:00 UTC 08:40
	// Mon 31 Mar 09:00 CEST to 09:20 UTC 07:00
	// Mon 31 Mar 09:20 CEST to 09:40 UTC 07:20
	// Mon 31 Mar 09:40 CEST to 10:00 UTC 07:40
}

func ExampleService_Book() {
	svc, done := newExampleService()
	defer done()
	ctx := context.Background()
	doctor := setUpClinic(ctx, svc)
	start := time.Date(2025, time.March, 3, 9, 20, 0, 0, svc.Location())

	a, err := svc.Book(ctx, scheduling.BookParams{
		PatientID:       "pat-123",
		AppointmentType: "consult",
		Actors:          []scheduling.Actor{doctor},
		Start:           start,
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Status, a.Start.Format("15:04"), "to", a.End.Format("15:04"), a.Participants)

	_, err = svc.Book(ctx, scheduling.BookParams{
		PatientID:       "pat-456",
		AppointmentType: "consult",
		Actors:          []scheduling.Actor{doctor},
		Start:           start,
	})
	fmt.Println("second booking, slot full:", errors.Is(err, scheduling.ErrSlotFull))
	// Output:
	// booked 09:20 to 09:40 [Practitioner/dr-weber]
	// second booking, slot full: true
}

package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-health-360/nexus/scheduling"
	"github.com/nexus-health-360/nexus/scheduling/schedulingtest"
	"github.com/nexus-health-360/nexus/scheduling/sqlstore"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

const (
	benchPractitioners = 50
	benchFill          = 0.25 // share of slots booked before the search
)

var benchMonday = time.Date(2025, time.March, 3, 0, 0, 0, 0, time.UTC)

// newBenchService opens a migrated store on backend b with a clock fixed
// at the suite's start.
func newBenchService(b *testing.B, backend storagetest.Backend) *scheduling.Service {
	db := backend.Open(b)
	if err := db.Migrate(context.Background(), sqlstore.Migrations()); err != nil {
		b.Fatal(err)
	}
	svc, err := scheduling.NewService(sqlstore.New(db), scheduling.Config{
		Clock: func() time.Time { return schedulingtest.Start },
	})
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

// fillClinic creates 50 practitioners who work Monday to Friday 09:00 to
// 17:00 with a 30-minute consult type on the default 5-minute grid, and
// books a quarter of their slots over three months at random, plus every
// slot of practitioner 0.
func fillClinic(b *testing.B, svc *scheduling.Service) {
	ctx := context.Background()
	if err := svc.PutAppointmentType(ctx, scheduling.AppointmentType{Code: "consult", Duration: 30 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	var schedules []*scheduling.Schedule
	for i := 0; i < benchPractitioners; i++ {
		sc, err := svc.CreateSchedule(ctx, scheduling.CreateScheduleParams{Actor: schedulingtest.Practitioner(fmt.Sprintf("bench-%02d", i))})
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range schedulingtest.Weekdays {
			_, err := svc.AddAvailability(ctx, scheduling.Availability{ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: d,
				StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(17, 0)})
			if err != nil {
				b.Fatal(err)
			}
		}
		schedules = append(schedules, sc)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	end := benchMonday.AddDate(0, 3, 0)
	n := 0
	err := svc.Store().InTx(ctx, func(ctx context.Context, tx scheduling.Tx) error {
		for day := benchMonday; day.Before(end); day = day.AddDate(0, 0, 1) {
			if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				continue
			}
			for i, sc := range schedules {
				for s := day.Add(9 * time.Hour); s.Before(day.Add(17 * time.Hour)); s = s.Add(30 * time.Minute) {
					if i != 0 && rng.Float64() >= benchFill {
						continue
					}
					n++
					a := scheduling.Appointment{ID: fmt.Sprintf("bench-appt-%d", n), Version: 1, Status: scheduling.StatusBooked,
						AppointmentType: "consult", PatientID: fmt.Sprintf("bench-pat-%d", n), Participants: []scheduling.Actor{sc.Actor},
						Start: s, End: s.Add(30 * time.Minute), Created: schedulingtest.Start, Updated: schedulingtest.Start}
					if err := tx.PutAppointment(ctx, a, "booked"); err != nil {
						return err
					}
					var cells []scheduling.Cell
					for c := s; c.Before(a.End); c = c.Add(5 * time.Minute) {
						cells = append(cells, scheduling.Cell{ScheduleID: sc.ID, Start: c, Seats: 1})
					}
					if err := tx.Claim(ctx, a.ID, cells); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFindSlots searches 50 practitioners over three months.
func BenchmarkFindSlots(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			svc := newBenchService(b, backend)
			fillClinic(b, svc)
			ctx := context.Background()
			cases := []struct {
				name   string
				params scheduling.FindSlotsParams
			}{
				{"next 20 of 50", scheduling.FindSlotsParams{Kind: scheduling.Practitioner, Limit: 20}},
				{"first 5000 of 50", scheduling.FindSlotsParams{Kind: scheduling.Practitioner, Limit: 5000}},
				{"one fully booked", scheduling.FindSlotsParams{Require: []scheduling.Actor{schedulingtest.Practitioner("bench-00")}, Limit: 20}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					p := c.params
					p.AppointmentType, p.From, p.To = "consult", benchMonday, benchMonday.AddDate(0, 3, 0)
					var found int
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						slots, err := svc.FindSlots(ctx, p)
						if err != nil {
							b.Fatal(err)
						}
						found = len(slots)
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
					b.ReportMetric(float64(found), "slots")
				})
			}
		})
	}
}

// BenchmarkBookContention books from many goroutines into four slots that
// all of them want, each slot with 11000 seats (capacity 1000 plus 1000%
// overbooking), so every booking contends for the same counter rows.
func BenchmarkBookContention(b *testing.B) {
	for _, backend := range storagetest.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			svc := newBenchService(b, backend)
			ctx := context.Background()
			if err := svc.PutAppointmentType(ctx, scheduling.AppointmentType{Code: "class", Duration: 30 * time.Minute}); err != nil {
				b.Fatal(err)
			}
			room := schedulingtest.Room("bench-gym")
			sc, err := svc.CreateSchedule(ctx, scheduling.CreateScheduleParams{Actor: room,
				Overbooking: scheduling.OverbookingPolicy{Mode: scheduling.OverbookPercent, Percent: 1000}})
			if err != nil {
				b.Fatal(err)
			}
			_, err = svc.AddAvailability(ctx, scheduling.Availability{ScheduleID: sc.ID, Kind: scheduling.Weekly, Weekday: time.Monday,
				StartTime: scheduling.Clock(9, 0), EndTime: scheduling.Clock(11, 0), Capacity: 1000})
			if err != nil {
				b.Fatal(err)
			}
			var booked, full atomic.Int64
			var seq atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					start := benchMonday.Add(9*time.Hour + time.Duration(n%4)*30*time.Minute)
					_, err := svc.Book(ctx, scheduling.BookParams{PatientID: fmt.Sprintf("bench-pat-%d", n), AppointmentType: "class",
						Actors: []scheduling.Actor{room}, Start: start})
					switch {
					case err == nil:
						booked.Add(1)
					case errors.Is(err, scheduling.ErrSlotFull):
						full.Add(1)
					default:
						b.Error(err)
					}
				}
			})
			b.ReportMetric(float64(booked.Load())/b.Elapsed().Seconds(), "bookings/s")
			b.ReportMetric(float64(full.Load()), "full")
		})
	}
}

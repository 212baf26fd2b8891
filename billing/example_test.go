package billing_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/billing/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// The path from a fulfilled appointment to a paid invoice.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "billing-example")
	defer os.RemoveAll(dir)
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "nexus.db"), storage.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, sqlstore.Migrations()); err != nil {
		panic(err)
	}
	svc, _ := billing.NewService(sqlstore.New(db), billing.Config{Currency: "USD"})

	svc.PutChargeDefinition(ctx, billing.PutChargeDefinitionParams{By: "admin", Definition: billing.ChargeDefinition{
		Code: "99213", System: billing.SystemCPT, Display: "Office visit", Active: true,
		Prices: []billing.Price{{UnitPrice: billing.NewMoney(12000, "USD")}},
	}})
	charge, _, err := svc.Capture(ctx, billing.SourceEvent{
		Source: "scheduling", EventID: "appointment/a1/fulfilled", PatientID: "p1", Code: "99213",
	})
	if err != nil {
		panic(err)
	}
	draft, _ := svc.DraftInvoice(ctx, billing.DraftInvoiceParams{AccountID: charge.AccountID, By: "clerk"})
	inv, _ := svc.IssueInvoice(ctx, draft.ID, "clerk")
	fmt.Println("invoice", inv.Number, inv.TotalGross)
	svc.PostPayment(ctx, billing.PaymentParams{AccountID: inv.AccountID, Amount: inv.Balance, Payer: "patient", By: "clerk"})
	paid, _ := svc.GetInvoice(ctx, inv.ID)
	fmt.Println(paid.Status, paid.Balance)
	// Output:
	// invoice 1 120.00 USD
	// balanced 0.00 USD
}

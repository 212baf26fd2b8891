package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/billing"
	"github.com/nexus-health-360/nexus/emr"
)

func init() { registerCommand(billingCommand) }

func billingCommand() *cli.Command {
	return &cli.Command{
		Name:  "billing",
		Usage: "export claims as X12 837P and post X12 835 remittances",
		Subcommands: []*cli.Command{
			{
				Name:      "export-837p",
				Usage:     "write a claim as an X12 837P interchange to standard output",
				ArgsUsage: "CLAIM-ID",
				Flags: []cli.Flag{dbFlag(), masterKeyFlag(),
					&cli.StringFlag{Name: "sender", Required: true, Usage: "interchange sender id (ISA06, GS02), at most 15 characters"},
					&cli.StringFlag{Name: "receiver", Required: true, Usage: "interchange receiver id (ISA08, GS03), at most 15 characters"},
					&cli.StringFlag{Name: "receiver-name", Required: true, Usage: "name of the receiver (loop 1000B)"},
					&cli.StringFlag{Name: "payer-name", Required: true, Usage: "name of the payer (loop 2010BB)"},
					&cli.StringFlag{Name: "provider-name", Required: true, Usage: "billing provider organisation name (loops 1000A and 2010AA)"},
					&cli.StringFlag{Name: "provider-npi", Required: true, Usage: "billing provider NPI"},
					&cli.StringFlag{Name: "provider-tax-id", Required: true, Usage: "billing provider employer identification number"},
					&cli.StringFlag{Name: "contact", Usage: "submitter contact name and phone number, as NAME,PHONE"},
					&cli.Int64Flag{Name: "control", Value: 1, Usage: "interchange, group and transaction control number, 1 to 999999999"},
					&cli.BoolFlag{Name: "production", Usage: "mark the interchange as production data (ISA15 P) instead of test data"},
				},
				Action: export837P,
			},
			{
				Name:      "post-835",
				Usage:     "post the claim payments of an X12 835 file; a payment (payer and TRN02) posted before is rejected and nothing of it is posted",
				ArgsUsage: "FILE",
				Flags:     []cli.Flag{dbFlag(), masterKeyFlag()},
				Action:    post835,
			},
		},
	}
}

// openBillingCLI opens the record and billing for a billing command.
func openBillingCLI(c *cli.Context) (close func(), svc *emr.Service, bill *billing.Service, err error) {
	log := slog.New(slog.DiscardHandler)
	db, svc, err := openServiceKeys(c.Context, c.String("db"), emr.Config{Logger: log}, masterKeyFrom(c))
	if err != nil {
		return nil, nil, nil, err
	}
	bill, err = openBilling(db, svc, log)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return func() { db.Close() }, svc, bill, nil
}

func export837P(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("export-837p: give one claim id")
	}
	closeDB, svc, bill, err := openBillingCLI(c)
	if err != nil {
		return err
	}
	defer closeDB()

	claim, err := bill.GetClaim(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("export-837p: %w", err)
	}

	p := billing.X12Claim837P{
		Envelope: billing.X12Envelope{
			SenderID: c.String("sender"), ReceiverID: c.String("receiver"), InterchangeControl: c.Int64("control"),
			GroupControl: c.Int64("control"), TransactionControl: c.Int64("control"), Production: c.Bool("production"),
			Created: time.Now().UTC(),
		},
		SubmitterName: c.String("provider-name"), SubmitterID: c.String("sender"),
		ReceiverName: c.String("receiver-name"), ReceiverID: c.String("receiver"),
		ProviderName: c.String("provider-name"), ProviderNPI: c.String("provider-npi"), ProviderTaxID: c.String("provider-tax-id"),
		PayerName: c.String("payer-name"), Claim: *claim,
	}

	if contact := c.String("contact"); contact != "" {
		i := strings.LastIndex(contact, ",")
		if i < 0 {
			return fmt.Errorf("export-837p: --contact must be NAME,PHONE")
		}
		p.ContactName, p.ContactPhone = contact[:i], contact[i+1:]
	}

	if err := subscriberFromRecord(c.Context, svc, claim.PatientID, &p); err != nil {
		return fmt.Errorf("export-837p: %w", err)
	}
	if err := billing.Write837P(c.App.Writer, p); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer)
	return nil
}

// subscriberFromRecord fills the subscriber of p from the Patient of the
// clinical record: the first name, the birth date, the gender and the
// first address.
func subscriberFromRecord(ctx context.Context, svc *emr.Service, patientID string, p *billing.X12Claim837P) error {
	ctx = emr.ContextWithActor(ctx, "system/nexusd-billing")
	res, err := svc.Read(ctx, "Patient", patientID)
	if err != nil {
		return fmt.Errorf("read the claim's patient: %w", err)
	}
	var pat struct {
		Name []struct {
			Family string   `json:"family"`
			Given  []string `json:"given"`
		} `json:"name"`
		Gender    string `json:"gender"`
		BirthDate string `json:"birthDate"`
		Address   []struct {
			Line       []string `json:"line"`
			City       string   `json:"city"`
			State      string   `json:"state"`
			PostalCode string   `json:"postalCode"`
		} `json:"address"`
	}
	if err := json.Unmarshal(res.Body, &pat); err != nil {
		return fmt.Errorf("read the claim's patient: %w", err)
	}
	if len(pat.Name) > 0 {
		p.SubscriberLast = pat.Name[0].Family
		if len(pat.Name[0].Given) > 0 {
			p.SubscriberFirst = pat.Name[0].Given[0]
		}
	}
	p.SubscriberGender = map[string]string{"female": "F", "male": "M"}[pat.Gender]
	if p.SubscriberGender == "" {
		p.SubscriberGender = "U"
	}
	if t, err := time.Parse(time.DateOnly, pat.BirthDate); err == nil {
		p.SubscriberBirthDate = t
	}
	if len(pat.Address) > 0 && len(pat.Address[0].Line) > 0 {
		a := pat.Address[0]
		p.SubscriberAddress = billing.X12Address{Line1: a.Line[0], City: a.City, State: a.State, PostalCode: a.PostalCode}
		if len(a.Line) > 1 {
			p.SubscriberAddress.Line2 = a.Line[1]
		}
	}
	return nil
}

func post835(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("post-835: give one 835 file")
	}
	f, err := os.Open(c.Args().First())
	if err != nil {
		return fmt.Errorf("post-835: %w", err)
	}
	defer f.Close()
	closeDB, _, bill, err := openBillingCLI(c)
	if err != nil {
		return err
	}
	defer closeDB()
	posted, err := bill.Post835(c.Context, f, "system/nexusd-billing")
	for _, claim := range posted {
		fmt.Fprintf(c.App.Writer, "claim %s: %s, paid %s, adjusted %s, patient %s\n",
			claim.ID, claim.Status, claim.Paid, claim.Adjusted, claim.PatientResponsibility)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%d claim payments posted\n", len(posted))
	return nil
}

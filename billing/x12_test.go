package billing_test

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/billing"
)

// sample837P is a claim of two lines (an office visit and two venipunctures)
// for a subscriber of payer ACME01. testdata/claim-837p.x12 is its
// expected interchange, written and counted by hand.
func sample837P() billing.X12Claim837P {
	served := time.Date(2025, time.March, 3, 0, 0, 0, 0, time.UTC)
	return billing.X12Claim837P{
		Envelope: billing.X12Envelope{
			SenderID: "NEXUS", ReceiverID: "ACME01", InterchangeControl: 1, GroupControl: 1, TransactionControl: 1,
			Created: time.Date(2025, time.March, 4, 9, 30, 0, 0, time.UTC),
		},
		SubmitterName: "Nexus Clinic", SubmitterID: "NEXUS", ContactName: "Billing Office", ContactPhone: "5551234567",
		ReceiverName: "Acme Health", ReceiverID: "ACME01",
		ProviderName: "Nexus Clinic", ProviderNPI: "1234567893", ProviderTaxID: "123456789",
		ProviderAddress: billing.X12Address{Line1: "1 Main St", City: "Springfield", State: "IL", PostalCode: "62701"},
		SubscriberLast:  "Doe", SubscriberFirst: "Jane",
		SubscriberAddress:   billing.X12Address{Line1: "2 Oak Ave", City: "Springfield", State: "IL", PostalCode: "62702"},
		SubscriberBirthDate: time.Date(1980, time.January, 15, 0, 0, 0, 0, time.UTC), SubscriberGender: "F",
		PayerName: "Acme Health",
		Claim: billing.Claim{
			ID:        "CLM1",
			Coverage:  billing.Coverage{PayerID: "ACME01", PlanID: "GOLD", MemberID: "M100", Order: 1},
			Diagnoses: []billing.Diagnosis{{Sequence: 1, Code: "E11.9"}, {Sequence: 2, Code: "I10"}},
			Lines: []billing.ClaimLine{
				{Sequence: 1, Code: "99213", Quantity: 1, Amount: billing.NewMoney(12000, "USD"), DiagnosisPointers: []int{1, 2}, ServiceDate: served},
				{Sequence: 2, Code: "36415", Quantity: 2, Amount: billing.NewMoney(2050, "USD"), DiagnosisPointers: []int{1, 2}, ServiceDate: served},
			},
			Total: billing.NewMoney(14050, "USD"),
		},
	}
}

func TestWrite837PMatchesExpected(t *testing.T) {
	want, err := os.ReadFile("testdata/claim-837p.x12")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, billing.Write837P(&b, sample837P()))
	assert.Equal(t, string(want), b.String())
}

func TestWrite837PStructure(t *testing.T) {
	p := sample837P()
	p.Envelope = billing.X12Envelope{
		SenderID: "S1", ReceiverID: "R1", InterchangeControl: 123456789, GroupControl: 42, TransactionControl: 7,
		Production: true, Created: time.Date(2026, time.December, 31, 23, 59, 0, 0, time.UTC),
		Delimiters: billing.X12Delimiters{Element: '|', Component: '>', Repetition: '!', Segment: '\n'},
	}
	var b strings.Builder
	require.NoError(t, billing.Write837P(&b, p))
	text := b.String()
	require.True(t, strings.HasSuffix(text, "\n"))
	assert.Len(t, text[:strings.IndexByte(text, '\n')+1], 106, "ISA is fixed width")
	assert.Equal(t, byte('>'), text[104], "ISA16 is the component delimiter")

	segments := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	fields := func(i int) []string { return strings.Split(segments[i], "|") }
	ids := make([]string, len(segments))
	for i := range segments {
		ids[i] = fields(i)[0]
	}
	assert.Equal(t, "ISA", ids[0])
	assert.Equal(t, "GS", ids[1])
	assert.Equal(t, "ST", ids[2])
	assert.Equal(t, "IEA", ids[len(ids)-1])
	assert.Equal(t, "GE", ids[len(ids)-2])
	assert.Equal(t, "SE", ids[len(ids)-3])

	isa, gs, st := fields(0), fields(1), fields(2)
	se, ge, iea := fields(len(ids)-3), fields(len(ids)-2), fields(len(ids)-1)
	assert.Equal(t, "123456789", isa[13])
	assert.Equal(t, "P", isa[15])
	assert.Equal(t, isa[13], iea[2], "IEA02 repeats ISA13")
	assert.Equal(t, "1", iea[1], "one functional group")
	assert.Equal(t, "42", gs[6])
	assert.Equal(t, gs[6], ge[2], "GE02 repeats GS06")
	assert.Equal(t, "1", ge[1], "one transaction set")
	assert.Equal(t, "0007", st[2])
	assert.Equal(t, st[2], se[2], "SE02 repeats ST02")
	assert.Equal(t, strconv.Itoa(len(segments)-4), se[1], "SE01 counts ST to SE")

	var lx, sv1 int
	for i, id := range ids {
		switch id {
		case "LX":
			lx++
			assert.Equal(t, strconv.Itoa(lx), fields(i)[1])
		case "SV1":
			sv1++
			assert.Equal(t, "1>2", fields(i)[7], "diagnosis pointers use the component delimiter")
		case "HI":
			assert.Equal(t, []string{"HI", "ABK>E119", "ABF>I10"}, fields(i))
		}
	}
	assert.Equal(t, 2, lx)
	assert.Equal(t, 2, sv1)
}

func TestWrite837PRejectsBadClaims(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *billing.X12Claim837P)
	}{
		{"delimiter in a name", func(p *billing.X12Claim837P) { p.SubscriberLast = "Doe*Smith" }},
		{"negative line", func(p *billing.X12Claim837P) {
			p.Claim.Lines[1].Amount = billing.NewMoney(-2050, "USD")
			p.Claim.Total = billing.NewMoney(12000-2050, "USD")
		}},
		{"total differs from lines", func(p *billing.X12Claim837P) { p.Claim.Total = billing.NewMoney(1, "USD") }},
		{"no diagnoses", func(p *billing.X12Claim837P) { p.Claim.Diagnoses = nil }},
		{"control number too large", func(p *billing.X12Claim837P) { p.Envelope.InterchangeControl = 1_000_000_000 }},
		{"sender id too long", func(p *billing.X12Claim837P) { p.Envelope.SenderID = strings.Repeat("S", 16) }},
		{"no lines", func(p *billing.X12Claim837P) { p.Claim.Lines = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sample837P()
			tc.change(&p)
			var b strings.Builder
			err := billing.Write837P(&b, p)
			require.ErrorIs(t, err, billing.ErrInvalid)
			assert.Empty(t, b.String(), "nothing is written")
		})
	}
}

package billing

import (
	"fmt"
	"time"
)

// PriceLine prices quantity units at unitPrice: Gross = unitPrice ×
// quantity exactly, Discount = Gross × discount and Tax = Net × taxRate,
// each rounded half to even in the currency's minor unit. Negative
// quantities price reversals, and their amounts are the exact negation of
// the positive line, because half-even rounding is symmetric.
func PriceLine(unitPrice Money, quantity int64, discount, taxRate Rate) (LineAmounts, error) {
	if err := ValidCurrency(unitPrice.Currency); err != nil {
		return LineAmounts{}, fmt.Errorf("price line: %w", err)
	}
	if discount < 0 || discount > RateScale {
		return LineAmounts{}, invalidf("price line: discount %s is outside 0%% to 100%%", discount)
	}
	if taxRate < 0 || taxRate > RateScale {
		return LineAmounts{}, invalidf("price line: tax rate %s is outside 0%% to 100%%", taxRate)
	}

	gross, err := unitPrice.Mul(quantity)
	if err != nil {
		return LineAmounts{}, fmt.Errorf("price line: %w", err)
	}
	disc, err := gross.Apply(discount)
	if err != nil {
		return LineAmounts{}, fmt.Errorf("price line discount: %w", err)
	}
	net, err := gross.Sub(disc)
	if err != nil {
		return LineAmounts{}, fmt.Errorf("price line: %w", err)
	}
	tax, err := net.Apply(taxRate)
	if err != nil {
		return LineAmounts{}, fmt.Errorf("price line tax: %w", err)
	}
	total, err := net.Add(tax)
	if err != nil {
		return LineAmounts{}, fmt.Errorf("price line: %w", err)
	}
	return LineAmounts{Gross: gross, Discount: disc, Net: net, Tax: tax, Total: total}, nil
}

// Totals sums lines into net, tax and gross totals in currency. It is
// the only way the package computes invoice totals.
func Totals(currency string, lines []InvoiceLine) (net, tax, gross Money, err error) {
	net, tax = Money{Currency: currency}, Money{Currency: currency}
	for _, l := range lines {
		if net, err = net.Add(l.Net); err != nil {
			return Money{}, Money{}, Money{}, fmt.Errorf("invoice line %d: %w", l.Sequence, err)
		}
		if tax, err = tax.Add(l.Tax); err != nil {
			return Money{}, Money{}, Money{}, fmt.Errorf("invoice line %d: %w", l.Sequence, err)
		}
	}
	gross, err = net.Add(tax)
	return net, tax, gross, err
}

// PriceFor returns the price that applies to a service on date for a
// payer and plan: the payer's plan price, else the payer's price for
// every plan, else the list price. ErrUnknownCode means none applies.
func (d ChargeDefinition) PriceFor(payerID, planID string, date time.Time) (Price, error) {
	candidates := [][2]string{{payerID, planID}, {payerID, ""}, {"", ""}}
	for _, c := range candidates {
		if c[0] == "" && payerID != "" && c[1] != "" {
			continue
		}
		for _, p := range d.Prices {
			if p.PayerID != c[0] || p.PlanID != c[1] {
				continue
			}
			if !p.From.IsZero() && date.Before(p.From) {
				continue
			}
			if !p.Until.IsZero() && !date.Before(p.Until) {
				continue
			}
			return p, nil
		}
	}
	return Price{}, fmt.Errorf("code %s has no price on %s: %w", d.Code, date.Format(time.DateOnly), ErrUnknownCode)
}

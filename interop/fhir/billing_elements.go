package fhir

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/nexus-health-360/nexus/billing"
)

// billingExtensions lists, per element path without indexes, the
// extension URLs the billing mapping reads or writes there.
var billingExtensions = map[string][]string{
	"Account.extension":    {extensionAccountEncounter, extensionAccountCurrency},
	"ChargeItem.extension": {extensionChargeReverses},
	"Invoice.extension":    {extensionInvoiceKind, extensionInvoiceBalance, extensionInvoiceCredits, extensionInvoiceCredited},
	"PaymentReconciliation.extension": {
		extensionPaymentAccount, extensionPaymentMethod, extensionPaymentKind, extensionPaymentUnapplied,
		extensionAllowCredit, extensionPaymentClaim,
	},
	"ChargeItemDefinition.propertyGroup.extension": {extensionPricePayer, extensionPricePlan, extensionPricePeriod},

	"Account.meta.extension":               {extensionVersionAuthor},
	"ChargeItem.meta.extension":            {extensionVersionAuthor},
	"ChargeItemDefinition.meta.extension":  {extensionVersionAuthor},
	"Invoice.meta.extension":               {extensionVersionAuthor},
	"PaymentReconciliation.meta.extension": {extensionVersionAuthor},
}

// arrayIndex matches the "[3]" parts of an element path.
var arrayIndex = regexp.MustCompile(`\[[0-9]+\]`)

// checkExtensionURL checks the url of the extension at path.
func checkExtensionURL(path string, url any) error {
	place := arrayIndex.ReplaceAllString(path, "")
	u, _ := url.(string)
	if !slices.Contains(billingExtensions[place], u) {
		return unprocessable(path, "extension "+strconv.Quote(u)+" is not one the billing service stores here")
	}
	return nil
}

// jsonFields maps the JSON names of t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = f.Type
		}
	}
	return out
}

// clientIdentifiers returns the identifiers a client sent, leaving out
// those in systems the server assigns (reserved reports whether a system
// is one). An identifier in such a system must be one of the assigned
// ones, which current lists, or it is rejected.
func clientIdentifiers(path string, in []fhirIdentifier, reserved func(string) bool, current []fhirIdentifier) ([]billing.Identifier, error) {
	var out []billing.Identifier
	for i, id := range in {
		at := path + "[" + strconv.Itoa(i) + "]"
		if reserved(id.System) {
			if !slices.Contains(current, id) {
				return nil, unprocessable(at, "identifiers in system "+id.System+" are assigned by the billing service")
			}
			continue
		}
		if id.Value == "" {
			return nil, unprocessable(at, "an identifier needs a value")
		}
		out = append(out, billing.Identifier{System: id.System, Value: id.Value})
	}
	if err := billing.ValidIdentifiers(out); err != nil {
		return nil, unprocessable(path, err.Error())
	}
	return out, nil
}

// noReservedSystem is the reserved check of a type whose identifiers all
// come from clients.
func noReservedSystem(string) bool { return false }

// identifiersJSON returns billing identifiers as FHIR Identifiers.
func identifiersJSON(ids []billing.Identifier) []fhirIdentifier {
	out := make([]fhirIdentifier, len(ids))
	for i, id := range ids {
		out[i] = fhirIdentifier{System: id.System, Value: id.Value}
	}
	return out
}

// identifierMatches reports whether a token search value matches one of
// ids.
func identifierMatches(token string, ids []fhirIdentifier) bool {
	return slices.ContainsFunc(ids, func(id fhirIdentifier) bool { return tokenMatches(token, id.System, id.Value) })
}

// identifierFilter returns the store filter of an identifier search that
// names one identifier in a client's system, which lets the store narrow
// the read. It returns nil for a search that may match an identifier the
// server assigns, because the store does not hold those.
func identifierFilter(groups [][]string, reserved func(string) bool) *billing.IdentifierMatch {
	if len(groups) != 1 || len(groups[0]) != 1 {
		return nil
	}
	system, value, ok := strings.Cut(groups[0][0], "|")
	if !ok || system == "" || reserved(system) {
		return nil
	}
	return &billing.IdentifierMatch{System: system, Value: value}
}

// rejectSent returns a 422 for the first element in sent whose value is
// set, each named by path, that the server assigns on create.
func rejectSent(sent map[string]bool, reason string) error {
	paths := make([]string, 0, len(sent))
	for path, set := range sent {
		if set {
			paths = append(paths, path)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	slices.Sort(paths)
	return unprocessable(paths[0], reason)
}

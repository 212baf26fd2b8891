package searchparam

// Type is a search parameter type as named by the FHIR R4 SearchParameter.type
// value set.
type Type string

// Search parameter types defined by FHIR R4.
const (
	TypeNumber    Type = "number"
	TypeDate      Type = "date"
	TypeString    Type = "string"
	TypeToken     Type = "token"
	TypeReference Type = "reference"
	TypeComposite Type = "composite"
	TypeQuantity  Type = "quantity"
	TypeURI       Type = "uri"
	TypeSpecial   Type = "special"
)

// Definition is one search parameter as it applies to one resource type.
type Definition struct {
	// Code is the name used in a search URL, such as "birthdate".
	Code string
	Type Type
	// Expression is the FHIRPath expression restricted to this resource
	// type's part of the published expression.
	Expression string
	// Targets lists the resource types a reference parameter may point to.
	Targets []string
	// URL is the canonical URL of the SearchParameter resource.
	URL string
	// Base is the type the SearchParameter names in its base element: the
	// resource type itself, or Resource or DomainResource for parameters
	// such as _id that apply to every resource type.
	Base string
	// Components lists the parts of a composite parameter.
	Components []Component
	// Identifier is set for a token parameter whose expression selects
	// Identifier elements, such as Patient.identifier or
	// Specimen.accessionIdentifier, so its entries hold identifier values.
	Identifier bool
}

// Component is one part of a composite search parameter: the parameter it
// reuses and the FHIRPath expression, relative to the value of the composite
// parameter's expression, that selects its value.
type Component struct {
	Definition string `json:"definition"`
	Expression string `json:"expression"`
}

// Entry is one search index row extracted from a resource. Which fields are
// set depends on Type.
type Entry struct {
	Param string
	Type  Type

	// String: Text is the value folded for matching (Unicode NFKD, combining
	// marks removed, lower case); Exact is the value as stored, in NFC.
	// URI: Exact holds the URI.
	Text  string
	Exact string

	// Token and quantity: System is the code system or unit system, Code the
	// code or unit code. Token text (Coding.display, CodeableConcept.text) is
	// in Text, folded like a string.
	System string
	Code   string

	// Date: the value as a half-open range [DateLo, DateHi) in microseconds
	// since the Unix epoch. A value without a zone is read as UTC. An open
	// Period end is math.MinInt64 or math.MaxInt64.
	DateLo int64
	DateHi int64

	// Number and quantity: the value, and the range [NumLo, NumHi) implied by
	// its significant digits (140.0 gives [139.95, 140.05)).
	Num   float64
	NumLo float64
	NumHi float64

	// Reference: RefType and RefID for a relative or resolvable reference,
	// RefVersion when it names a version; Exact holds the reference string
	// as written, so absolute URLs and canonicals can still be matched.
	RefType    string
	RefID      string
	RefVersion string

	// Identifier marks a token entry whose Code is the value of an
	// Identifier: the entries of a Definition with Identifier set, every
	// :of-type entry and every Reference.identifier entry. Stores that
	// keep keyed hashes of identifier values hash the Code of these
	// entries. Registry.HoldsIdentifiers names the parameters whose search
	// conditions must be hashed the same way.
	Identifier bool
}

package match

import "math"

// Field names a compared part of a Person.
type Field string

// Fields in the order in which Result lists them.
const (
	FieldName       Field = "name"
	FieldBirthDate  Field = "birthDate"
	FieldSex        Field = "sex"
	FieldAddress    Field = "address"
	FieldPhone      Field = "phone"
	FieldEmail      Field = "email"
	FieldIdentifier Field = "identifier"
)

// Kind is the outcome of comparing one field.
type Kind string

// Outcomes of a field comparison. Config lists which fields use which.
const (
	Exact      Kind = "exact"
	Phonetic   Kind = "phonetic"
	Typo       Kind = "typo"
	Transposed Kind = "transposed"
	Partial    Kind = "partial"
	Mismatch   Kind = "mismatch"
)

// fieldName returns the name of the FieldModel field that holds kind.
func (k Kind) fieldName() string {
	if k == "" {
		return ""
	}
	return string(k[0]-'a'+'A') + string(k[1:])
}

// FieldMatch is the outcome of one field compared on both persons.
type FieldMatch struct {
	Field Field
	Kind  Kind
	// Weight is the evidence in bits that the outcome adds to the total:
	// positive for a match, negative against one.
	Weight float64
}

// Result is the outcome of Compare.
type Result struct {
	// Score is the match probability in [0, 1]: a logistic function of
	// Weight, equal to 0.5 at Config.Midpoint.
	Score float64
	// Weight is the sum of the field weights in bits, the log2 likelihood
	// ratio of the Fellegi-Sunter model.
	Weight float64
	// AboveThreshold reports whether Score is at least Config.Threshold.
	AboveThreshold bool
	// Fields lists the fields present on both persons, in the order of the
	// Field constants. Fields missing on either side are left out.
	Fields []FieldMatch
}

// Compare scores how likely a and b are the same person. It applies
// cfg.WithDefaults first, so the zero Config uses the defaults, but it does
// not validate cfg. Compare is a pure function and safe for concurrent use.
func Compare(a, b Person, cfg Config) Result {
	cfg = cfg.WithDefaults()
	pa, pb := prepare(a), prepare(b)

	result := Result{Fields: make([]FieldMatch, 0, 7)}
	add := func(field Field, kind Kind, weight float64, ok bool) {
		if ok {
			result.Fields = append(result.Fields, FieldMatch{Field: field, Kind: kind, Weight: weight})
			result.Weight += weight
		}
	}
	kind, weight, ok := compareNames(pa.names, pb.names, &cfg)
	add(FieldName, kind, weight, ok)
	kind, ok = compareBirthDates(pa.birthDate, pb.birthDate)
	add(FieldBirthDate, kind, cfg.BirthDate.level(kind).Weight(), ok)
	kind, ok = compareSex(pa.sex, pb.sex)
	add(FieldSex, kind, cfg.Sex.level(kind).Weight(), ok)
	addressKind, addressWeight, addressOK := compareAddresses(pa.addresses, pb.addresses, &cfg)
	phoneKind, phoneOK := compareAny(pa.phones, pb.phones, samePhone)
	phoneWeight := cfg.Phone.level(phoneKind).Weight()
	// Family members share an address and often a phone number, so the two
	// agreements are not independent evidence. When both agree only the
	// larger weight counts, and the other is reported with weight zero.
	if addressOK && phoneOK && addressWeight > 0 && phoneWeight > 0 {
		if addressWeight >= phoneWeight {
			phoneWeight = 0
		} else {
			addressWeight = 0
		}
	}
	add(FieldAddress, addressKind, addressWeight, addressOK)
	add(FieldPhone, phoneKind, phoneWeight, phoneOK)
	kind, ok = compareAny(pa.emails, pb.emails, func(x, y string) bool { return x == y })
	add(FieldEmail, kind, cfg.Email.level(kind).Weight(), ok)
	kind, weight, ok = compareIdentifiers(a.Identifiers, b.Identifiers, &cfg)
	add(FieldIdentifier, kind, weight, ok)

	result.Score = score(result.Weight, cfg.Midpoint)
	result.AboveThreshold = result.Score >= cfg.Threshold
	return result
}

// score maps a total weight in bits to a probability with the logistic
// function 1 / (1 + 2^(midpoint - weight)).
func score(weight, midpoint float64) float64 {
	return 1 / (1 + math.Exp2(midpoint-weight))
}

// preparedPerson contains the normalized fields of a Person.
type preparedPerson struct {
	names     []preparedName
	birthDate date
	sex       string
	addresses []preparedAddress
	phones    []string
	emails    []string
}

func prepare(p Person) preparedPerson {
	prepared := preparedPerson{
		birthDate: parseDate(p.BirthDate),
		sex:       normalizeSex(p.Sex),
	}
	for _, n := range p.Names {
		if name, ok := prepareName(n); ok {
			prepared.names = append(prepared.names, name)
		}
	}
	for _, a := range p.Addresses {
		if address, ok := prepareAddress(a); ok {
			prepared.addresses = append(prepared.addresses, address)
		}
	}
	for _, phone := range p.Phones {
		if digits := phoneDigits(phone); digits != "" {
			prepared.phones = append(prepared.phones, digits)
		}
	}
	for _, email := range p.Emails {
		if e := normalizeEmail(email); e != "" {
			prepared.emails = append(prepared.emails, e)
		}
	}
	return prepared
}

// compareAny returns Exact when some pair of values is equal under same and
// Mismatch otherwise, and false when either list is empty.
func compareAny(a, b []string, same func(x, y string) bool) (Kind, bool) {
	if len(a) == 0 || len(b) == 0 {
		return "", false
	}
	for _, x := range a {
		for _, y := range b {
			if same(x, y) {
				return Exact, true
			}
		}
	}
	return Mismatch, true
}

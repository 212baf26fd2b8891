package match

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// incoming returns basePerson changed by edit, without the email and the
// identifier, which a new registration often lacks.
func incoming(edit func(p *Person)) Person {
	return with(func(p *Person) {
		p.Emails = nil
		p.Identifiers = nil
		edit(p)
	})
}

func noContact(p *Person) {
	p.Addresses, p.Phones, p.Emails, p.Identifiers = nil, nil, nil, nil
}

type compareCase struct {
	name     string
	existing Person
	incoming Person
	// kinds lists the expected outcome of some fields.
	kinds map[Field]Kind
}

func duplicateCases() []compareCase {
	accented := Person{
		Names:     []Name{{Family: "Müller", Given: []string{"José"}}},
		BirthDate: "1961-11-23",
		Sex:       "male",
	}
	return []compareCase{
		{
			name:     "identical records",
			existing: basePerson(),
			incoming: basePerson(),
			kinds:    map[Field]Kind{FieldName: Exact, FieldIdentifier: Exact, FieldEmail: Exact},
		},
		{
			name:     "family name insertion",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.Names[0].Family = "Whiraker"; p.Phones = nil }),
			kinds:    map[Field]Kind{FieldName: Typo},
		},
		{
			name:     "given name transposition",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.Names[0].Given = []string{"Ctaherine"}; p.Phones = nil }),
			kinds:    map[Field]Kind{FieldName: Typo},
		},
		{
			name:     "phonetic family and given",
			existing: basePerson(),
			incoming: incoming(func(p *Person) {
				p.Names = []Name{{Family: "Whittaker", Given: []string{"Kathryn"}}}
			}),
			kinds: map[Field]Kind{FieldName: Phonetic},
		},
		{
			name:     "phonetic given without contact",
			existing: basePerson(),
			incoming: incoming(func(p *Person) {
				noContact(p)
				p.Names = []Name{{Family: "Whitaker", Given: []string{"Kathryn"}}}
			}),
			kinds: map[Field]Kind{FieldName: Phonetic},
		},
		{
			name:     "day and month transposed",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.BirthDate = "1980-04-03"; p.Phones = nil }),
			kinds:    map[Field]Kind{FieldBirthDate: Transposed},
		},
		{
			name:     "birth year one off",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.BirthDate = "1981-03-04" }),
			kinds:    map[Field]Kind{FieldBirthDate: Typo},
		},
		{
			name:     "birth day one digit",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.BirthDate = "1980-03-14"; p.Addresses = nil }),
			kinds:    map[Field]Kind{FieldBirthDate: Typo},
		},
		{
			name:     "only name and birth date",
			existing: basePerson(),
			incoming: Person{
				Names:     []Name{{Family: "Whitaker", Given: []string{"Catherine"}}},
				BirthDate: "1980-03-04",
			},
			kinds: map[Field]Kind{FieldName: Exact, FieldBirthDate: Exact},
		},
		{
			name:     "moved with new phone",
			existing: basePerson(),
			incoming: incoming(func(p *Person) {
				p.Addresses = []Address{{Lines: []string{"401 Lake Shore Drive"}, City: "Chicago", PostalCode: "60611"}}
				p.Phones = []string{"312 555 0199"}
			}),
			kinds: map[Field]Kind{FieldAddress: Mismatch, FieldPhone: Mismatch},
		},
		{
			name:     "accented and plain spelling",
			existing: accented,
			incoming: Person{
				Names:     []Name{{Family: "MULLER", Given: []string{"Jose"}}},
				BirthDate: "1961-11-23",
				Sex:       "male",
			},
			kinds: map[Field]Kind{FieldName: Exact},
		},
		{
			name:     "family and given swapped",
			existing: basePerson(),
			incoming: incoming(func(p *Person) {
				p.Names = []Name{{Family: "Catherine", Given: []string{"Whitaker"}}}
			}),
			kinds: map[Field]Kind{FieldName: Partial},
		},
		{
			name:     "birth year only",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.BirthDate = "1980" }),
			kinds:    map[Field]Kind{FieldBirthDate: Partial},
		},
		{
			name:     "maiden name kept as old name",
			existing: basePerson(),
			incoming: incoming(func(p *Person) {
				p.Names = []Name{
					{Family: "Brooks", Given: []string{"Catherine"}},
					{Family: "Whitaker", Given: []string{"Catherine"}},
				}
				p.Phones = nil
			}),
			kinds: map[Field]Kind{FieldName: Exact},
		},
		{
			name:     "identifier and name only",
			existing: basePerson(),
			incoming: Person{
				Names:       []Name{{Family: "Whitaker", Given: []string{"Catherine"}}},
				Identifiers: []Identifier{{System: "http://hl7.org/fhir/sid/us-ssn", Value: "900123456"}},
			},
			kinds: map[Field]Kind{FieldIdentifier: Exact},
		},
		{
			name:     "given initial only",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.Names[0].Given = []string{"C."}; p.Phones = nil }),
			kinds:    map[Field]Kind{FieldName: Partial},
		},
		{
			name:     "address spelled differently",
			existing: basePerson(),
			incoming: incoming(func(p *Person) {
				p.Addresses = []Address{{Lines: []string{"12 ORCHARD LN"}, City: "Springfield", PostalCode: "62704-1234"}}
				p.Phones = nil
			}),
			kinds: map[Field]Kind{FieldAddress: Exact},
		},
		{
			name:     "compound family name",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.Names[0].Family = "Whitaker-Brooks"; p.Phones = nil }),
			kinds:    map[Field]Kind{FieldName: Partial},
		},
		{
			name:     "local phone number",
			existing: basePerson(),
			incoming: incoming(func(p *Person) { p.Addresses = nil; p.Phones = []string{"555-0142"} }),
			kinds:    map[Field]Kind{FieldPhone: Exact},
		},
	}
}

func nonMatchCases() []compareCase {
	return []compareCase{
		{
			name:     "twins of other sex",
			existing: incoming(func(*Person) {}),
			incoming: incoming(func(p *Person) {
				p.Names = []Name{{Family: "Whitaker", Given: []string{"Jacob"}}}
				p.Sex = "male"
			}),
			kinds: map[Field]Kind{FieldName: Partial, FieldSex: Mismatch, FieldBirthDate: Exact},
		},
		{
			name:     "twins of same sex",
			existing: incoming(func(*Person) {}),
			incoming: incoming(func(p *Person) { p.Names = []Name{{Family: "Whitaker", Given: []string{"Emma"}}} }),
			kinds:    map[Field]Kind{FieldName: Partial, FieldBirthDate: Exact},
		},
		{
			name:     "common name other birth date",
			existing: Person{Names: []Name{{Family: "Smith", Given: []string{"John"}}}, BirthDate: "1975-11-20", Sex: "male"},
			incoming: Person{Names: []Name{{Family: "Smith", Given: []string{"John"}}}, BirthDate: "1982-06-09", Sex: "male"},
			kinds:    map[Field]Kind{FieldName: Exact, FieldBirthDate: Mismatch},
		},
		{
			name: "common name and birth date other ssn",
			existing: Person{
				Names: []Name{{Family: "Smith", Given: []string{"John"}}}, BirthDate: "1975-11-20", Sex: "male",
				Identifiers: []Identifier{{System: "http://hl7.org/fhir/sid/us-ssn", Value: "900-11-1111"}},
				Addresses:   []Address{{Lines: []string{"1 Main St"}, PostalCode: "10001"}},
			},
			incoming: Person{
				Names: []Name{{Family: "Smith", Given: []string{"John"}}}, BirthDate: "1975-11-20", Sex: "male",
				Identifiers: []Identifier{{System: "http://hl7.org/fhir/sid/us-ssn", Value: "900-22-2222"}},
				Addresses:   []Address{{Lines: []string{"77 Pine Rd"}, PostalCode: "94110"}},
			},
			kinds: map[Field]Kind{FieldIdentifier: Mismatch},
		},
		{
			name:     "father and son",
			existing: incoming(func(p *Person) { p.Names[0].Given = []string{"Robert"}; p.Sex = "male" }),
			incoming: incoming(func(p *Person) {
				p.Names[0].Given = []string{"Robert"}
				p.Names[0].Family = "Whitaker Jr"
				p.Sex = "male"
				p.BirthDate = "2008-09-17"
			}),
			kinds: map[Field]Kind{FieldName: Exact, FieldBirthDate: Mismatch},
		},
		{
			name:     "mother and daughter",
			existing: incoming(func(*Person) {}),
			incoming: incoming(func(p *Person) { p.Names[0].Given = []string{"Olivia"}; p.BirthDate = "2011-07-30" }),
			kinds:    map[Field]Kind{FieldName: Partial, FieldBirthDate: Mismatch},
		},
		{
			name:     "unrelated people",
			existing: basePerson(),
			incoming: Person{
				Names:     []Name{{Family: "Okafor", Given: []string{"Chidi"}}},
				BirthDate: "1990-12-01",
				Sex:       "male",
				Addresses: []Address{{Lines: []string{"5 Harbor Rd"}, City: "Boston", PostalCode: "02110"}},
			},
			kinds: map[Field]Kind{FieldName: Mismatch},
		},
	}
}

func TestCompareDuplicates(t *testing.T) {
	t.Parallel()
	for _, tt := range duplicateCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			result := Compare(tt.existing, tt.incoming, Config{})
			assertKinds(t, tt.kinds, result)
			assert.True(t, result.AboveThreshold, "score %.4f, weight %.2f, fields %v",
				result.Score, result.Weight, result.Fields)
		})
	}
}

func TestCompareNonMatches(t *testing.T) {
	t.Parallel()
	for _, tt := range nonMatchCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			result := Compare(tt.existing, tt.incoming, Config{})
			assertKinds(t, tt.kinds, result)
			assert.False(t, result.AboveThreshold, "score %.4f, weight %.2f, fields %v",
				result.Score, result.Weight, result.Fields)
		})
	}
}

func assertKinds(t *testing.T, want map[Field]Kind, result Result) {
	t.Helper()
	require.NotEmpty(t, result.Fields, "no field was compared")
	got := make(map[Field]Kind, len(result.Fields))
	for _, f := range result.Fields {
		got[f.Field] = f.Kind
	}
	for field, kind := range want {
		assert.Equal(t, kind, got[field], "kind of %s", field)
	}
}

func TestCompareMissingFieldsNeutral(t *testing.T) {
	t.Parallel()
	minimal := Person{Names: basePerson().Names, BirthDate: basePerson().BirthDate}
	alone := Compare(minimal, minimal, Config{})
	withExtra := Compare(basePerson(), minimal, Config{})

	require.Len(t, alone.Fields, 2)
	assert.Equal(t, alone.Fields, withExtra.Fields)
	assert.InDelta(t, alone.Weight, withExtra.Weight, 1e-9)
	assert.InDelta(t, alone.Score, withExtra.Score, 1e-9)
}

func TestCompareEmptyPersons(t *testing.T) {
	t.Parallel()
	result := Compare(Person{}, Person{}, Config{})
	assert.Empty(t, result.Fields)
	assert.Zero(t, result.Weight)
	assert.False(t, result.AboveThreshold)
}

func TestCompareSymmetric(t *testing.T) {
	t.Parallel()
	for _, tt := range append(duplicateCases(), nonMatchCases()...) {
		forward := Compare(tt.existing, tt.incoming, Config{})
		backward := Compare(tt.incoming, tt.existing, Config{})
		assert.InDelta(t, forward.Weight, backward.Weight, 1e-9, tt.name)
	}
}

func TestCompareFieldWeightsAddUp(t *testing.T) {
	t.Parallel()
	for _, tt := range append(duplicateCases(), nonMatchCases()...) {
		result := Compare(tt.existing, tt.incoming, Config{})
		sum := 0.0
		for _, f := range result.Fields {
			sum += f.Weight
		}
		assert.InDelta(t, result.Weight, sum, 1e-9, tt.name)
		assert.GreaterOrEqual(t, result.Score, 0.0, tt.name)
		assert.LessOrEqual(t, result.Score, 1.0, tt.name)
	}
}

func TestCompareBirthDates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, a, b string
		want       Kind
	}{
		{name: "exact", a: "1980-03-04", b: "1980-03-04", want: Exact},
		{name: "transposed", a: "1980-03-04", b: "1980-04-03", want: Transposed},
		{name: "year one off", a: "1980-03-04", b: "1979-03-04", want: Typo},
		{name: "year one digit", a: "1980-03-04", b: "1990-03-04", want: Typo},
		{name: "day one digit", a: "1980-03-04", b: "1980-03-24", want: Typo},
		{name: "two digits", a: "1980-03-04", b: "1980-05-06", want: Mismatch},
		{name: "year digits swapped", a: "1980-03-04", b: "1908-03-04", want: Mismatch},
		{name: "year precision equal", a: "1980", b: "1980-03-04", want: Partial},
		{name: "month precision equal", a: "1980-03", b: "1980-03-04", want: Partial},
		{name: "month precision differs", a: "1980-03", b: "1980-04-03", want: Mismatch},
		{name: "datetime suffix ignored", a: "1980-03-04T10:00:00Z", b: "1980-03-04", want: Exact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, ok := compareBirthDates(parseDate(tt.a), parseDate(tt.b))
			require.True(t, ok, "both dates parse")
			assert.Equal(t, tt.want, kind)
		})
	}
}

func TestCompareBirthDatesInvalid(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "1980-02-30", "1980-13-01", "80-03-04", "1980/03/04", "0000", "19800304"} {
		_, ok := compareBirthDates(parseDate(s), parseDate("1980-03-04"))
		assert.False(t, ok, s)
	}
}

func TestCompareIdentifiers(t *testing.T) {
	t.Parallel()
	const ssn, passport = "http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.330"
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		a, b   []Identifier
		kind   Kind
		weight float64
	}{
		{
			name: "same value", kind: Exact, weight: cfg.Identifier.Exact.Weight(),
			a: []Identifier{{ssn, "900-12-3456"}}, b: []Identifier{{ssn, "900 12 3456"}},
		},
		{
			name: "other value", kind: Mismatch, weight: cfg.Identifier.Mismatch.Weight(),
			a: []Identifier{{ssn, "900-12-3456"}}, b: []Identifier{{ssn, "900-65-4321"}},
		},
		{
			name: "one system agrees and one differs", kind: Exact,
			weight: cfg.Identifier.Exact.Weight() + cfg.Identifier.Mismatch.Weight(),
			a:      []Identifier{{ssn, "900-12-3456"}, {passport, "X1"}},
			b:      []Identifier{{ssn, "900-12-3456"}, {passport, "Y2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, weight, ok := compareIdentifiers(tt.a, tt.b, &cfg)
			require.True(t, ok)
			assert.Equal(t, tt.kind, kind)
			assert.InDelta(t, tt.weight, weight, 1e-9)
		})
	}
	_, _, ok := compareIdentifiers([]Identifier{{ssn, "1"}}, []Identifier{{passport, "1"}}, &cfg)
	assert.False(t, ok, "no shared system")
}

func TestCompareHouseholdCountsOnce(t *testing.T) {
	t.Parallel()
	a := Person{Addresses: basePerson().Addresses, Phones: basePerson().Phones}
	result := Compare(a, a, Config{})

	require.Len(t, result.Fields, 2)
	assert.Equal(t, DefaultConfig().Address.Exact.Weight(), result.Weight)
	assert.Zero(t, result.Fields[1].Weight, "phone weight")
}

func BenchmarkCompare(b *testing.B) {
	existing := basePerson()
	other := incoming(func(p *Person) {
		p.Names = []Name{{Family: "Whittaker", Given: []string{"Kathryn"}}}
		p.BirthDate = "1980-04-03"
	})
	for b.Loop() {
		Compare(existing, other, Config{})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comparisons/s")
}

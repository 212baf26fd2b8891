package match

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlockingKeysOfBasePerson(t *testing.T) {
	t.Parallel()
	keys := BlockingKeys(basePerson())
	for _, want := range []string{
		"bd:1980-03-04",
		"bd:1980-04-03",
		"nm:ATKR:K",
		"nm:K0RN:A",
		"nm:KTRN:A",
		"zip:62704:ATKR",
		"ph:5550142",
		"em:c.whitaker@example.org",
		"id:http://hl7.org/fhir/sid/us-ssn|900123456",
	} {
		assert.Contains(t, keys, want)
	}
	assert.True(t, slices.IsSorted(keys), "keys are sorted")
	assert.Equal(t, len(keys), len(slices.Compact(slices.Clone(keys))), "keys are distinct")
}

func TestBlockingKeysEmptyPerson(t *testing.T) {
	t.Parallel()
	assert.Empty(t, BlockingKeys(Person{}))
}

func TestBlockingKeysUnrelatedPeople(t *testing.T) {
	t.Parallel()
	other := Person{
		Names:     []Name{{Family: "Okafor", Given: []string{"Chidi"}}},
		BirthDate: "1990-12-01",
		Phones:    []string{"617 555 0100"},
	}
	assert.Empty(t, sharedKeys(basePerson(), other))
}

// TestBlockingKeysKeepDuplicates checks that every duplicate within the
// tolerance of Compare shares a key with the original. The variants are
// random edits from a fixed seed, and an edit that Compare would not accept
// as a typo is skipped, so only variants within tolerance are checked.
func TestBlockingKeysKeepDuplicates(t *testing.T) {
	t.Parallel()
	originals := []Person{
		basePerson(),
		{Names: []Name{{Family: "Smith", Given: []string{"John"}}}, BirthDate: "1975-11-20"},
		{Names: []Name{{Family: "Nguyen", Given: []string{"Thi", "Mai"}}}, BirthDate: "2001-01-09"},
		{Names: []Name{{Family: "Müller-Lüdenscheidt", Given: []string{"José"}}}, BirthDate: "1948-12-31"},
		{Names: []Name{{Family: "O'Sullivan", Given: []string{"Siobhan"}}}, BirthDate: "1999-07-07"},
	}
	random := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for i, original := range originals {
		for round := range 200 {
			variant, ok := randomVariant(random, original)
			if !ok {
				continue
			}
			checked++
			shared := sharedKeys(original, variant)
			if !assert.NotEmpty(t, shared, "original %d, round %d: variant %+v", i, round, variant) {
				return
			}
		}
	}
	require.Greater(t, checked, 500, "too few variants within tolerance were checked")
}

// randomVariant returns original changed by one of the edits that Compare
// tolerates, and false when the edit falls outside that tolerance.
func randomVariant(random *rand.Rand, original Person) (Person, bool) {
	p := clonePerson(original)
	name := &p.Names[0]
	switch random.IntN(6) {
	case 0:
		name.Family = randomEdit(random, name.Family)
	case 1:
		name.Given[0] = randomEdit(random, name.Given[0])
	case 2:
		name.Family, name.Given = name.Given[0], []string{name.Family}
	case 3:
		p.BirthDate = randomDateTypo(random, p.BirthDate)
	case 4:
		d, ok := parseDate(p.BirthDate).transposed()
		if !ok {
			return p, false
		}
		p.BirthDate = d.String()
	case 5:
		// A name typo together with a transposed birth date.
		d, ok := parseDate(p.BirthDate).transposed()
		if !ok {
			return p, false
		}
		p.BirthDate = d.String()
		name.Family = randomEdit(random, name.Family)
	}
	p.Addresses, p.Phones, p.Emails, p.Identifiers = nil, nil, nil, nil
	return p, withinTolerance(original, p)
}

// withinTolerance reports whether Compare finds the name and the birth date
// of b to agree with a, exactly or within a typo, phonetic or transposition.
func withinTolerance(a, b Person) bool {
	result := Compare(a, b, Config{})
	for _, f := range result.Fields {
		if (f.Field == FieldName || f.Field == FieldBirthDate) && f.Kind == Mismatch {
			return false
		}
		if f.Field == FieldName && f.Kind == Partial && a.Names[0].Family != b.Names[0].Given[0] {
			return false // only a swap is a tolerated partial name
		}
	}
	return true
}

func randomEdit(random *rand.Rand, s string) string {
	r := []rune(s)
	i := random.IntN(len(r))
	letter := rune('a' + random.IntN(26))
	switch random.IntN(4) {
	case 0:
		r[i] = letter
	case 1:
		r = slices.Insert(r, i, letter)
	case 2:
		r = slices.Delete(r, i, i+1)
	default:
		if i+1 < len(r) {
			r[i], r[i+1] = r[i+1], r[i]
		}
	}
	return string(r)
}

func randomDateTypo(random *rand.Rand, s string) string {
	d := parseDate(s)
	if random.IntN(2) == 0 {
		d.year += 1 - 2*random.IntN(2)
		return d.String()
	}
	digits := []byte(s)
	positions := []int{0, 1, 2, 3, 5, 6, 8, 9}
	digits[positions[random.IntN(len(positions))]] = byte('0' + random.IntN(10))
	return string(digits)
}

func clonePerson(p Person) Person {
	c := p
	c.Names = nil
	for _, n := range p.Names {
		c.Names = append(c.Names, Name{Family: n.Family, Given: slices.Clone(n.Given)})
	}
	return c
}

func sharedKeys(a, b Person) []string {
	var shared []string
	keysB := BlockingKeys(b)
	for _, k := range BlockingKeys(a) {
		if slices.Contains(keysB, k) {
			shared = append(shared, k)
		}
	}
	return shared
}

func ExampleBlockingKeys() {
	p := Person{
		Names:     []Name{{Family: "Smyth", Given: []string{"Jon"}}},
		BirthDate: "1980-03-04",
		Phones:    []string{"+1 217 555 0142"},
	}
	for _, key := range BlockingKeys(p) {
		fmt.Println(key)
	}
	// Output:
	// bd:1980-03-04
	// bd:1980-04-03
	// nm:AN:S
	// nm:JN:S
	// nm:SM0:J
	// nm:XMT:J
	// ph:5550142
}

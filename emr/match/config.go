package match

import (
	"fmt"
	"math"
	"slices"
)

// DefaultThreshold is the Score from which a candidate counts as a
// duplicate. With DefaultMidpoint it needs a total weight of 25.2 bits. It
// was tuned on the cases in compare_test.go. The weakest duplicates there, a
// birth date typo or a move with a new phone, reach 26.4 bits. The strongest
// non-match reaches 23.8 bits: twins of the same sex who share family name,
// birth date, address and phone. A name and a full birth date that both
// match exactly reach 28.7 bits, so they pass with nothing else.
const DefaultThreshold = 0.9

// DefaultMidpoint is the total weight in bits at which Score is 0.5. It is
// the negated log2 prior odds of a match, so 22 bits assumes about one
// duplicate in four million candidate pairs.
const DefaultMidpoint = 22.0

// Level contains the probabilities of one comparison outcome of one field:
// M among pairs that are the same person, U among pairs that are not. The
// outcome adds log2(M/U) bits to the total weight, so an outcome with M equal
// to U is neutral.
type Level struct {
	M, U float64
}

// Weight returns log2(M/U).
func (l Level) Weight() float64 { return math.Log2(l.M / l.U) }

// FieldModel contains the Level of each outcome of one field. A field uses
// only some outcomes, listed with its Config field, and the others must stay
// zero.
type FieldModel struct {
	Exact, Phonetic, Typo, Transposed, Partial, Mismatch Level
}

// Config sets the probabilities of the model and the threshold. The zero
// value is usable after WithDefaults, and Compare applies WithDefaults
// itself. The default probabilities are estimates for a hospital population,
// not values fitted to data. The U values of address and phone allow for
// family members who share them.
type Config struct {
	// FamilyName uses Exact, Phonetic, Typo, Partial (one word of a
	// compound family name equal) and Mismatch.
	FamilyName FieldModel
	// GivenName uses Exact, Phonetic, Typo, Partial (an initial equal to the
	// first letter) and Mismatch.
	GivenName FieldModel
	// NameSwap is the outcome of a family name that matches the other
	// person's given name and the other way round.
	NameSwap Level
	// BirthDate uses Exact, Transposed (day and month swapped), Typo (one
	// digit or one year off), Partial (equal at the precision of a partial
	// date) and Mismatch.
	BirthDate FieldModel
	// Sex uses Exact and Mismatch.
	Sex FieldModel
	// Address uses Exact (same line, and same postal code or city), Typo
	// (line with a typo), Partial (same postal code only) and Mismatch.
	Address FieldModel
	// Phone, Email and Identifier use Exact and Mismatch. For identifiers
	// the outcomes are counted once per system that both persons have.
	Phone      FieldModel
	Email      FieldModel
	Identifier FieldModel

	// IgnoreSystems lists identifier systems left out of the comparison.
	// Put the engine's own medical record number system here, because two
	// records of one person always have different numbers in it.
	IgnoreSystems []string

	// Midpoint is the total weight in bits at which Score is 0.5. Zero means
	// DefaultMidpoint.
	Midpoint float64
	// Threshold is the Score from which Result.AboveThreshold is true. Zero
	// means DefaultThreshold.
	Threshold float64
}

// DefaultConfig returns the default probabilities with DefaultMidpoint and
// DefaultThreshold.
func DefaultConfig() Config {
	return Config{
		FamilyName: FieldModel{
			Exact:    Level{M: 0.86, U: 0.005},
			Phonetic: Level{M: 0.04, U: 0.003},
			Typo:     Level{M: 0.03, U: 0.002},
			Partial:  Level{M: 0.02, U: 0.002},
			Mismatch: Level{M: 0.05, U: 0.988},
		},
		GivenName: FieldModel{
			Exact:    Level{M: 0.88, U: 0.008},
			Phonetic: Level{M: 0.04, U: 0.003},
			Typo:     Level{M: 0.04, U: 0.002},
			Partial:  Level{M: 0.01, U: 0.005},
			Mismatch: Level{M: 0.03, U: 0.982},
		},
		NameSwap: Level{M: 0.01, U: 0.0001},
		BirthDate: FieldModel{
			Exact:      Level{M: 0.93, U: 0.00004},
			Transposed: Level{M: 0.01, U: 0.00004},
			Typo:       Level{M: 0.04, U: 0.001},
			Partial:    Level{M: 0.9, U: 0.01},
			Mismatch:   Level{M: 0.02, U: 0.999},
		},
		Sex: FieldModel{
			Exact:    Level{M: 0.98, U: 0.5},
			Mismatch: Level{M: 0.02, U: 0.5},
		},
		Address: FieldModel{
			Exact:    Level{M: 0.6, U: 0.01},
			Typo:     Level{M: 0.05, U: 0.002},
			Partial:  Level{M: 0.05, U: 0.02},
			Mismatch: Level{M: 0.3, U: 0.968},
		},
		Phone: FieldModel{
			Exact:    Level{M: 0.6, U: 0.01},
			Mismatch: Level{M: 0.4, U: 0.99},
		},
		Email: FieldModel{
			Exact:    Level{M: 0.6, U: 0.001},
			Mismatch: Level{M: 0.4, U: 0.999},
		},
		Identifier: FieldModel{
			Exact:    Level{M: 0.97, U: 0.000001},
			Mismatch: Level{M: 0.005, U: 0.999999},
		},
		Midpoint:  DefaultMidpoint,
		Threshold: DefaultThreshold,
	}
}

// WithDefaults returns a copy of c in which every zero Level, Midpoint and
// Threshold is replaced by its value from DefaultConfig. A Level counts as
// zero only when both M and U are zero.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	c.FamilyName = c.FamilyName.withDefaults(d.FamilyName)
	c.GivenName = c.GivenName.withDefaults(d.GivenName)
	c.NameSwap = c.NameSwap.withDefault(d.NameSwap)
	c.BirthDate = c.BirthDate.withDefaults(d.BirthDate)
	c.Sex = c.Sex.withDefaults(d.Sex)
	c.Address = c.Address.withDefaults(d.Address)
	c.Phone = c.Phone.withDefaults(d.Phone)
	c.Email = c.Email.withDefaults(d.Email)
	c.Identifier = c.Identifier.withDefaults(d.Identifier)
	if c.Midpoint == 0 {
		c.Midpoint = d.Midpoint
	}
	if c.Threshold == 0 {
		c.Threshold = d.Threshold
	}
	return c
}

func (l Level) withDefault(d Level) Level {
	if l == (Level{}) {
		return d
	}
	return l
}

func (f FieldModel) withDefaults(d FieldModel) FieldModel {
	f.Exact = f.Exact.withDefault(d.Exact)
	f.Phonetic = f.Phonetic.withDefault(d.Phonetic)
	f.Typo = f.Typo.withDefault(d.Typo)
	f.Transposed = f.Transposed.withDefault(d.Transposed)
	f.Partial = f.Partial.withDefault(d.Partial)
	f.Mismatch = f.Mismatch.withDefault(d.Mismatch)
	return f
}

// Validate returns an error naming the first invalid setting. A probability
// of a used outcome must be in (0, 1], and an outcome that the field does not
// use must have a zero Level. Midpoint must be finite and Threshold in
// (0, 1). Call it on the result of WithDefaults.
func (c Config) Validate() error {
	models := []struct {
		name  string
		model FieldModel
		used  []Kind
	}{
		{"FamilyName", c.FamilyName, []Kind{Exact, Phonetic, Typo, Partial, Mismatch}},
		{"GivenName", c.GivenName, []Kind{Exact, Phonetic, Typo, Partial, Mismatch}},
		{"BirthDate", c.BirthDate, []Kind{Exact, Transposed, Typo, Partial, Mismatch}},
		{"Sex", c.Sex, []Kind{Exact, Mismatch}},
		{"Address", c.Address, []Kind{Exact, Typo, Partial, Mismatch}},
		{"Phone", c.Phone, []Kind{Exact, Mismatch}},
		{"Email", c.Email, []Kind{Exact, Mismatch}},
		{"Identifier", c.Identifier, []Kind{Exact, Mismatch}},
	}
	for _, m := range models {
		if err := m.model.validate(m.name, m.used); err != nil {
			return err
		}
	}
	if err := c.NameSwap.validate("NameSwap"); err != nil {
		return err
	}
	if math.IsNaN(c.Midpoint) || math.IsInf(c.Midpoint, 0) {
		return fmt.Errorf("match: invalid config: Midpoint is %v, want a finite number of bits", c.Midpoint)
	}
	if !(c.Threshold > 0 && c.Threshold < 1) {
		return fmt.Errorf("match: invalid config: Threshold is %v, want a score in (0, 1)", c.Threshold)
	}
	return nil
}

func (f FieldModel) validate(name string, used []Kind) error {
	for _, kind := range []Kind{Exact, Phonetic, Typo, Transposed, Partial, Mismatch} {
		level := f.level(kind)
		path := name + "." + kind.fieldName()
		if slices.Contains(used, kind) {
			if err := level.validate(path); err != nil {
				return err
			}
		} else if level != (Level{}) {
			return fmt.Errorf("match: invalid config: %s is set, but %s has no %s outcome; leave it zero",
				path, name, kind)
		}
	}
	return nil
}

func (l Level) validate(path string) error {
	for _, p := range []struct {
		name  string
		value float64
	}{{"M", l.M}, {"U", l.U}} {
		if !(p.value > 0 && p.value <= 1) {
			return fmt.Errorf("match: invalid config: %s.%s is %v, want a probability in (0, 1]",
				path, p.name, p.value)
		}
	}
	return nil
}

// level returns the Level of kind, or the zero Level for an unknown kind.
func (f FieldModel) level(kind Kind) Level {
	switch kind {
	case Exact:
		return f.Exact
	case Phonetic:
		return f.Phonetic
	case Typo:
		return f.Typo
	case Transposed:
		return f.Transposed
	case Partial:
		return f.Partial
	case Mismatch:
		return f.Mismatch
	}
	return Level{}
}

package match

// basePerson returns a complete fictitious patient that the tests vary.
func basePerson() Person {
	return Person{
		Names:     []Name{{Family: "Whitaker", Given: []string{"Catherine", "Anne"}}},
		BirthDate: "1980-03-04",
		Sex:       "female",
		Addresses: []Address{{
			Lines:      []string{"12 Orchard Lane"},
			City:       "Springfield",
			State:      "IL",
			PostalCode: "62704",
			Country:    "US",
		}},
		Phones:      []string{"+1 (217) 555-0142"},
		Emails:      []string{"c.whitaker@example.org"},
		Identifiers: []Identifier{{System: "http://hl7.org/fhir/sid/us-ssn", Value: "900-12-3456"}},
	}
}

// with returns a copy of basePerson changed by edit.
func with(edit func(p *Person)) Person {
	p := basePerson()
	edit(&p)
	return p
}

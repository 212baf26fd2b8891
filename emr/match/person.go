package match

import "strings"

// Person is the demographic data that Compare and BlockingKeys read. Every
// field is optional, and a field that is empty on either side of a
// comparison is left out of the score.
type Person struct {
	// Names contains every name of the person, including old and maiden
	// names, because an earlier record may carry any of them.
	Names []Name
	// BirthDate is a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD. A value that is
	// not a valid date counts as missing.
	BirthDate string
	// Sex is a FHIR administrative gender code: male, female, other or
	// unknown. The letters m and f are accepted too, and unknown counts as
	// missing.
	Sex         string
	Addresses   []Address
	Phones      []string
	Emails      []string
	Identifiers []Identifier
}

// Name is one name of a person, without prefixes and suffixes.
type Name struct {
	Family string
	// Given contains the given names in order, first name first.
	Given []string
}

// Address is a postal address. Country is stored but not compared.
type Address struct {
	Lines      []string
	City       string
	State      string
	PostalCode string
	Country    string
}

// Identifier is a business identifier, such as a national health or social
// security number, scoped by the URI of the system that assigns it.
type Identifier struct {
	System string
	Value  string
}

// FromPatient builds a Person from a FHIR R4 Patient resource decoded by
// encoding/json, with or without UseNumber. It reads name, birthDate, gender,
// address, telecom and identifier, and skips elements of the wrong JSON type.
//
// All names are kept whatever their use, old and maiden names included. A
// name with neither family nor given is split from its text: the last word is
// the family name and the others are given names. An address without line,
// city and postal code is skipped, because Compare could not use it.
// Telecom entries with system phone or sms become phones, and those with
// system email become emails. Identifiers without system or value are
// skipped.
func FromPatient(patient map[string]any) Person {
	var p Person
	for _, v := range list(patient["name"]) {
		if name, ok := nameFromFHIR(object(v)); ok {
			p.Names = append(p.Names, name)
		}
	}
	p.BirthDate = text(patient["birthDate"])
	p.Sex = text(patient["gender"])
	for _, v := range list(patient["address"]) {
		if address, ok := addressFromFHIR(object(v)); ok {
			p.Addresses = append(p.Addresses, address)
		}
	}
	for _, v := range list(patient["telecom"]) {
		point := object(v)
		value := strings.TrimSpace(text(point["value"]))
		if value == "" {
			continue
		}
		switch text(point["system"]) {
		case "phone", "sms":
			p.Phones = append(p.Phones, value)
		case "email":
			p.Emails = append(p.Emails, value)
		}
	}
	for _, v := range list(patient["identifier"]) {
		id := object(v)
		system, value := text(id["system"]), text(id["value"])
		if system != "" && value != "" {
			p.Identifiers = append(p.Identifiers, Identifier{System: system, Value: value})
		}
	}
	return p
}

func nameFromFHIR(element map[string]any) (Name, bool) {
	name := Name{Family: text(element["family"])}
	for _, g := range list(element["given"]) {
		if s := text(g); s != "" {
			name.Given = append(name.Given, s)
		}
	}
	if name.Family == "" && len(name.Given) == 0 {
		words := strings.Fields(text(element["text"]))
		if len(words) == 0 {
			return Name{}, false
		}
		name.Family = words[len(words)-1]
		name.Given = words[:len(words)-1]
	}
	return name, true
}

func addressFromFHIR(element map[string]any) (Address, bool) {
	address := Address{
		City:       text(element["city"]),
		State:      text(element["state"]),
		PostalCode: text(element["postalCode"]),
		Country:    text(element["country"]),
	}
	for _, l := range list(element["line"]) {
		if s := text(l); s != "" {
			address.Lines = append(address.Lines, s)
		}
	}
	empty := len(address.Lines) == 0 && address.City == "" && address.PostalCode == ""
	return address, !empty
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func object(v any) map[string]any {
	o, _ := v.(map[string]any)
	return o
}

func text(v any) string {
	s, _ := v.(string)
	return s
}

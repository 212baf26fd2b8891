// Package searchparam contains the FHIR R4 search parameter definitions and
// extracts search index entries from resources by evaluating their FHIRPath
// expressions. Every R4 resource type is so indexed from data, with no code
// written per type.
//
// R4 returns the registry of the 1378 SearchParameter resources of FHIR R4
// 4.0.1, embedded in the package. A published expression shared by several
// resource types ("Condition.code | Observation.code") is split so that
// each type gets its own part, and parameters of Resource and
// DomainResource (_id, _lastUpdated, _tag, ...) apply to every type.
//
// Extract produces Entry values by parameter type:
//   - string: each part of a HumanName or an Address and plain strings,
//     with Text folded by FoldString and Exact in NFC.
//   - token: codes, booleans and other primitives (Code), each Coding of a
//     CodeableConcept (System, Code, display folded in Text), the concept's
//     text as a Text-only entry, and Identifier and ContactPoint (System,
//     Code = value).
//   - date: date, dateTime and instant values as the range their precision
//     covers, a Period (open ends as math.MinInt64 and math.MaxInt64), and
//     the outer limits of a Timing's events and repeat.boundsPeriod, in
//     microseconds since the Unix epoch, UTC.
//   - reference: RefType, RefID and RefVersion parsed from Reference.reference
//     and Exact as written; canonical and uri values give Exact only.
//   - number and quantity: Num with the range its significant digits imply,
//     the unit system and code (the unit when there is no code), or the
//     currency of a Money.
//   - uri: Exact.
//   - composite: for each element the parameter's expression selects, the
//     entries of each component under CompositeParam(code, element,
//     component), so a search can require every component to match in
//     one element. An element missing a component gives no entries.
//   - Reference.identifier: token entries under IdentifierParam(code), for
//     the :identifier modifier.
//   - Identifier.type: for each type coding, a token entry under
//     OfTypeParam(code) with the value in Code and OfTypeSystem in
//     System, for the :of-type modifier.
//
// Entries that hold identifier values have Entry.Identifier set: those of
// token parameters whose expression selects an Identifier element
// (Definition.Identifier, such as Patient.identifier or
// Specimen.accessionIdentifier) and every :of-type and Reference.identifier
// entry. Registry.HoldsIdentifiers names the same parameters, so a store
// that hashes these values can hash the matching search conditions too.
//
// The query side must normalize search values with the same helpers:
// FoldString, ParseDate and ParseNumber.
//
// Concurrency: a Registry is immutable after it is built, and Lookup,
// ForType, ResourceTypes, HoldsIdentifiers and Extract are safe for
// concurrent use. Extract does not modify the resource.
//
// Known limits:
//   - Special parameters produce no entries, nor do composites whose
//     components read %resource (the MolecularSequence coordinates).
//   - "urn:uuid:" references keep Exact only, so parameters restricted with
//     "where(resolve() is Patient)" find nothing for them. Rewrite bundle
//     references to Type/id before extracting, as a transaction does.
//   - Range, Ratio and SampledData values of quantity and number parameters
//     produce no entries, nor does a Timing bounded only by a Duration or
//     Range.
//   - ResourceTypes lists the 133 types that have parameters of their own.
//     Types without any, such as Binary, still get the Resource parameters.
//   - Custom SearchParameter resources cannot be added yet.
//   - Definition.Identifier is decided from the element name that ends
//     the expression (identifier, accessionIdentifier, groupIdentifier,
//     masterIdentifier, requestIdentifier, requisition) or from
//     ofType(Identifier). MessageHeader response-id ends in identifier
//     but is an id, so its values are treated as identifier values too.
package searchparam

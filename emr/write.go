package emr

import (
	"context"
	"errors"
	"fmt"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// prepared is a resource checked and encoded outside any transaction, so the
// expensive steps (validation, indexing) can run in parallel.
type prepared struct {
	typ         string
	id          string
	tree        map[string]any
	enc         *encoded
	index       []searchparam.Entry
	identifiers []Identifier
	matchKeys   []string
}

// prepare validates tree as resource typ with the given id and computes its
// index rows. tree is changed: id is set and meta.versionId and
// meta.lastUpdated are dropped, because the server owns them.
func (s *Service) prepare(typ, id string, tree map[string]any) (*prepared, error) {
	rt, _ := tree["resourceType"].(string)
	switch {
	case rt == "":
		return nil, invalid("", "required", "resourceType is missing")
	case typ != "" && rt != typ:
		return nil, invalid(rt, "invalid", "resourceType %s does not match the type %s of the request", rt, typ)
	case !IsResourceType(rt):
		return nil, invalid("", "not-supported", "unknown resource type %s", rt)
	}
	if !ValidID(id) {
		return nil, invalid(rt+".id", "value", "id must be 1 to 64 letters, digits, '-' or '.'")
	}
	tree["id"] = id
	if err := checkRepeats(rt, tree); err != nil {
		return nil, err
	}
	enc, err := encodeResource(tree)
	if err != nil {
		return nil, invalid(rt, "structure", "resource cannot be encoded")
	}
	if err := validateFHIR(enc.body(1, s.now())); err != nil {
		return nil, nameUnknownElements(err, tree)
	}
	if err := checkRules(rt, tree); err != nil {
		return nil, err
	}
	index, err := s.cfg.Registry.Extract(rt, tree)
	if err != nil {
		return nil, fmt.Errorf("index %s/%s: %w", rt, id, err)
	}
	if err := checkIndexSize(rt, len(index)); err != nil {
		return nil, err
	}
	index = dropColumnParams(index)
	p := &prepared{typ: rt, id: id, tree: tree, enc: enc, index: index}
	if rt == "Patient" {
		p.identifiers, p.matchKeys = patientKeys(tree)
	}
	return p, nil
}

// dropColumnParams removes _id and _lastUpdated entries, because search
// reads those from the resources table.
func dropColumnParams(entries []searchparam.Entry) []searchparam.Entry {
	kept := entries[:0]
	for _, e := range entries {
		if e.Param != "_id" && e.Param != "_lastUpdated" {
			kept = append(kept, e)
		}
	}
	return kept
}

// writeMode is the set of rules write applies to the stored state.
type writeMode struct {
	// ifMatch, when positive, is the version the caller expects current.
	ifMatch int64
	// skipKnown leaves the resource alone when any stored version has the
	// same content, so re-importing the same files changes nothing.
	skipKnown bool
	// mustCreate fails with ErrConflict when the id is taken.
	mustCreate bool
}

// Outcome is the effect of a write.
type Outcome string

// Write outcomes.
const (
	Created   Outcome = "created"
	Updated   Outcome = "updated"
	Unchanged Outcome = "unchanged"
	Deleted   Outcome = "deleted"
)

// errHidden marks an existing resource that the caller's Access hides. It
// wraps ErrNotFound, so the caller learns no more than for a missing one.
var errHidden = fmt.Errorf("hidden: %w", ErrNotFound)

// readForWrite reads the current version that a write replaces. For a
// restricted caller it tells a missing resource (ErrNotFound) from one
// that exists but is hidden (errHidden).
func readForWrite(ctx context.Context, tx Tx, typ, id string) (*Resource, error) {
	cur, err := tx.Read(ctx, typ, id)
	if !errors.Is(err, ErrNotFound) || AccessFromContext(ctx) == nil {
		return cur, err
	}
	if _, err := tx.Read(unrestricted(ctx), typ, id); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("write %s/%s: %w", typ, id, errHidden)
}

func (s *Service) write(ctx context.Context, tx Tx, p *prepared, mode writeMode) (*Resource, Outcome, error) {
	var cur *Resource
	var err error
	if mode.mustCreate {
		// A create writes under an id that Config.NewID has just made, so
		// it has no current version to read. Should the id be taken all
		// the same, Put fails on the unique key of version 1.
		err = fmt.Errorf("create %s/%s: %w", p.typ, p.id, ErrNotFound)
	} else {
		cur, err = readForWrite(ctx, tx, p.typ, p.id)
	}
	if errors.Is(err, errHidden) {
		return nil, "", err
	}
	patients := compartmentPatients(p.typ, p.id, p.index)
	newPatient := p.typ == "Patient" && errors.Is(err, ErrNotFound)
	if err := checkWriteAccess(ctx, "write "+p.typ+"/"+p.id, p.typ, patients, newPatient); err != nil {
		return nil, "", err
	}
	if checkErr := runWriteCheck(ctx, p, cur, err, patients); checkErr != nil {
		return nil, "", checkErr
	}
	var version int64 = 1
	// Method records the interaction: "create" for a create with a server
	// id, "update" for a write under the caller's id, even when it creates
	// the resource, so history can show POST or PUT as FHIR does.
	method, outcome := "update", Created
	if mode.mustCreate {
		method = "create"
	}
	switch {
	case errors.Is(err, ErrNotFound):
		if mode.ifMatch > 0 {
			return nil, "", fmt.Errorf("update %s/%s: no current version to match: %w", p.typ, p.id, ErrVersionMismatch)
		}
	case err != nil:
		return nil, "", err
	default:
		if mode.ifMatch > 0 && cur.VersionID != mode.ifMatch {
			return nil, "", fmt.Errorf("update %s/%s: current version is %d, not %d: %w", p.typ, p.id, cur.VersionID, mode.ifMatch, ErrVersionMismatch)
		}
		if !cur.Deleted && cur.ContentHash == p.enc.hash {
			// An update that changes nothing makes no version.
			return cur, Unchanged, nil
		}
		if mode.skipKnown && !cur.Deleted {
			known, err := tx.HasContent(ctx, p.typ, p.id, p.enc.hash)
			if err != nil {
				return nil, "", err
			}
			if known {
				return cur, Unchanged, nil
			}
		}
		version = cur.VersionID + 1
		outcome = Updated
	}
	now := s.now()
	res := Resource{
		Type: p.typ, ID: p.id, VersionID: version, LastUpdated: now,
		Body: p.enc.body(version, now), Author: ActorFromContext(ctx), Method: method,
	}
	err = tx.Put(ctx, Put{Resource: res, ContentHash: p.enc.hash, Index: p.index, Identifiers: p.identifiers,
		MatchKeys: p.matchKeys, Patients: patients})
	if err != nil {
		if mode.mustCreate && errors.Is(err, ErrConflict) && !errors.Is(err, ErrIdentifierInUse) {
			return nil, "", fmt.Errorf("create %s/%s: id already exists: %w", p.typ, p.id, ErrConflict)
		}
		if errors.Is(err, ErrConflict) && !errors.Is(err, ErrIdentifierInUse) && mode.ifMatch == 0 && version == 1 {
			// Another writer created the same id first; try again as an
			// update.
			return nil, "", retryable{err}
		}
		return nil, "", err
	}
	if err := tx.Emit(ctx, Event{Topic: "emr.resource." + string(outcome), Type: p.typ, ID: p.id, Version: version,
		Author: res.Author, Time: now, Data: eventData(eventDetails{Method: method, Patients: patients})}); err != nil {
		return nil, "", err
	}
	return &res, outcome, nil
}

// Create stores a new resource of type typ under an id the server assigns;
// an id in body is ignored.
func (s *Service) Create(ctx context.Context, typ string, body []byte) (*Resource, error) {
	tree, err := decodeJSON(body)
	if err != nil {
		return nil, err
	}
	p, err := s.prepare(typ, s.cfg.NewID(), tree)
	if err != nil {
		return nil, err
	}
	var out *Resource
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		res, _, err := s.write(ctx, tx, p, writeMode{mustCreate: true})
		out = res
		return err
	})
	return out, err
}

// UpdateParams is the input of Update.
type UpdateParams struct {
	Type string
	ID   string
	Body []byte
	// IfMatch, when positive, makes the update fail with
	// ErrVersionMismatch unless it is the current version.
	IfMatch int64
}

// Update stores a new version of a resource, creating it when the id is
// new. The id in the body must be absent or equal to ID.
func (s *Service) Update(ctx context.Context, p UpdateParams) (*Resource, Outcome, error) {
	if err := s.checkType(p.Type); err != nil {
		return nil, "", err
	}
	tree, err := decodeJSON(p.Body)
	if err != nil {
		return nil, "", err
	}
	if bodyID, ok := tree["id"]; ok && bodyID != p.ID {
		return nil, "", invalid(p.Type+".id", "invalid", "id in the body does not match the id in the URL")
	}
	prep, err := s.prepare(p.Type, p.ID, tree)
	if err != nil {
		return nil, "", err
	}
	var out *Resource
	var outcome Outcome
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		res, oc, err := s.write(ctx, tx, prep, writeMode{ifMatch: p.IfMatch})
		out, outcome = res, oc
		return err
	})
	return out, outcome, err
}

func (s *Service) checkType(typ string) error {
	if !IsResourceType(typ) {
		return fmt.Errorf("unknown resource type %s: %w", typ, ErrNotFound)
	}
	return nil
}

// Delete records a deletion as a new version. Deleting a resource that is
// already deleted changes nothing and returns the deletion version.
func (s *Service) Delete(ctx context.Context, typ, id string, ifMatch int64) (*Resource, error) {
	if err := s.checkTypeID(typ, id); err != nil {
		return nil, err
	}
	var out *Resource
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		res, err := s.deleteInTx(ctx, tx, typ, id, ifMatch)
		out = res
		return err
	})
	return out, err
}

func (s *Service) deleteInTx(ctx context.Context, tx Tx, typ, id string, ifMatch int64) (*Resource, error) {
	cur, err := tx.Read(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	if ifMatch > 0 && cur.VersionID != ifMatch {
		return nil, fmt.Errorf("delete %s/%s: current version is %d, not %d: %w", typ, id, cur.VersionID, ifMatch, ErrVersionMismatch)
	}
	if cur.Deleted {
		return cur, nil
	}
	// The deletion belongs to the compartments of the content it deletes.
	patients, err := s.patientsOf(cur)
	if err != nil {
		return nil, err
	}
	if err := checkWriteAccess(ctx, "delete "+typ+"/"+id, typ, patients, false); err != nil {
		return nil, err
	}
	now := s.now()
	res := Resource{Type: typ, ID: id, VersionID: cur.VersionID + 1, LastUpdated: now, Deleted: true,
		Author: ActorFromContext(ctx), Method: "delete"}
	if err := tx.Put(ctx, Put{Resource: res, Patients: patients}); err != nil {
		return nil, err
	}
	if err := tx.Emit(ctx, Event{Topic: "emr.resource.deleted", Type: typ, ID: id, Version: res.VersionID,
		Author: res.Author, Time: now, Data: eventData(eventDetails{Method: "delete", Patients: patients})}); err != nil {
		return nil, err
	}
	return &res, nil
}

// Validate checks body as a resource of type typ without storing it.
func (s *Service) Validate(typ string, body []byte) error {
	tree, err := decodeJSON(body)
	if err != nil {
		return err
	}
	id, _ := tree["id"].(string)
	if id == "" {
		id = "validate"
	}
	_, err = s.prepare(typ, id, tree)
	return err
}

// eventDetails is the Data of the emr.resource.* events. Patients lists
// the ids of the patients in whose compartments the version is, so a
// consumer such as the audit log can file the change without reading the
// resource. It never holds values of the resource.
type eventDetails struct {
	Method   string   `json:"method"`
	Patients []string `json:"patients"`
}

// patientsOf returns the compartment patients of a stored version.
func (s *Service) patientsOf(r *Resource) ([]string, error) {
	if !InPatientCompartment(r.Type) {
		return []string{}, nil
	}
	tree, err := decodeJSON(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read compartments of %s/%s: %w", r.Type, r.ID, err)
	}
	index, err := s.cfg.Registry.Extract(r.Type, tree)
	if err != nil {
		return nil, fmt.Errorf("read compartments of %s/%s: %w", r.Type, r.ID, err)
	}
	return compartmentPatients(r.Type, r.ID, index), nil
}

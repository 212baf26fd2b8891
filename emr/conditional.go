package emr

import (
	"context"
	"errors"
	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
)

// ConditionalCreate creates body as a resource of type typ unless exactly
// one resource matches the search criteria (a query string such as
// "identifier=http://x|1"): then it returns that one with Outcome
// Unchanged. Several matches give ErrPreconditionFailed. Concurrent calls
// with equivalent criteria create one resource.
func (s *Service) ConditionalCreate(ctx context.Context, typ string, body []byte, criteria string) (*Resource, Outcome, error) {
	if err := s.checkType(typ); err != nil {
		return nil, "", err
	}
	tree, err := decodeJSON(body)
	if err != nil {
		return nil, "", err
	}
	p, err := s.prepare(typ, s.cfg.NewID(), tree)
	if err != nil {
		return nil, "", err
	}
	var out *Resource
	var outcome Outcome
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		id, err := s.conditionalMatch(ctx, tx, typ, criteria)
		if err != nil {
			return err
		}
		if id != "" {
			out, err = tx.Read(ctx, typ, id)
			outcome = Unchanged
			return err
		}
		out, outcome, err = s.write(ctx, tx, p, writeMode{mustCreate: true})
		return err
	})
	return out, outcome, err
}

// ConditionalUpdate updates the one resource of type typ that matches the
// criteria, or creates body when none matches (under the body's id, or a
// new one). Several matches give ErrPreconditionFailed, and an id in body
// that differs from the match gives ErrInvalid.
func (s *Service) ConditionalUpdate(ctx context.Context, typ, criteria string, body []byte) (*Resource, Outcome, error) {
	if err := s.checkType(typ); err != nil {
		return nil, "", err
	}
	tree, err := decodeJSON(body)
	if err != nil {
		return nil, "", err
	}
	bodyID, _ := tree["id"].(string)
	var out *Resource
	var outcome Outcome
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		id, err := s.conditionalMatch(ctx, tx, typ, criteria)
		if err != nil {
			return err
		}
		mode := writeMode{}
		switch {
		case id == "" && bodyID == "":
			id, mode.mustCreate = s.cfg.NewID(), true
		case id == "":
			id = bodyID
		case bodyID != "" && bodyID != id:
			return &ValidationError{Malformed: true, Issues: []Issue{{Path: typ + ".id", Code: "invalid",
				Message: "id in the body differs from the resource the criteria match"}}}
		}
		p, err := s.prepare(typ, id, CloneTree(tree))
		if err != nil {
			return err
		}
		out, outcome, err = s.write(ctx, tx, p, mode)
		return err
	})
	return out, outcome, err
}

// ConditionalDelete deletes the one resource of type typ that matches the
// criteria. No match deletes nothing and returns nil and no error; several
// matches give ErrPreconditionFailed.
func (s *Service) ConditionalDelete(ctx context.Context, typ, criteria string) (*Resource, error) {
	if err := s.checkType(typ); err != nil {
		return nil, err
	}
	var out *Resource
	err := s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		id, err := s.conditionalMatch(ctx, tx, typ, criteria)
		if err != nil || id == "" {
			return err
		}
		out, err = s.deleteInTx(ctx, tx, typ, id, 0)
		return err
	})
	return out, err
}

// PatchParams is the input of Patch.
type PatchParams struct {
	Type string
	ID   string
	// JSONPatch is an RFC 6902 JSON Patch document.
	JSONPatch []byte
	// IfMatch, when positive, is the version the patch applies to.
	IfMatch int64
}

// Patch applies a JSON Patch to the current version and stores the result
// as a new version after the same validation as Update. The patch may not
// change resourceType or id. Values the patch does not touch keep their
// exact JSON form.
func (s *Service) Patch(ctx context.Context, p PatchParams) (*Resource, error) {
	if err := s.checkTypeID(p.Type, p.ID); err != nil {
		return nil, err
	}
	patch, err := jsonpatch.DecodePatch(p.JSONPatch)
	if err != nil {
		return nil, malformed("", "invalid JSON Patch: the body must be an array of operations")
	}
	var out *Resource
	err = s.inTx(ctx, func(ctx context.Context, tx Tx) error {
		cur, err := tx.Read(ctx, p.Type, p.ID)
		if err != nil {
			return err
		}
		if cur.Deleted {
			return fmt.Errorf("patch %s/%s: %w", p.Type, p.ID, ErrGone)
		}
		if p.IfMatch > 0 && cur.VersionID != p.IfMatch {
			return fmt.Errorf("patch %s/%s: current version is %d, not %d: %w", p.Type, p.ID, cur.VersionID, p.IfMatch, ErrVersionMismatch)
		}
		patched, err := patch.Apply(cur.Body)
		if err != nil {
			// The library's message may quote values, so it is not passed on.
			if errors.Is(err, jsonpatch.ErrTestFailed) {
				return fmt.Errorf("patch %s/%s: a test operation failed: %w", p.Type, p.ID, ErrPreconditionFailed)
			}
			return invalid("", "processing", "the JSON Patch cannot be applied to %s/%s: a path does not exist or an operation is invalid", p.Type, p.ID)
		}
		tree, err := decodeJSON(patched)
		if err != nil {
			return err
		}
		if tree["resourceType"] != p.Type || tree["id"] != p.ID {
			return invalid(p.Type, "invalid", "a patch may not change resourceType or id")
		}
		prep, err := s.prepare(p.Type, p.ID, tree)
		if err != nil {
			return err
		}
		out, _, err = s.write(ctx, tx, prep, writeMode{ifMatch: cur.VersionID})
		return err
	})
	return out, err
}

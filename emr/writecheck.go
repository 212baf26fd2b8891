package emr

import (
	"context"
	"errors"
)

// WriteCheck is a precondition of a caller's writes. Every create, update,
// patch and bundle entry write made with a context from
// ContextWithWriteCheck calls it inside the write transaction, after the
// current version was read and before the new one is stored. An error
// aborts the write (and its transaction) and is returned unchanged, so a
// check returns an error wrapping ErrForbidden, ErrInvalid or another
// sentinel. Deletions and Store writes outside Service do not call it.
type WriteCheck func(ctx context.Context, w PendingWrite) error

// PendingWrite is a write about to be stored. Its values must not be
// changed.
type PendingWrite struct {
	Type string
	ID   string
	// Current is the stored current version, nil when the id is new. A
	// deleted current version has Deleted set.
	Current *Resource
	// Resource is the new content as decoded JSON, with the server's id
	// set and without meta.versionId and meta.lastUpdated.
	Resource map[string]any
	// Patients are the ids of the patients in whose compartments the new
	// content is.
	Patients []string
}

// Creates reports whether the write creates the resource: the id is new
// or its current version is a deletion.
func (w PendingWrite) Creates() bool { return w.Current == nil || w.Current.Deleted }

type writeCheckKey struct{}

// ContextWithWriteCheck returns a context whose writes call check. A nil
// check removes an earlier one.
func ContextWithWriteCheck(ctx context.Context, check WriteCheck) context.Context {
	return context.WithValue(ctx, writeCheckKey{}, check)
}

// runWriteCheck calls the context's WriteCheck for p. readErr is the
// error of reading the current version: ErrNotFound means a new id, and
// any other error fails the write later, so no check runs for it.
func runWriteCheck(ctx context.Context, p *prepared, cur *Resource, readErr error, patients []string) error {
	check, _ := ctx.Value(writeCheckKey{}).(WriteCheck)
	if check == nil {
		return nil
	}
	if readErr != nil && !errors.Is(readErr, ErrNotFound) {
		return nil
	}
	if readErr != nil {
		cur = nil
	}
	return check(ctx, PendingWrite{Type: p.typ, ID: p.id, Current: cur, Resource: p.tree, Patients: patients})
}

// CheckWrite returns an error wrapping ErrForbidden when a does not allow
// writing content of typ in the compartments of patients, as the store
// checks the Access of a write's context. A caller uses it to hold a
// write to a second, narrower Access, such as the one that applies when
// the write creates. newPatient is set when the write creates a Patient.
func (a *Access) CheckWrite(op, typ string, patients []string, newPatient bool) error {
	if a == nil {
		return nil
	}
	return checkWriteAccess(ContextWithAccess(context.Background(), a), op, typ, patients, newPatient)
}

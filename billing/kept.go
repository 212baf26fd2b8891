package billing

import (
	"context"
	"encoding/json"
	"fmt"
)

// KeptElementStore is the optional part of a Store that keeps, per
// version of a record, a JSON document of the elements of its FHIR
// resource that the billing model has no field for. billing/sqlstore
// implements it. The Service finds it by type assertion. Kind is the
// FHIR resource type, such as "Invoice".
type KeptElementStore interface {
	// PutKeptElements stores doc for one version of a record, replacing
	// a document stored for that version before.
	PutKeptElements(ctx context.Context, kind, id string, version int64, doc []byte) error
	// KeptElements returns the document of the latest version at or
	// before version, or nil when no such version has one.
	KeptElements(ctx context.Context, kind, id string, version int64) ([]byte, error)
}

// MaxKeptElements is the maximum size in bytes of one kept document.
const MaxKeptElements = 1 << 20

// ErrNoKeptElements is returned by the kept-element methods of a Service
// whose store does not implement KeptElementStore.
var ErrNoKeptElements = fmt.Errorf("the store keeps no unmodelled elements: %w", ErrInvalid)

func (s *Service) keptStore() (KeptElementStore, bool) {
	k, ok := s.store.(KeptElementStore)
	return k, ok
}

// KeepsElements reports whether the store keeps unmodelled elements.
func (s *Service) KeepsElements() bool {
	_, ok := s.keptStore()
	return ok
}

// KeepElements stores doc, a JSON object, for one version of a record.
// The billing service never reads amounts or states from it.
func (s *Service) KeepElements(ctx context.Context, kind, id string, version int64, doc []byte) error {
	k, ok := s.keptStore()
	if !ok {
		return fmt.Errorf("keep elements of %s %s: %w", kind, id, ErrNoKeptElements)
	}
	if version <= 0 {
		return fmt.Errorf("keep elements of %s %s: version %d must be positive: %w", kind, id, version, ErrInvalid)
	}
	if len(doc) > MaxKeptElements {
		return fmt.Errorf("keep elements of %s %s: %d bytes exceed the maximum of %d: %w", kind, id, len(doc), MaxKeptElements, ErrInvalid)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(doc, &obj); err != nil || obj == nil {
		return fmt.Errorf("keep elements of %s %s: the document must be a JSON object: %w", kind, id, ErrInvalid)
	}
	return k.PutKeptElements(ctx, kind, id, version, doc)
}

// KeptElements returns the document kept for the latest version of a
// record at or before version, or nil when there is none or the store
// keeps none.
func (s *Service) KeptElements(ctx context.Context, kind, id string, version int64) ([]byte, error) {
	k, ok := s.keptStore()
	if !ok {
		return nil, nil
	}
	return k.KeptElements(ctx, kind, id, version)
}

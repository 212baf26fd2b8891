package inbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/interop/hl7v2"
)

// SeenStore records which messages were applied, by the key that
// MessageKey returns.
type SeenStore interface {
	// Seen reports whether key was recorded.
	Seen(ctx context.Context, key string) (bool, error)
	// Record stores key. Recording a key twice is not an error.
	Record(ctx context.Context, key string) error
}

// MessageKey returns the key of a message for a SeenStore: the SHA-256 of
// MSH-3, MSH-4 (both as encoded) and MSH-10, as 64 lowercase hexadecimal
// digits. The key is a valid FHIR id and carries no readable value.
func MessageKey(hdr *hl7v2.Header) string {
	sum := sha256.Sum256([]byte(senderKey(hdr) + fmt.Sprintf("%d:%s", len(hdr.ControlID), hdr.ControlID)))
	return hex.EncodeToString(sum[:])
}

// ContentKey returns the key Handler records: MessageKey's fields and the
// SHA-256 of the message bytes (line ends and trailing blank lines
// ignored). A message that reuses an earlier control id with other content
// is therefore applied, not dropped as a duplicate; only an identical
// resend is skipped.
func ContentKey(hdr *hl7v2.Header, message []byte) string {
	normalised := bytes.ReplaceAll(message, []byte("\r\n"), []byte("\r"))
	normalised = bytes.ReplaceAll(normalised, []byte("\n"), []byte("\r"))
	normalised = bytes.TrimRight(normalised, "\r \t")
	body := sha256.Sum256(normalised)
	sum := sha256.Sum256([]byte(MessageKey(hdr) + hex.EncodeToString(body[:])))
	return hex.EncodeToString(sum[:])
}

// MemorySeen is a SeenStore in memory, for tests and for tools that run
// once. It grows by one key per message and loses every key on exit.
// The zero value is ready to use.
type MemorySeen struct {
	mu   sync.Mutex
	keys map[string]struct{}
}

var _ SeenStore = (*MemorySeen)(nil)

// Seen reports whether key was recorded.
func (m *MemorySeen) Seen(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.keys[key]
	return ok, nil
}

// Record stores key.
func (m *MemorySeen) Record(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = make(map[string]struct{})
	}
	m.keys[key] = struct{}{}
	return nil
}

// RecordSeen is a SeenStore in the clinical record: each applied message
// is a FHIR MessageHeader resource whose id is its key, so it needs no
// table of its own and is kept with the data it describes. The resource
// holds no field of the message. Deleting a MessageHeader makes its
// message new again.
type RecordSeen struct {
	Service *emr.Service
}

var _ SeenStore = RecordSeen{}

// seenEvent is the MessageHeader.eventUri of the records. FHIR requires an
// event, and the key alone does not say which event the message carried.
const seenEvent = "urn:nexus-health-360:hl7v2:inbound"

// Seen reports whether a MessageHeader with id key exists.
func (r RecordSeen) Seen(ctx context.Context, key string) (bool, error) {
	_, err := r.Service.Read(ctx, "MessageHeader", key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, emr.ErrNotFound), errors.Is(err, emr.ErrGone):
		return false, nil
	}
	return false, fmt.Errorf("inbound: read MessageHeader/%s: %w", key, err)
}

// Record stores a MessageHeader with id key. It goes through the import
// path, which leaves a resource alone when its content is already stored,
// so recording the same key again writes no new version.
func (r RecordSeen) Record(ctx context.Context, key string) error {
	body, err := json.Marshal(map[string]any{
		"resourceType": "MessageHeader",
		"id":           key,
		"eventUri":     seenEvent,
		"source":       map[string]any{"endpoint": seenEvent},
	})
	if err != nil {
		return fmt.Errorf("inbound: encode MessageHeader/%s: %w", key, err)
	}
	if _, err := r.Service.ImportResources(ctx, [][]byte{body}); err != nil {
		return fmt.Errorf("inbound: store MessageHeader/%s: %w", key, err)
	}
	return nil
}

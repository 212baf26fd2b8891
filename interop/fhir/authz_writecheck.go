package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security"
)

// writeCheck returns the emr.WriteCheck of one request by principal p. It
// runs for every create, update, patch and bundle entry write inside its
// transaction, so it checks what the write does rather than what the
// request looks like:
//
//   - A write that creates the resource (a new id, or one whose current
//     version is a deletion) needs create permission, also through a PUT,
//     a conditional update or a bundle entry, for which the route decided
//     only update. The create decision's compartments apply too.
//   - The new content's meta.security must equal the stored version's
//     (none for a new resource), because the server owns these labels. A
//     client cannot add, remove or change them through POST, PUT, PATCH or
//     a bundle.
func (h *handler) writeCheck(p *security.Principal) emr.WriteCheck {
	// A request's writes run one after another, so the cache needs no
	// lock.
	creates := map[string]*emr.Access{}
	return func(ctx context.Context, w emr.PendingWrite) error {
		if err := checkLabelsKept(w); err != nil {
			return err
		}
		if !w.Creates() {
			return nil
		}
		access, decided := creates[w.Type]
		if !decided {
			req := security.Request{Type: w.Type, Interaction: security.Create}
			d, err := h.authz.authorizer.Decide(ctx, p, req)
			switch {
			case errors.Is(err, security.ErrForbidden):
				access = nil
			case err != nil:
				return err
			default:
				access, _ = accessOf([]security.Decision{d}, []security.Request{req})
			}
			creates[w.Type] = access
		}
		op := "create " + w.Type + "/" + w.ID
		if access == nil {
			return fmt.Errorf("%s: the access token allows update but not create of %s: %w", op, w.Type, emr.ErrForbidden)
		}
		return access.CheckWrite(op, w.Type, w.Patients, w.Type == "Patient")
	}
}

// checkLabelsKept returns an error wrapping emr.ErrForbidden when the new
// content's meta.security differs from the current version's. The labels
// compare as sets of codings, so their order does not matter.
func checkLabelsKept(w emr.PendingWrite) error {
	var stored []any
	if w.Current != nil && !w.Current.Deleted && len(w.Current.Body) > 0 {
		var cur struct {
			Meta struct {
				Security []any `json:"security"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(w.Current.Body, &cur); err != nil {
			return fmt.Errorf("read meta.security of %s/%s: %w", w.Type, w.ID, err)
		}
		stored = cur.Meta.Security
	}
	var sent []any
	if meta, ok := w.Resource["meta"].(map[string]any); ok {
		sent, _ = meta["security"].([]any)
	}
	if sameCodings(stored, sent) {
		return nil
	}
	return fmt.Errorf("write %s/%s: meta.security labels are set by the server and cannot be changed by a client: %w",
		w.Type, w.ID, emr.ErrForbidden)
}

// sameCodings reports whether a and b contain the same codings, each as
// often, in any order. Codings compare by their JSON encoding, which
// sorts object keys.
func sameCodings(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	return slices.Equal(sortedEncodings(a), sortedEncodings(b))
}

func sortedEncodings(codings []any) []string {
	out := make([]string, len(codings))
	for i, c := range codings {
		data, _ := json.Marshal(c) // decoded JSON always encodes
		out[i] = string(data)
	}
	slices.Sort(out)
	return out
}

package emr

import "context"

// BundleEntryRequest is one entry of a batch or transaction as
// ProcessBundle parsed it, before anything in the bundle runs. It is what
// the entry will do, so an authorization layer that checks it checks the
// interaction that runs, not its own reading of the JSON.
type BundleEntryRequest struct {
	// Index is the entry's position in Bundle.entry.
	Index int
	// Method is request.method: POST, PUT, PATCH, DELETE or GET.
	Method string
	// Type is the resource type of request.url.
	Type string
	// ID is the id of request.url, empty for POST.
	ID string
	// URL is request.url as sent, such as Observation/1/_history/2.
	URL string
	// Criteria is request.ifNoneExist of a conditional create, empty
	// otherwise.
	Criteria string
	// Resource is the entry's resource for POST and PUT, or the
	// Parameters of a FHIRPath Patch entry. It is the tree that will be
	// stored, so a hook must not change it.
	Resource map[string]any
	// JSONPatch contains the operations of a JSON Patch entry.
	JSONPatch []any
}

// BundleEntryAuthorizer checks one entry of a batch or transaction. An
// error fails that batch entry, or the whole transaction, with the error,
// before any entry of the bundle runs.
type BundleEntryAuthorizer func(ctx context.Context, e BundleEntryRequest) error

type bundleHookKey struct{}

// ContextWithBundleEntryAuthorizer returns a context in which
// ProcessBundle calls f for every entry it parsed.
func ContextWithBundleEntryAuthorizer(ctx context.Context, f BundleEntryAuthorizer) context.Context {
	return context.WithValue(ctx, bundleHookKey{}, f)
}

// authorizeBundleEntry calls the BundleEntryAuthorizer of ctx, if any,
// with the parsed entry e.
func authorizeBundleEntry(ctx context.Context, e *bundleEntry) error {
	f, _ := ctx.Value(bundleHookKey{}).(BundleEntryAuthorizer)
	if f == nil {
		return nil
	}
	req := BundleEntryRequest{Index: e.index, Method: e.method, Type: e.typ, ID: e.id, URL: e.url,
		Criteria: e.ifNoneEx, Resource: e.tree}
	if e.method == "POST" {
		// A POST entry gets its id later, when the transaction assigns
		// ids.
		req.ID = ""
	}
	if e.patch != nil {
		req.Resource, req.JSONPatch = e.patch.parameters, e.patch.jsonPatch
	}
	return f(ctx, req)
}

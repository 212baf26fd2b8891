package emr

import "context"

type actorKey struct{}

// ContextWithActor returns a context naming who makes the changes done
// with it, such as "user/alice" or "system/import". Each version stores it.
func ContextWithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFromContext returns the actor set by ContextWithActor, or
// "anonymous".
func ActorFromContext(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "anonymous"
}

package security

import "errors"

// Sentinel errors. Every error the package returns wraps one of them, so
// callers test the kind with errors.Is and never parse messages. Messages
// name user names, client ids and key ids, never a patient id.
var (
	// ErrNotFound: no user, client, signing key, authorization code or
	// grant with that id exists.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a user, client or key with that id already exists.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input breaks a rule of the operation. The message
	// names the field.
	ErrInvalid = errors.New("invalid")
	// ErrUnauthenticated: a credential (password, TOTP code, client
	// assertion, access token) is missing, malformed, expired or wrong.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the principal is authenticated but neither its scopes
	// nor its roles allow the interaction.
	ErrForbidden = errors.New("forbidden")
	// ErrReplay: a client assertion's jti, or a TOTP code's time step, was
	// already used. It wraps ErrUnauthenticated.
	ErrReplay = errors.Join(errors.New("already used"), ErrUnauthenticated)
)

// Package security authenticates the callers of Nexus and decides what
// they may do. It holds users (argon2id password hashes and optional
// TOTP), OAuth2 clients, token signing keys, SMART on FHIR scopes, a role
// to permission table, patient compartments by care relation and
// break-the-glass grants. It imports no domain: interop/fhir and
// cmd/nexusd enforce its decisions at every entry point.
//
// # Authentication
//
// Service issues short-lived ES256 JWT access tokens (TokenLifetime,
// 5 minutes by default, at most 15) through two OAuth2 grants:
//
//   - client_credentials with a private_key_jwt client assertion, as
//     SMART Backend Services defines it: iss = sub = client id, aud = the
//     token URL, exp at most 5 minutes ahead, no iat later than now plus
//     Leeway, and a jti that was never used. Used jti values are kept in
//     the Store, so a replay is caught across every nexusd process on one
//     database. Every failed client authentication gets the same
//     invalid_client description, so the endpoint does not tell which
//     clients or keys exist. The cause is logged at debug level.
//   - authorization_code with PKCE S256 for apps (SMART App Launch v2):
//     /auth/authorize serves a login and consent form, checks the password
//     and, when the user has one, the TOTP code, and redirects with a
//     one-time code.
//
// The login form carries a CSRF token: an HMAC, under a key derived from
// a signing key of the Store, over a random browser cookie, an expiry
// (FormLifetime) and the authorization request's parameters. A post
// without a matching cookie and token gets 403 and tries no sign-in. The
// form's pages are served with X-Frame-Options: DENY and
// Content-Security-Policy frame-ancestors 'none'. After
// Config.LoginFailureLimit failed sign-ins of one username, or
// LoginIPFailureLimit from one client address, within LoginLockout,
// sign-ins are locked for LoginLockout (429 with Retry-After). An unknown
// username is counted and locked like a known one, so both get the same
// responses.
//
// A TOTP code is accepted once. The Store keeps the last accepted time
// step of each user and raises it in one conditional UPDATE. A second
// sign-in with the code of that step or an earlier one fails, also when
// two sign-ins race on one code or run on two nexusd processes.
//
// Package security/sqlstore seals signing keys and TOTP secrets with the
// storage.Cipher of its DB when one is set (nexusd sets the key ring when
// it has a master key), bound to their row. Plaintext rows stay readable,
// and a sealed one read without the right key is an error.
//
// ValidateToken accepts only ES256 tokens signed by a key of the Store,
// and requires exp, iss and aud. The token's client, and the user of a
// user token, must exist and be enabled. ValidateToken reads them again
// when its cached result is PrincipalCheckTTL old, so disabling a client
// or user stops its tokens within that time. Signing keys rotate with
// RotateSigningKey. A retired key signs nothing but stays in the JWKS
// (/auth/jwks) until every token it signed has expired.
//
// # Authorization
//
// A Principal carries the subject, roles and granted scopes of a token.
// Decide allows an interaction when both a scope and a role allow it.
// A SMART v1 ".write" scope grants create, update and delete but no read,
// and a malformed scope is dropped when the token is issued, so it grants
// nothing. The Decision lists the patient compartments the caller may
// see and write (every patient, or a list) and the resource types it may
// read. Clinical roles reach the patients that CareRelations returns
// plus those of their active break-the-glass grants. The patients of a
// Decision apply to the whole query, _include, _revinclude and _has
// included, so Decision.ReachTypes lists the types whose read
// permissions reach all of them. A physician's search on Practitioner
// reaches every patient, but it shows no Encounter through _revinclude,
// because the physician reads Encounters only for patients in care.
//
// With launch/patient, the consent form accepts only a patient that the
// user's Patient read permission reaches (ErrLaunchPatient otherwise). A
// permission that reaches every patient accepts any patient known to
// Config.Patients, and one by care relation accepts the patients of
// CareRelations and of the user's break-the-glass grants.
//
// interop/fhir decides create as well as update when a write turns out to
// create its resource (a PUT to a new id, a conditional update or a
// bundle entry), and rejects a write whose result changes the stored
// meta.security labels. It decides each batch or transaction entry as
// the record parsed it, and a caller without read permission on a type
// gets no resource content back from its writes.
//
// # Break the glass
//
// An app breaks the glass with a POST to /auth/break-glass that carries
// an access token with the ScopeBreakGlass scope. The token endpoint
// grants that scope only to a client whose registration lists it, and
// the consent page describes it in plain words. The grant names the user
// and the client, and it applies only to the tokens that client gets for
// that user, so a narrow app cannot open a record for the user's other
// apps. The request states a reason with at least MinBreakGlassReason
// letters or digits and an optional lifetime of 1 to
// MaxBreakGlassLifetime minutes. Config.Patients, when set, must know
// the patient. The grant is recorded through the Recorder before it takes
// effect, and it is returned in each Decision that uses it, so that the
// caller audits every access made through it.
//
// # HTTP
//
// Handler serves /auth/token, /auth/authorize, /auth/jwks,
// /auth/break-glass and /.well-known/smart-configuration. Middleware
// authenticates "Authorization: Bearer" requests (401 with
// WWW-Authenticate: Bearer, and an OperationOutcome body on FHIR paths),
// limits request bodies (413) and applies token-bucket rate limits per
// client IP address and per principal (429 with Retry-After). The client
// IP address is the connection's remote address. When that address is in
// MiddlewareConfig.TrustedProxies, it is the right-most X-Forwarded-For
// address outside them, so entries a client wrote itself are ignored. By
// default no proxy is trusted. MiddlewareConfig.Exempt keeps requests
// such as health probes out of the per-IP limit. Each refused request
// gets one log line, at most 5 a second, that names no token, query or
// resource id. Every response gets Cache-Control: no-store unless its
// handler sets another policy. A body cut by the size limit while a
// handler of this package reads it also gets 413.
//
// # Concurrency
//
// A Service is safe for concurrent use. It caches signing keys for
// KeyCacheTTL and reads them again early when a token names an unknown
// key id, so a rotation made by another process takes effect at once.
//
// # Limits
//
//   - A single access token cannot be revoked before it expires. Only
//     disabling its client or user stops it, within PrincipalCheckTTL. No
//     refresh tokens or OpenID Connect id_tokens are issued.
//   - Without Config.Patients, a launch patient of a user who reaches
//     every patient is not checked for existence.
//   - SMART v2 scope queries ("?category=laboratory") are parsed, but a
//     scope with a query grants nothing, because the restriction is not
//     enforced.
//   - Breaking the glass needs an app registered for ScopeBreakGlass.
//     There is no first-party form for it, so a user of other apps
//     cannot break the glass from them.
//   - No CORS headers are served, so browser apps on another origin
//     cannot use the endpoints, and the SMART configuration does not
//     claim client-public.
//   - The login throttle counts failures in the memory of each process,
//     so behind a load balancer each nexusd process allows its own
//     LoginFailureLimit, and a restart forgets the counts.
//   - A per-username lock also locks the real user out while someone
//     guesses their password, until LoginLockout has passed.
package security

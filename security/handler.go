package security

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

// Paths the Handler serves.
const (
	PathToken       = "/auth/token"
	PathAuthorize   = "/auth/authorize"
	PathJWKS        = "/auth/jwks"
	PathBreakGlass  = "/auth/break-glass"
	PathSMARTConfig = "/.well-known/smart-configuration"
)

// Handler returns the authorization server: the token endpoint, the
// authorization endpoint with its login and consent form, the JWKS, the
// SMART configuration and the break-the-glass endpoint. Mount it at the
// root of the server whose URL is Config.Issuer, behind Middleware, which
// authenticates the break-the-glass endpoint and leaves the others
// public.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathToken, s.serveToken)
	mux.HandleFunc("GET "+PathAuthorize, s.serveAuthorizeForm)
	mux.HandleFunc("POST "+PathAuthorize, s.serveAuthorizeSubmit)
	mux.HandleFunc("GET "+PathJWKS, s.serveJWKS)
	mux.HandleFunc("GET "+PathSMARTConfig, s.ServeSMARTConfiguration)
	mux.HandleFunc("POST "+PathBreakGlass, s.serveBreakGlass)
	return mux
}

// IsPublicPath reports whether path is an endpoint of Handler that needs
// no access token.
func IsPublicPath(path string) bool {
	switch path {
	case PathToken, PathAuthorize, PathJWKS, PathSMARTConfig:
		return true
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeTokenError(w http.ResponseWriter, err error) {
	var te *TokenError
	if !errors.As(err, &te) {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	status := http.StatusBadRequest
	if te.Code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	writeJSON(w, status, map[string]string{"error": te.Code, "error_description": te.Description})
}

func (s *Service) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeBodyError(w, r, err, "body must be application/x-www-form-urlencoded")
		return
	}

	f := r.PostForm
	var tok Token
	var err error
	switch f.Get("grant_type") {
	case "client_credentials":
		tok, err = s.ClientCredentials(r.Context(), f.Get("client_assertion_type"), f.Get("client_assertion"), f.Get("scope"))
	case "authorization_code":
		tok, err = s.ExchangeCode(r.Context(), f.Get("code"), f.Get("client_id"), f.Get("redirect_uri"), f.Get("code_verifier"))
	default:
		err = tokenError("unsupported_grant_type", "grant_type must be client_credentials or authorization_code", ErrInvalid)
	}

	if err != nil {
		var te *TokenError
		if errors.As(err, &te) {
			s.cfg.Logger.InfoContext(r.Context(), "token request rejected", "error", te.Code,
				"grant_type", f.Get("grant_type"), "client_id", f.Get("client_id"), "client_ip", requestClientIP(r))
		} else {
			s.cfg.Logger.ErrorContext(r.Context(), "token request failed", "err", err)
		}
		writeTokenError(w, err)
		return
	}

	body := map[string]any{"access_token": tok.AccessToken, "token_type": "Bearer",
		"expires_in": tok.ExpiresIn, "scope": tok.Scope}
	if tok.Patient != "" {
		body["patient"] = tok.Patient
	}
	if tok.FHIRUser != "" {
		body["fhirUser"] = tok.FHIRUser
	}
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, body)
}

func (s *Service) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.JWKS(r.Context())
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "reading signing keys failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "max-age=60")
	_ = json.NewEncoder(w).Encode(set)
}

// ServeSMARTConfiguration serves the SMART App Launch v2 discovery
// document. nexusd serves it at the root and under the FHIR base.
func (s *Service) ServeSMARTConfiguration(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                s.cfg.Issuer,
		"jwks_uri":                              s.cfg.Issuer + PathJWKS,
		"authorization_endpoint":                s.cfg.Issuer + PathAuthorize,
		"token_endpoint":                        s.TokenURL(),
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": assertionAlgorithms,
		// Only what works is listed: no id_token is issued, so neither
		// openid nor fhirUser, and apps do not authenticate at the token
		// endpoint. NOTE: public browser apps need CORS, which is not
		// served, so client-public is not claimed either.
		"scopes_supported": []string{"patient/*.rs", "user/*.cruds", "system/*.rs",
			"launch/patient", ScopeBreakGlass},
		"response_types_supported":         []string{"code"},
		"code_challenge_methods_supported": []string{"S256"},
		"capabilities": []string{"launch-standalone", "permission-v1", "permission-v2", "permission-patient",
			"permission-user", "context-standalone-patient"},
	})
}

func authorizeParams(v url.Values) AuthorizeParams {
	return AuthorizeParams{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), Scope: v.Get("scope"),
		State: v.Get("state"), Audience: v.Get("aud"), CodeChallenge: v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"),
	}
}

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in to {{.Issuer}}</h1>
<p>The app <strong>{{.ClientName}}</strong> will get these permissions:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<input type="hidden" name="csrf_token" value="{{.FormToken}}">
<label>Username <input name="username" autocomplete="username" required></label><br>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label><br>
<label>One-time code (when enabled) <input name="totp" inputmode="numeric" autocomplete="one-time-code"></label><br>
{{if .AskPatient}}<label>Patient id <input name="patient"></label><br>{{end}}
<button name="consent" value="allow">Allow</button>
<button name="consent" value="deny">Deny</button>
</form>
</body></html>
`))

type loginPage struct {
	Issuer, ClientName, Error, Action string
	Scopes                            []string
	Hidden                            map[string]string
	FormToken                         string
	AskPatient                        bool
}

// renderLogin serves the login and consent form for request v, with a
// new CSRF token bound to v and the browser's form cookie.
func (s *Service) renderLogin(w http.ResponseWriter, r *http.Request, status int, c Client, v url.Values, message string) {
	setFormHeaders(w, v.Get("redirect_uri"))
	token, err := s.issueFormToken(r.Context(), s.formCookieValue(w, r), v)
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "issuing a login form token failed", "client_id", c.ID, "err", err)
		http.Error(w, "the sign-in form is unavailable; try again later", http.StatusInternalServerError)
		return
	}
	hidden := map[string]string{}
	for _, k := range formParams {
		hidden[k] = v.Get(k)
	}
	name := c.Name
	if name == "" {
		name = c.ID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginForm.Execute(w, loginPage{Issuer: s.cfg.Issuer, ClientName: name, Error: message,
		Action: PathAuthorize, Scopes: s.consentScopes(c, v.Get("scope")), Hidden: hidden, FormToken: token,
		AskPatient: ParseScopes(v.Get("scope")).HasLaunch("launch/patient")})
}

func redirectWith(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	u, _ := url.Parse(redirectURI) // checked against the registration
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Service) serveAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	p := authorizeParams(v)
	c, err := s.CheckAuthorizeRequest(r.Context(), p)
	if err != nil {
		s.cfg.Logger.InfoContext(r.Context(), "authorization request for an unregistered client or redirect URI",
			"client_id", p.ClientID)
		setFormHeaders(w, "")
		// Without a trusted redirect URI the error is shown, not sent.
		http.Error(w, "invalid authorization request: client_id or redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	if v.Get("response_type") != "code" {
		redirectWith(w, r, p.RedirectURI, url.Values{"error": {"unsupported_response_type"}, "state": {p.State}})
		return
	}
	if err := s.checkAuthorizeParameters(p); err != nil {
		var te *TokenError
		errors.As(err, &te)
		redirectWith(w, r, p.RedirectURI, url.Values{"error": {te.Code}, "error_description": {te.Description}, "state": {p.State}})
		return
	}
	s.renderLogin(w, r, http.StatusOK, c, v, "")
}

func (s *Service) serveAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.cfg.Logger.WarnContext(r.Context(), "request body too large", "path", r.URL.Path, "limit_bytes", tooLarge.Limit)
			http.Error(w, "the form is larger than "+strconv.FormatInt(tooLarge.Limit, 10)+" bytes", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "invalid form", http.StatusBadRequest)
		return
	}
	v := r.PostForm
	p := authorizeParams(v)
	c, err := s.CheckAuthorizeRequest(r.Context(), p)
	if err != nil {
		s.cfg.Logger.InfoContext(r.Context(), "authorization request for an unregistered client or redirect URI",
			"client_id", p.ClientID)
		setFormHeaders(w, "")
		http.Error(w, "invalid authorization request: client_id or redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	if err := s.checkFormToken(r.Context(), r, v); err != nil {
		// A forged or stale post gets no redirect and no sign-in attempt.
		if errors.Is(err, errFormToken) {
			s.cfg.Logger.InfoContext(r.Context(), "login form post without a valid CSRF token", "client_id", c.ID)
		} else {
			s.cfg.Logger.ErrorContext(r.Context(), "checking a login form token failed", "client_id", c.ID, "err", err)
		}
		setFormHeaders(w, "")
		http.Error(w, "invalid sign-in form: "+errFormToken.Error()+"; start the sign-in again from the app",
			http.StatusForbidden)
		return
	}

	if v.Get("consent") != "allow" {
		redirectWith(w, r, p.RedirectURI, url.Values{"error": {"access_denied"}, "state": {p.State}})
		return
	}
	p.Username, p.Password, p.TOTPCode, p.Patient = v.Get("username"), v.Get("password"), v.Get("totp"), v.Get("patient")
	p.ClientIP = requestClientIP(r)

	code, err := s.Authorize(r.Context(), p)
	var throttled *ThrottledError
	if errors.As(err, &throttled) {
		s.cfg.Logger.WarnContext(r.Context(), "sign-in throttled", "client_id", c.ID, "client_ip", p.ClientIP)
		w.Header().Set("Retry-After", strconv.Itoa(throttled.RetryAfterSeconds()))
		s.renderLogin(w, r, http.StatusTooManyRequests, c, v, "Too many failed sign-in attempts. Try again later.")
		return
	}
	if errors.Is(err, ErrUnauthenticated) {
		s.cfg.Logger.InfoContext(r.Context(), "sign-in failed", "client_id", c.ID, "client_ip", p.ClientIP)
		s.renderLogin(w, r, http.StatusUnauthorized, c, v, "Invalid username, password or one-time code.")
		return
	}
	if errors.Is(err, ErrLaunchPatient) {
		s.renderLogin(w, r, http.StatusForbidden, c, v,
			"The patient id is unknown or not one of your patients. Enter the id of a patient in your care.")
		return
	}
	var te *TokenError
	if errors.As(err, &te) {
		s.cfg.Logger.InfoContext(r.Context(), "authorization request rejected", "client_id", c.ID, "error", te.Code)
		redirectWith(w, r, p.RedirectURI, url.Values{"error": {te.Code}, "error_description": {te.Description}, "state": {p.State}})
		return
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "authorization failed", "client_id", c.ID, "err", err)
		redirectWith(w, r, p.RedirectURI, url.Values{"error": {"server_error"}, "state": {p.State}})
		return
	}
	redirectWith(w, r, p.RedirectURI, url.Values{"code": {code}, "state": {p.State}})
}

package security

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The login form's CSRF protection. The GET of /auth/authorize sets a
// random browser cookie and puts a token in the form. The token is an
// HMAC over the cookie value, an expiry and the authorization request's
// parameters, keyed by a key derived from a signing key of the Store.
// The POST must bring
// back the cookie and a token that matches both it and the request's
// parameters. A page of another site can neither read the token nor set
// the cookie, so it cannot post the form in the user's browser. Because
// the key comes from the Store, a form served by one nexusd process can
// be posted to another.
const (
	// FormLifetime is how long a login form can be posted after it was
	// served.
	FormLifetime = 10 * time.Minute
	// formCookie is the name of the browser cookie the token is bound to.
	formCookie = "nexus_authorize"
	// formTokenField is the hidden form field carrying the token.
	formTokenField = "csrf_token"
)

// formParams are the authorization request parameters a form token binds.
var formParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "aud",
	"code_challenge", "code_challenge_method"}

// errFormToken reports a login form post without a valid CSRF token.
var errFormToken = errors.New("the sign-in form is expired or was not served by this server")

// formKey derives the HMAC key of form tokens from signing key k, so
// that every process on one Store derives the same key.
func formKey(k loadedKey) ([]byte, error) {
	raw, err := k.private.Bytes()
	if err != nil {
		return nil, fmt.Errorf("derive form key from %s: %w", k.id, err)
	}
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte("nexus authorize form v1"))
	return mac.Sum(nil), nil
}

// formMAC returns the HMAC of one form token.
func formMAC(key []byte, cookie string, expires int64, v url.Values) []byte {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s\x00%d", cookie, expires)
	for _, name := range formParams {
		fmt.Fprintf(mac, "\x00%s=%s", name, v.Get(name))
	}
	return mac.Sum(nil)
}

// formCookieValue returns the browser's form cookie, setting a new one
// when the request has none.
func (s *Service) formCookieValue(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	value := randomToken(32)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: value, Path: PathAuthorize, HttpOnly: true,
		Secure: strings.HasPrefix(s.cfg.Issuer, "https://"), SameSite: http.SameSiteStrictMode,
		MaxAge: int(FormLifetime / time.Second)})
	return value
}

// issueFormToken returns the CSRF token of a form for the request v in
// the browser with the given cookie: "kid.expiry.mac".
func (s *Service) issueFormToken(ctx context.Context, cookie string, v url.Values) (string, error) {
	k, err := s.activeKey(ctx)
	if err != nil {
		return "", err
	}
	key, err := formKey(k)
	if err != nil {
		return "", err
	}
	expires := s.cfg.Clock().Add(FormLifetime).Unix()
	return k.id + "." + strconv.FormatInt(expires, 10) + "." +
		base64.RawURLEncoding.EncodeToString(formMAC(key, cookie, expires, v)), nil
}

// checkFormToken verifies the CSRF token of a form post. It returns
// errFormToken for a missing cookie or a token that is malformed,
// expired, made for another request or browser, or signed with an
// unknown key.
func (s *Service) checkFormToken(ctx context.Context, r *http.Request, v url.Values) error {
	c, err := r.Cookie(formCookie)
	if err != nil || c.Value == "" {
		return errFormToken
	}
	parts := strings.Split(v.Get(formTokenField), ".")
	if len(parts) != 3 {
		return errFormToken
	}
	expires, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || s.cfg.Clock().Unix() > expires {
		return errFormToken
	}
	got, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errFormToken
	}
	for attempt := 0; attempt < 2; attempt++ {
		// As for access tokens, an unknown key id reads the keys again
		// once, in case another process rotated them.
		keys, err := s.loadKeys(ctx, attempt > 0)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.id != parts[0] {
				continue
			}
			key, err := formKey(k)
			if err != nil {
				return err
			}
			if !hmac.Equal(got, formMAC(key, c.Value, expires, v)) {
				return errFormToken
			}
			return nil
		}
	}
	return errFormToken
}

// setFormHeaders forbids caching and framing of an authorization page,
// so another site cannot overlay the login form (clickjacking). The form
// may post only to this server and be redirected only to the origin of
// redirectURI, because browsers apply form-action to the redirect that
// follows a form post too.
func setFormHeaders(w http.ResponseWriter, redirectURI string) {
	formAction := "'self'"
	if u, err := url.Parse(redirectURI); err == nil && u.Scheme != "" && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action "+formAction+"; frame-ancestors 'none'")
}

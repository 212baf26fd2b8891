package security

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// breakGlassRequest is the body of a POST to PathBreakGlass.
type breakGlassRequest struct {
	Patient string
	Reason  string
	// Minutes is the lifetime as sent, empty when absent.
	Minutes string
}

// serveBreakGlass takes a form or JSON body with patient, reason and an
// optional lifetime in minutes, and returns the grant.
func (s *Service) serveBreakGlass(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	if p == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	body, err := readBreakGlassRequest(r)
	if err != nil {
		description := "invalid form body"
		if errors.Is(err, errBodyNotJSON) {
			description = err.Error()
		}
		s.writeBodyError(w, r, err, description)
		return
	}
	lifetime, err := s.parseBreakGlassMinutes(body.Minutes)
	if err != nil {
		s.cfg.Logger.InfoContext(r.Context(), "break-the-glass request rejected", "subject", p.Subject,
			"client_id", p.ClientID, "err", err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	g, err := s.BreakGlass(r.Context(), p, BreakGlassParams{Patient: body.Patient, Reason: body.Reason, Lifetime: lifetime})
	switch {
	case errors.Is(err, ErrInvalid):
		// The message names the user, never the patient or the reason.
		s.cfg.Logger.InfoContext(r.Context(), "break-the-glass request rejected", "subject", p.Subject,
			"client_id", p.ClientID, "err", err)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	case errors.Is(err, ErrForbidden):
		s.cfg.Logger.WarnContext(r.Context(), "break-the-glass request forbidden", "subject", p.Subject,
			"client_id", p.ClientID, "err", err)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "insufficient_scope", "error_description": err.Error()})
		return
	case err != nil:
		s.cfg.Logger.ErrorContext(r.Context(), "break-the-glass failed", "subject", p.Subject, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": g.ID, "patient": g.Patient, "client_id": g.ClientID,
		"expires_at": g.ExpiresAt.Format(time.RFC3339)})
}

// errBodyNotJSON reports a break-the-glass body that does not decode.
var errBodyNotJSON = errors.New("body is not a JSON object with string patient and reason and an integer minutes")

// readBreakGlassRequest reads a JSON or form body. A body cut by
// http.MaxBytesReader returns its *http.MaxBytesError.
func readBreakGlassRequest(r *http.Request) (breakGlassRequest, error) {
	var out breakGlassRequest
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := r.ParseForm(); err != nil {
			return out, err
		}
		out.Patient, out.Reason, out.Minutes = r.PostForm.Get("patient"), r.PostForm.Get("reason"), r.PostForm.Get("minutes")
		return out, nil
	}
	var body struct {
		Patient string          `json:"patient"`
		Reason  string          `json:"reason"`
		Minutes json.RawMessage `json:"minutes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return out, err
		}
		return out, errBodyNotJSON
	}
	out.Patient, out.Reason = body.Patient, body.Reason
	if raw := bytes.TrimSpace(body.Minutes); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		out.Minutes = string(raw)
	}
	return out, nil
}

// parseBreakGlassMinutes returns the lifetime of a minutes value: zero
// (the default lifetime) when empty, otherwise a whole number of minutes
// from 1 to MaxBreakGlassLifetime. Anything else is an error, so a typo
// never becomes the default.
func (s *Service) parseBreakGlassMinutes(raw string) (time.Duration, error) {
	if raw == "" {
		return 0, nil
	}
	maxMinutes := int64(s.cfg.MaxBreakGlassLifetime / time.Minute)
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 || n > maxMinutes {
		return 0, errors.New("minutes must be a whole number from 1 to " + strconv.FormatInt(maxMinutes, 10))
	}
	return time.Duration(n) * time.Minute, nil
}

// writeBodyError writes the error response for a request whose body
// could not be read: 413 when it was larger than the Middleware's limit,
// else 400 with description.
func (s *Service) writeBodyError(w http.ResponseWriter, r *http.Request, err error, description string) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		s.cfg.Logger.WarnContext(r.Context(), "request body too large", "path", r.URL.Path, "limit_bytes", tooLarge.Limit)
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "invalid_request",
			"error_description": "request body is larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes"})
		return
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": description})
}

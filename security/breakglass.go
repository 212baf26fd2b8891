package security

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ScopeBreakGlass is the scope an app needs before its access token may
// break the glass at PathBreakGlass. A client gets it only when its
// registration lists it, and the consent page names it in plain words.
const ScopeBreakGlass = "break-the-glass"

// maxBreakGlassReasonBytes bounds the stored reason.
const maxBreakGlassReasonBytes = 1000

// PatientDirectory reports whether a patient exists, so that no grant is
// made for a mistyped id. cmd/nexusd implements it on the clinical record.
type PatientDirectory interface {
	PatientExists(ctx context.Context, id string) (bool, error)
}

// PatientDirectoryFunc adapts a function to PatientDirectory.
type PatientDirectoryFunc func(ctx context.Context, id string) (bool, error)

// PatientExists calls f.
func (f PatientDirectoryFunc) PatientExists(ctx context.Context, id string) (bool, error) {
	return f(ctx, id)
}

// BreakGlassParams is a break-the-glass request.
type BreakGlassParams struct {
	Patient string
	// Reason is required and must contain at least MinBreakGlassReason
	// letters or digits. Spaces, punctuation and invisible format
	// characters such as U+200B do not count.
	Reason string
	// Lifetime is how long the grant lasts. Zero means
	// Config.BreakGlassLifetime.
	Lifetime time.Duration
}

// BreakGlass gives user p access to one patient outside their care
// relations for a limited time, and records the grant. The grant applies
// only to the tokens that p's client (p.ClientID) gets for p's user, not
// to the user's other apps. p's token must hold ScopeBreakGlass, and
// only users whose roles reach patients by care relation may break the
// glass. A missing or short reason, a lifetime outside (0,
// MaxBreakGlassLifetime] and a patient that Config.Patients does not know
// are rejected with ErrInvalid. Every refusal is recorded too.
func (s *Service) BreakGlass(ctx context.Context, p *Principal, bg BreakGlassParams) (Grant, error) {
	if p == nil || p.Kind != KindUser {
		return Grant{}, fmt.Errorf("break the glass: only a signed-in user may: %w", ErrForbidden)
	}
	now := s.cfg.Clock().UTC()
	reason := strings.TrimSpace(bg.Reason)
	deny := func(err error) (Grant, error) {
		if rerr := s.record(ctx, Event{Type: EventBreakGlassNo, Time: now, Subject: p.Subject,
			ClientID: p.ClientID, Patient: bg.Patient, Reason: reason}); rerr != nil {
			return Grant{}, rerr
		}
		return Grant{}, err
	}

	if !p.HasScope(ScopeBreakGlass) {
		return deny(fmt.Errorf("break the glass for %s: the access token lacks scope %s: %w",
			p.Subject, ScopeBreakGlass, ErrForbidden))
	}
	if !s.mayBreakGlass(p) {
		return deny(fmt.Errorf("break the glass for %s: no role reaches patients by care relation: %w", p.Subject, ErrForbidden))
	}
	if err := s.checkBreakGlass(ctx, p.Subject, bg.Patient, reason, bg.Lifetime); err != nil {
		return deny(err)
	}

	lifetime := bg.Lifetime
	if lifetime == 0 {
		lifetime = s.cfg.BreakGlassLifetime
	}
	g := Grant{ID: "bg" + randomToken(12), Subject: p.Subject, ClientID: p.ClientID, Patient: bg.Patient,
		Reason: reason, CreatedAt: now, ExpiresAt: now.Add(lifetime)}
	// The event is recorded before the grant is stored, so no grant exists
	// without its audit record.
	if err := s.record(ctx, Event{Type: EventBreakGlass, Time: now, Subject: p.Subject, ClientID: p.ClientID,
		Patient: g.Patient, Reason: reason, GrantID: g.ID}); err != nil {
		return Grant{}, err
	}
	if err := s.store.SaveGrant(ctx, g); err != nil {
		return Grant{}, err
	}
	return g, nil
}

// checkBreakGlass validates the patient, reason and lifetime of a
// request by subject. The error wraps ErrInvalid unless the patient
// lookup failed.
func (s *Service) checkBreakGlass(ctx context.Context, subject, patient, reason string, lifetime time.Duration) error {
	if !idPattern.MatchString(patient) {
		return fmt.Errorf("break the glass for %s: patient must be a Patient id: %w", subject, ErrInvalid)
	}
	if countLettersDigits(reason) < MinBreakGlassReason {
		return fmt.Errorf("break the glass for %s: the reason must contain at least %d letters or digits: %w",
			subject, MinBreakGlassReason, ErrInvalid)
	}
	if len(reason) > maxBreakGlassReasonBytes {
		return fmt.Errorf("break the glass for %s: reason is longer than %d bytes: %w",
			subject, maxBreakGlassReasonBytes, ErrInvalid)
	}
	if lifetime < 0 || lifetime > s.cfg.MaxBreakGlassLifetime {
		return fmt.Errorf("break the glass for %s: lifetime must be positive and at most %s: %w",
			subject, s.cfg.MaxBreakGlassLifetime, ErrInvalid)
	}
	if s.cfg.Patients == nil {
		return nil
	}
	exists, err := s.cfg.Patients.PatientExists(ctx, patient)
	if err != nil {
		return fmt.Errorf("break the glass for %s: look up the patient: %w", subject, err)
	}
	if !exists {
		return fmt.Errorf("break the glass for %s: no such patient: %w", subject, ErrInvalid)
	}
	return nil
}

// countLettersDigits counts the letters and digits of s, the characters
// that can carry a reason. Format characters (Unicode category Cf), such
// as zero-width spaces, are neither.
func countLettersDigits(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func (s *Service) mayBreakGlass(p *Principal) bool {
	for _, role := range p.Roles {
		for _, perm := range s.cfg.Permissions[role] {
			if perm.Reach == ReachCare {
				return true
			}
		}
	}
	return false
}

// activeGrantsOf returns the unexpired grants that apply to p: those of
// p's user made through p's client. A grant stored without a client id,
// as before grants named one, applies to no token.
func (s *Service) activeGrantsOf(ctx context.Context, p *Principal) ([]Grant, error) {
	grants, err := s.store.ActiveGrants(ctx, p.Subject, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(grants, func(g Grant) bool {
		return g.ClientID == "" || g.ClientID != p.ClientID
	}), nil
}

package security

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// PrincipalCheckTTL is how long ValidateToken reuses the result of
// reading a token's client and user from the Store. A client or user that
// is disabled or removed loses its tokens within this time.
const PrincipalCheckTTL = 5 * time.Second

// principalChecks caches, per client and user, whether both exist and are
// enabled. The zero value is ready to use.
type principalChecks struct {
	mu      sync.Mutex
	results map[string]principalCheck
}

type principalCheck struct {
	active    bool
	checkedAt time.Time
}

// checkActive returns an error wrapping ErrUnauthenticated unless the
// client of a token, and its user for a user token, exist in the Store
// and are enabled. Store failures are returned as they are.
func (s *Service) checkActive(ctx context.Context, kind Kind, subject, clientID string) error {
	key := string(kind) + "\x00" + clientID + "\x00" + subject
	now := s.cfg.Clock()
	c := &s.active
	c.mu.Lock()
	cached, ok := c.results[key]
	c.mu.Unlock()
	if !ok || now.Sub(cached.checkedAt) >= PrincipalCheckTTL || now.Before(cached.checkedAt) {
		active, err := s.readActive(ctx, kind, subject, clientID)
		if err != nil {
			return err
		}
		cached = principalCheck{active: active, checkedAt: now}
		c.mu.Lock()
		if c.results == nil || len(c.results) >= maxPrincipalChecks {
			// Dropping every entry bounds memory; each costs one read
			// again.
			c.results = map[string]principalCheck{}
		}
		c.results[key] = cached
		c.mu.Unlock()
	}
	if !cached.active {
		return fmt.Errorf("validate access token: client %s or its user is unknown or disabled: %w", clientID, ErrUnauthenticated)
	}
	return nil
}

// maxPrincipalChecks bounds the cache of principalChecks.
const maxPrincipalChecks = 10000

// readActive reads whether the client, and for a user token the user,
// exist and are enabled.
func (s *Service) readActive(ctx context.Context, kind Kind, subject, clientID string) (bool, error) {
	client, err := s.store.Client(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("validate access token: read client %s: %w", clientID, err)
	}
	if client.Disabled {
		return false, nil
	}
	switch kind {
	case KindSystem:
		return client.Kind == ClientSystem && subject == clientID, nil
	case KindUser:
		if client.Kind != ClientApp {
			return false, nil
		}
		user, err := s.store.User(ctx, subject)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("validate access token: read user: %w", err)
		}
		return !user.Disabled, nil
	}
	return false, nil
}

// clientAuthDescription is the error_description of every failed client
// authentication. One text for every cause keeps the token endpoint from
// telling which client ids exist, which kind they are or which keys they
// have.
const clientAuthDescription = "client authentication failed"

// clientAuthFailed logs why a client authentication failed, at debug
// level, and returns the invalid_client error. clientID is the unverified
// iss of the assertion, cut to 64 bytes.
func (s *Service) clientAuthFailed(ctx context.Context, clientID, reason string) error {
	if len(clientID) > 64 {
		clientID = clientID[:64]
	}
	s.cfg.Logger.DebugContext(ctx, "client authentication failed", "client_id", clientID, "reason", reason)
	return tokenError("invalid_client", clientAuthDescription, ErrUnauthenticated)
}

package security

import "context"

// SetUserDisabled disables or, with disabled false, enables the user
// named username, and records the change with actor as its Subject. The
// event is recorded first, so no change goes unrecorded. An unknown user
// is ErrNotFound.
func (s *Service) SetUserDisabled(ctx context.Context, username string, disabled bool, actor string) error {
	if _, err := s.store.User(ctx, username); err != nil {
		return err
	}
	event := EventUserEnabled
	if disabled {
		event = EventUserDisabled
	}
	if err := s.record(ctx, Event{Type: event, Time: s.cfg.Clock(), Subject: actor, Target: username}); err != nil {
		return err
	}
	return s.store.SetUserDisabled(ctx, username, disabled)
}

// SetClientDisabled disables or enables the client with that id, and
// records the change as SetUserDisabled does.
func (s *Service) SetClientDisabled(ctx context.Context, id string, disabled bool, actor string) error {
	if _, err := s.store.Client(ctx, id); err != nil {
		return err
	}
	event := EventClientEnabled
	if disabled {
		event = EventClientDisabled
	}
	if err := s.record(ctx, Event{Type: event, Time: s.cfg.Clock(), Subject: actor, Target: id}); err != nil {
		return err
	}
	return s.store.SetClientDisabled(ctx, id, disabled)
}

// Users returns every user without credentials, ordered by username.
func (s *Service) Users(ctx context.Context) ([]UserInfo, error) { return s.store.Users(ctx) }

// Clients returns every client, ordered by id.
func (s *Service) Clients(ctx context.Context) ([]Client, error) { return s.store.Clients(ctx) }

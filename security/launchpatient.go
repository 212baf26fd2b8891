package security

import (
	"context"
	"fmt"
	"slices"
)

// ErrLaunchPatient marks a launch patient, typed on the consent form,
// that the signing-in user may not pick: a patient that does not exist or
// that the user's roles do not reach. It wraps ErrForbidden.
var ErrLaunchPatient = fmt.Errorf("the patient is unknown or not reachable by the user: %w", ErrForbidden)

// checkLaunchPatient returns an error wrapping ErrLaunchPatient unless
// user, signing in through clientID, reaches patient for Patient read.
// With a permission that reaches every patient, the patient must exist in
// Config.Patients. With one that reaches patients by care relation, it
// must be one of CareRelations or of the user's active break-the-glass
// grants through that client.
func (s *Service) checkLaunchPatient(ctx context.Context, user User, clientID, patient string) error {
	p := &Principal{Subject: user.Username, ClientID: clientID, Kind: KindUser, Roles: user.Roles,
		FHIRUser: user.FHIRUser, Location: user.Location}
	var reach Reach
	for _, role := range p.Roles {
		for _, perm := range s.cfg.Permissions[role] {
			if perm.allows("Patient", Read) {
				reach = max(reach, perm.Reach)
			}
		}
	}
	denied := fmt.Errorf("authorize %s: launch patient: %w", p.Subject, ErrLaunchPatient)
	switch reach {
	case ReachAll:
		if s.cfg.Patients == nil {
			// NOTE: without a PatientDirectory, an id that does not
			// exist is accepted. The token then reaches no resources
			// under it.
			return nil
		}
		ok, err := s.cfg.Patients.PatientExists(ctx, patient)
		if err != nil {
			return fmt.Errorf("authorize %s: check the launch patient: %w", p.Subject, err)
		}
		if !ok {
			return denied
		}
		return nil
	case ReachCare:
		reachable, err := s.carePatients(ctx, p)
		if err != nil {
			return err
		}
		if !slices.Contains(reachable, patient) {
			return denied
		}
		return nil
	}
	return denied
}

// carePatients returns the patients p reaches by care relation and by
// active break-the-glass grants.
func (s *Service) carePatients(ctx context.Context, p *Principal) ([]string, error) {
	out, err := s.careRelationsOf(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("authorize %s: read care relations: %w", p.Subject, err)
	}
	grants, err := s.activeGrantsOf(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		out = append(out, g.Patient)
	}
	return out, nil
}

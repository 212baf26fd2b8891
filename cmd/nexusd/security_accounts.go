package main

import (
	"errors"
	"fmt"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/security"
)

// operatorName names the person running an admin command in the audit
// log: the operating system account, prefixed so that it cannot be taken
// for a user of nexusd.
func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "os:" + u.Username
	}
	return "os:unknown"
}

// accountSwitchCommand is `nexusd user|client disable|enable NAME`. The
// change is recorded in the audit log before it is stored.
func accountSwitchCommand(kind, verb, arg string) *cli.Command {
	disabled := verb == "disable"
	usage := "enable a disabled " + kind + " again"
	if disabled {
		usage = "disable a " + kind + " so that it gets no new tokens; the change is recorded in the audit log"
	}
	return &cli.Command{
		Name:      verb,
		Usage:     usage,
		ArgsUsage: arg,
		Flags:     []cli.Flag{dbFlag(), masterKeyFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return fmt.Errorf("nexusd %s %s takes one %s argument", kind, verb, arg)
			}
			name := c.Args().First()
			db, svc, log, err := openSecurityAdminWith(c, true)
			if err != nil {
				return err
			}
			defer db.Close()
			defer log.Close()
			if kind == "user" {
				err = svc.SetUserDisabled(c.Context, name, disabled, operatorName())
			} else {
				err = svc.SetClientDisabled(c.Context, name, disabled, operatorName())
			}
			if errors.Is(err, security.ErrNotFound) {
				return fmt.Errorf("no %s %s; see nexusd %s list: %w", kind, name, kind, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "%s %s %sd\n", kind, name, verb)
			return nil
		},
	}
}

func statusText(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

func rolesText(roles []security.Role) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = string(r)
	}
	return dashIfEmpty(strings.Join(parts, ","))
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func userListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the users with their roles and status; passwords and TOTP secrets are never printed",
		Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
		Action: func(c *cli.Context) error {
			db, svc, err := openSecurityAdmin(c)
			if err != nil {
				return err
			}
			defer db.Close()
			users, err := svc.Users(c.Context)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "USERNAME\tROLES\tFHIR USER\tLOCATION\tTOTP\tSTATUS\tCREATED")
			for _, u := range users {
				totp := "off"
				if u.TOTP {
					totp = "on"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, rolesText(u.Roles), dashIfEmpty(u.FHIRUser),
					dashIfEmpty(u.Location), totp, statusText(u.Disabled), u.CreatedAt.Format(time.RFC3339))
			}
			return w.Flush()
		},
	}
}

func clientListCommand() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the OAuth2 clients with their kind, scopes and status",
		Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
		Action: func(c *cli.Context) error {
			db, svc, err := openSecurityAdmin(c)
			if err != nil {
				return err
			}
			defer db.Close()
			clients, err := svc.Clients(c.Context)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tNAME\tROLES\tSCOPES\tREDIRECT URIS\tSTATUS")
			for _, cl := range clients {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cl.ID, cl.Kind, dashIfEmpty(cl.Name), rolesText(cl.Roles),
					cl.Scopes, dashIfEmpty(strings.Join(cl.RedirectURIs, " ")), statusText(cl.Disabled))
			}
			return w.Flush()
		},
	}
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/security"
	"github.com/nexus-health-360/nexus/security/audit"
	secsql "github.com/nexus-health-360/nexus/security/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
)

// envUserPassword names the variable `nexusd user add` reads the password
// from when set; otherwise the first line of standard input is used.
const envUserPassword = "NEXUS_USER_PASSWORD"

func init() {
	registerCommand(userCommand)
	registerCommand(clientCommand)
}

// openSecurityAdmin opens the database for a user, client or key command
// and returns a security service on it. With a master key, TOTP secrets
// and signing keys are sealed as serve seals them. The issuer only
// matters for tokens, which these commands do not issue.
func openSecurityAdmin(c *cli.Context) (*storage.DB, *security.Service, error) {
	db, svc, _, err := openSecurityAdminWith(c, false)
	return db, svc, err
}

// openSecurityAdminWith is openSecurityAdmin that, with audited, also
// opens the audit log and records the service's security events in it.
// The caller closes the log, when there is one, before the database.
func openSecurityAdminWith(c *cli.Context, audited bool) (*storage.DB, *security.Service, *audit.Log, error) {
	db, err := openProtected(c)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg := security.Config{Store: secsql.New(db), Issuer: "http://127.0.0.1"}
	var auditLog *audit.Log
	if audited {
		log, err := newLogger(c)
		if err != nil {
			db.Close()
			return nil, nil, nil, err
		}
		if auditLog, err = openAudit(c.Context, db, log); err != nil {
			db.Close()
			return nil, nil, nil, err
		}
		cfg.Recorder = securityAudit{log: auditLog}
	}
	svc, err := security.New(cfg)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, svc, auditLog, nil
}

// openProtected opens the database of an admin command, checks its
// schema and sets up the key ring when there is a master key.
func openProtected(c *cli.Context) (*storage.DB, error) {
	log, err := newLogger(c)
	if err != nil {
		return nil, err
	}
	db, err := openChecked(c.Context, c.String("db"))
	if err != nil {
		return nil, err
	}
	if _, err := protectDB(c.Context, db, masterKeyFrom(c), log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// readPassword returns NEXUS_USER_PASSWORD or the first line of in, so
// the password never appears in a process listing or shell history.
func readPassword(in io.Reader) (string, error) {
	if p := os.Getenv(envUserPassword); p != "" {
		return p, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no password: write it to standard input or set %s", envUserPassword)
	}
	return line, nil
}

func userCommand() *cli.Command {
	return &cli.Command{
		Name:  "user",
		Usage: "manage the users who sign in to apps",
		Subcommands: []*cli.Command{{
			Name: "add",
			Usage: fmt.Sprintf("add a user; the password, at least %d characters, is read from standard input or %s",
				security.MinPasswordLength, envUserPassword),
			Flags: []cli.Flag{dbFlag(), masterKeyFlag(),
				&cli.StringFlag{Name: "username", Required: true, Usage: "sign-in name"},
				&cli.StringFlag{Name: "role", Required: true,
					Usage: "comma-separated roles: admin, physician, nurse, clerk, billing, lab-system, device, patient"},
				&cli.BoolFlag{Name: "totp", Usage: "require a one-time code; prints the otpauth:// URL for an authenticator app"},
				&cli.StringFlag{Name: "fhir-user", Usage: "reference to the user's resource, such as Practitioner/123 or Patient/456"},
				&cli.StringFlag{Name: "location", Usage: "id of the ward Location the user works on; nurses see its patients"},
			},
			Action: func(c *cli.Context) error {
				roles, err := security.ParseRoles(c.String("role"), security.DefaultPermissions())
				if err != nil {
					return err
				}
				password, err := readPassword(c.App.Reader)
				if err != nil {
					return err
				}
				db, svc, err := openSecurityAdmin(c)
				if err != nil {
					return err
				}
				defer db.Close()
				totpURL, err := svc.AddUser(c.Context, security.AddUserParams{Username: c.String("username"),
					Password: password, Roles: roles, TOTP: c.Bool("totp"), FHIRUser: c.String("fhir-user"),
					Location: c.String("location")})
				if errors.Is(err, security.ErrConflict) {
					return fmt.Errorf("user %s already exists; pick another --username: %w", c.String("username"), err)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "user %s added with roles %s\n", c.String("username"), c.String("role"))
				if totpURL != "" {
					fmt.Fprintf(c.App.Writer, "add this to an authenticator app: %s\n", totpURL)
				}
				return nil
			},
		}, userListCommand(), accountSwitchCommand("user", "disable", "USERNAME"),
			accountSwitchCommand("user", "enable", "USERNAME")},
	}
}

func clientCommand() *cli.Command {
	return &cli.Command{
		Name:  "client",
		Usage: "manage the OAuth2 clients that get tokens",
		Subcommands: []*cli.Command{{
			Name: "add",
			Usage: "register a backend service (--kind system, with --jwks or --public-key) " +
				"or an app (--kind app, with --redirect-uri)",
			Flags: []cli.Flag{dbFlag(), masterKeyFlag(),
				&cli.StringFlag{Name: "id", Required: true, Usage: "client_id"},
				&cli.StringFlag{Name: "kind", Required: true, Usage: "system (client_credentials) or app (authorization code with PKCE)"},
				&cli.StringFlag{Name: "name", Usage: "name shown on the consent page"},
				&cli.StringFlag{Name: "scope", Required: true,
					Usage: "space-separated SMART scopes the client may be granted, such as 'system/*.rs'"},
				&cli.StringFlag{Name: "role", Usage: "comma-separated roles of a system client"},
				&cli.StringFlag{Name: "jwks", Usage: "JSON Web Key Set file with a system client's public keys"},
				&cli.StringFlag{Name: "public-key", Usage: "PEM public key file of a system client, used when --jwks is not given"},
				&cli.StringFlag{Name: "key-id", Value: "1", Usage: "kid of the key from --public-key"},
				&cli.StringSliceFlag{Name: "redirect-uri", Usage: "redirect URI of an app; repeat for several"},
			},
			Action: func(c *cli.Context) error {
				client, err := clientFromFlags(c)
				if err != nil {
					return err
				}
				db, svc, err := openSecurityAdmin(c)
				if err != nil {
					return err
				}
				defer db.Close()
				err = svc.AddClient(c.Context, client)
				if errors.Is(err, security.ErrConflict) {
					return fmt.Errorf("client %s already exists; pick another --id: %w", client.ID, err)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "client %s added (%s)\n", client.ID, client.Kind)
				return nil
			},
		}, clientAssertionCommand(), clientListCommand(), accountSwitchCommand("client", "disable", "CLIENT_ID"),
			accountSwitchCommand("client", "enable", "CLIENT_ID")},
	}
}

func clientFromFlags(c *cli.Context) (security.Client, error) {
	client := security.Client{ID: c.String("id"), Kind: security.ClientKind(c.String("kind")), Name: c.String("name"),
		Scopes: c.String("scope"), RedirectURIs: c.StringSlice("redirect-uri")}
	roles, err := security.ParseRoles(c.String("role"), security.DefaultPermissions())
	if err != nil {
		return client, err
	}
	client.Roles = roles
	if client.Kind != security.ClientSystem {
		return client, nil
	}
	switch {
	case c.String("jwks") != "":
		data, err := os.ReadFile(c.String("jwks"))
		if err != nil {
			return client, fmt.Errorf("read --jwks: %w", err)
		}
		if _, err := security.ParseJWKS(data); err != nil {
			return client, fmt.Errorf("--jwks %s: %w", c.String("jwks"), err)
		}
		client.JWKS = string(data)
	case c.String("public-key") != "":
		data, err := os.ReadFile(c.String("public-key"))
		if err != nil {
			return client, fmt.Errorf("read --public-key: %w", err)
		}
		set, err := security.JWKSFromPEM(data, c.String("key-id"))
		if err != nil {
			return client, fmt.Errorf("--public-key %s: %w", c.String("public-key"), err)
		}
		encoded, err := jsonString(set)
		if err != nil {
			return client, err
		}
		client.JWKS = encoded
	default:
		return client, errors.New("a system client needs --jwks or --public-key")
	}
	return client, nil
}

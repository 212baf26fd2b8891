package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"
)

func init() {
	registerKeySubcommand(func() *cli.Command {
		return &cli.Command{
			Name: "rotate",
			Usage: "rotate the token signing key: new tokens get a new ES256 key, and the old key " +
				"stays in the JWKS until its tokens expire",
			Flags: []cli.Flag{dbFlag(), masterKeyFlag()},
			Action: func(c *cli.Context) error {
				db, svc, err := openSecurityAdmin(c)
				if err != nil {
					return err
				}
				defer db.Close()
				kid, err := svc.RotateSigningKey(c.Context)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "signing key %s is active; running servers use it within %s\n",
					kid, svc.Config().KeyCacheTTL)
				return nil
			},
		}
	})
}

func jsonString(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode json: %w", err)
	}
	return string(data), nil
}

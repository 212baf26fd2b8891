package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/urfave/cli/v2"

	"github.com/nexus-health-360/nexus/security"
)

// clientAssertionCommand prints a private_key_jwt client assertion, so an
// operator can get a token with curl.
func clientAssertionCommand() *cli.Command {
	return &cli.Command{
		Name:  "assertion",
		Usage: "print a signed client assertion (private_key_jwt) for the token endpoint, valid for 4 minutes",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "id", Required: true, Usage: "client_id, the iss and sub of the assertion"},
			&cli.StringFlag{Name: "key", Required: true, Usage: "PEM private key file (EC P-256, P-384, P-521 or RSA)"},
			&cli.StringFlag{Name: "kid", Usage: "key id registered for the key"},
			&cli.StringFlag{Name: "token-url", Required: true, Usage: "token endpoint URL, the aud of the assertion"},
		},
		Action: func(c *cli.Context) error {
			data, err := os.ReadFile(c.String("key"))
			if err != nil {
				return fmt.Errorf("read --key: %w", err)
			}
			key, err := parsePrivateKey(data)
			if err != nil {
				return fmt.Errorf("--key %s: %w", c.String("key"), err)
			}
			signed, err := signAssertion(key, c.String("id"), c.String("kid"), c.String("token-url"), time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, signed)
			return nil
		},
	}
}

// parsePrivateKey reads a PKCS #8, SEC 1 (EC PRIVATE KEY) or PKCS #1
// (RSA PRIVATE KEY) PEM block.
func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return signer, nil
}

// signAssertion signs the SMART Backend Services claims with ES256,
// ES384 or ES512 for EC keys (by curve) and RS384 for RSA keys.
func signAssertion(key crypto.Signer, clientID, kid, tokenURL string, now time.Time) (string, error) {
	var method jwt.SigningMethod
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		method = map[string]jwt.SigningMethod{"P-256": jwt.SigningMethodES256, "P-384": jwt.SigningMethodES384,
			"P-521": jwt.SigningMethodES512}[k.Curve.Params().Name]
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS384
	}
	if method == nil {
		return "", errors.New("sign assertion: the key is not EC P-256, P-384, P-521 or RSA")
	}
	tok := jwt.NewWithClaims(method, jwt.MapClaims{"iss": clientID, "sub": clientID, "aud": tokenURL,
		"exp": now.Add(security.MaxAssertionLifetime - time.Minute).Unix(), "jti": rand.Text()})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("sign assertion: %w", err)
	}
	return signed, nil
}

package security

import (
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpOptions are RFC 6238 defaults that authenticator apps support: 30
// second steps, six digits, SHA-1, and one step of clock skew either way.
var totpOptions = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTP returns a new TOTP secret for username and the otpauth:// URL
// that an authenticator app imports, usually as a QR code.
func NewTOTP(issuer, username string) (secret, url string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: username})
	if err != nil {
		return "", "", fmt.Errorf("generate totp secret for %s: %w", username, err)
	}
	return key.Secret(), key.URL(), nil
}

// VerifyTOTP reports whether code is valid for secret at time now.
func VerifyTOTP(code, secret string, now time.Time) bool {
	ok, err := totp.ValidateCustom(code, secret, now, totpOptions)
	return err == nil && ok
}

// TOTPCode returns the code for secret at time now, for tests and tools.
func TOTPCode(secret string, now time.Time) (string, error) {
	code, err := totp.GenerateCodeCustom(secret, now, totpOptions)
	if err != nil {
		return "", fmt.Errorf("generate totp code: %w", err)
	}
	return code, nil
}

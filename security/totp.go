package security

import (
	"crypto/subtle"
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

// VerifyTOTP reports whether code is valid for secret at time now. It
// does not detect reuse: Service.Authenticate also records the step of
// each accepted code, and rejects a code of that step or an earlier one.
func VerifyTOTP(code, secret string, now time.Time) bool {
	_, ok := matchTOTPStep(code, secret, now)
	return ok
}

// matchTOTPStep returns the time step (Unix seconds / Period) whose code
// equals code, trying the current step and Skew steps either side.
func matchTOTPStep(code, secret string, now time.Time) (int64, bool) {
	if len(code) != totpOptions.Digits.Length() {
		return 0, false
	}
	period := int64(totpOptions.Period)
	current := now.Unix() / period
	for offset := -int64(totpOptions.Skew); offset <= int64(totpOptions.Skew); offset++ {
		step := current + offset
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*period, 0), totpOptions)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step, true
		}
	}
	return 0, false
}

// TOTPCode returns the code for secret at time now, for tests and tools.
func TOTPCode(secret string, now time.Time) (string, error) {
	code, err := totp.GenerateCodeCustom(secret, now, totpOptions)
	if err != nil {
		return "", fmt.Errorf("generate totp code: %w", err)
	}
	return code, nil
}

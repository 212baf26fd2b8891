package security

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
)

// JWK is a public JSON Web Key (RFC 7517) of type EC (P-256, P-384,
// P-521) or RSA.
type JWK struct {
	KeyType   string `json:"kty"`
	KeyID     string `json:"kid,omitempty"`
	Use       string `json:"use,omitempty"`
	Algorithm string `json:"alg,omitempty"`
	Curve     string `json:"crv,omitempty"`
	X         string `json:"x,omitempty"`
	Y         string `json:"y,omitempty"`
	N         string `json:"n,omitempty"`
	E         string `json:"e,omitempty"`
	// D is set only on private keys, which a key set is rejected for.
	D string `json:"d,omitempty"`
}

// JWKS is a JSON Web Key Set.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

var b64url = base64.RawURLEncoding

// PublicJWK encodes an ECDSA or RSA public key as a JWK.
func PublicJWK(pub crypto.PublicKey, kid, alg string) (JWK, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		raw, err := k.Bytes()
		if err != nil {
			return JWK{}, fmt.Errorf("encode jwk %s: %w", kid, err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		// raw is the uncompressed point: 0x04, X, Y.
		return JWK{KeyType: "EC", KeyID: kid, Use: "sig", Algorithm: alg, Curve: k.Curve.Params().Name,
			X: b64url.EncodeToString(raw[1 : 1+size]), Y: b64url.EncodeToString(raw[1+size:])}, nil
	case *rsa.PublicKey:
		return JWK{KeyType: "RSA", KeyID: kid, Use: "sig", Algorithm: alg,
			N: b64url.EncodeToString(k.N.Bytes()), E: b64url.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	}
	return JWK{}, fmt.Errorf("encode jwk %s: unsupported key type %T: %w", kid, pub, ErrInvalid)
}

// PublicKey decodes the JWK into an *ecdsa.PublicKey or *rsa.PublicKey.
func (j JWK) PublicKey() (crypto.PublicKey, error) {
	if j.D != "" {
		return nil, fmt.Errorf("decode jwk %s: contains a private key: %w", j.KeyID, ErrInvalid)
	}
	switch j.KeyType {
	case "EC":
		var curve elliptic.Curve
		switch j.Curve {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("decode jwk %s: unsupported curve %q: %w", j.KeyID, j.Curve, ErrInvalid)
		}
		x, errX := b64url.DecodeString(j.X)
		y, errY := b64url.DecodeString(j.Y)
		size := (curve.Params().BitSize + 7) / 8
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, fmt.Errorf("decode jwk %s: invalid x or y: %w", j.KeyID, ErrInvalid)
		}
		point := append(append([]byte{4}, x...), y...)
		key, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, fmt.Errorf("decode jwk %s: point is not on the curve: %w", j.KeyID, ErrInvalid)
		}
		return key, nil
	case "RSA":
		n, errN := b64url.DecodeString(j.N)
		e, errE := b64url.DecodeString(j.E)
		if errN != nil || errE != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("decode jwk %s: invalid n or e: %w", j.KeyID, ErrInvalid)
		}
		key := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if key.N.BitLen() < 2048 {
			return nil, fmt.Errorf("decode jwk %s: RSA keys need at least 2048 bits: %w", j.KeyID, ErrInvalid)
		}
		return key, nil
	}
	return nil, fmt.Errorf("decode jwk %s: unsupported kty %q: %w", j.KeyID, j.KeyType, ErrInvalid)
}

// ParseJWKS decodes a JSON Web Key Set and checks that every key is a
// usable public key with a key id.
func ParseJWKS(data []byte) (JWKS, error) {
	var set JWKS
	if err := json.Unmarshal(data, &set); err != nil {
		return JWKS{}, fmt.Errorf("parse jwks: not a JSON key set: %w", ErrInvalid)
	}
	if len(set.Keys) == 0 {
		return JWKS{}, fmt.Errorf("parse jwks: no keys: %w", ErrInvalid)
	}
	for _, k := range set.Keys {
		if k.KeyID == "" {
			return JWKS{}, fmt.Errorf("parse jwks: a key has no kid: %w", ErrInvalid)
		}
		if _, err := k.PublicKey(); err != nil {
			return JWKS{}, fmt.Errorf("parse jwks: %w", err)
		}
	}
	return set, nil
}

// JWKSFromPEM builds a one-key set from a PEM "PUBLIC KEY" (PKIX) block,
// for registering a client from a public key file.
func JWKSFromPEM(data []byte, kid string) (JWKS, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return JWKS{}, fmt.Errorf("parse public key: want a PEM PUBLIC KEY block: %w", ErrInvalid)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return JWKS{}, fmt.Errorf("parse public key: %w: %w", err, ErrInvalid)
	}
	alg := ""
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		alg = map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[k.Curve.Params().Name]
	case *rsa.PublicKey:
		alg = "RS384"
	}
	jwk, err := PublicJWK(pub, kid, alg)
	if err != nil {
		return JWKS{}, err
	}
	return JWKS{Keys: []JWK{jwk}}, nil
}

// find returns the key with id kid.
func (s JWKS) find(kid string) (JWK, bool) {
	for _, k := range s.Keys {
		if k.KeyID == kid {
			return k, true
		}
	}
	return JWK{}, false
}

package sqlstore

import (
	"context"
	"fmt"

	"github.com/nexus-health-360/nexus/storage"
)

// Secret columns. When the storage.DB has a Cipher, signing key PEMs and
// TOTP secrets are sealed with associated data naming the table and the
// row's key, so a value copied into another row does not open there.
// Plaintext values, written before a cipher was configured, stay
// readable, and RewrapBatch seals them.
const (
	signingKeyAADPrefix = "security_signing_keys.private_key|"
	totpSecretAADPrefix = "security_users.totp_secret|"
)

func signingKeyAAD(id string) []byte { return []byte(signingKeyAADPrefix + id) }

func totpSecretAAD(username string) []byte { return []byte(totpSecretAADPrefix + username) }

// seal returns value sealed with aad, or value itself when the DB has no
// Cipher. An empty value stays empty, so a user without TOTP keeps an
// empty secret.
func (s *Store) seal(op string, value string, aad []byte) ([]byte, error) {
	if s.db.Cipher == nil || value == "" {
		return []byte(value), nil
	}
	sealed, err := s.db.Cipher.Seal([]byte(value), aad)
	if err != nil {
		return nil, fmt.Errorf("%s: seal: %w", op, err)
	}
	return sealed, nil
}

// open returns the plaintext of a stored value. A sealed value without a
// Cipher fails with storage.ErrNoCipher, and one that does not open under
// the Cipher (another master key, another row) fails too: neither returns
// the stored bytes.
func (s *Store) open(op string, stored []byte, aad []byte) (string, error) {
	_, sealed, err := storage.ParseSealed(stored)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if !sealed {
		return string(stored), nil
	}
	if s.db.Cipher == nil {
		return "", fmt.Errorf("%s: %w", op, storage.ErrNoCipher)
	}
	plain, err := s.db.Cipher.Open(stored, aad)
	if err != nil {
		return "", fmt.Errorf("%s: open sealed value: %w", op, err)
	}
	return string(plain), nil
}

// Component returns "security".
func (s *Store) Component() string { return "security" }

type secretRow struct {
	Key   string `db:"row_key"`
	Value []byte `db:"value"`
}

// secretColumns are the sealed columns: table, key column, value column
// and the associated data of a row key.
var secretColumns = []struct {
	table, key, value string
	aad               func(string) []byte
}{
	{"security_signing_keys", "id", "private_key", signingKeyAAD},
	{"security_users", "username", "totp_secret", totpSecretAAD},
}

// RewrapBatch seals every signing key and TOTP secret that is plaintext
// or sealed under an older key version again under the active version.
// The tables hold few rows (one per key and per user), so one batch
// covers them and p is ignored.
func (s *Store) RewrapBatch(ctx context.Context, p storage.RewrapParams) (storage.RewrapResult, error) {
	if s.db.Cipher == nil {
		return storage.RewrapResult{}, fmt.Errorf("rewrap security secrets: %w", storage.ErrNoCipher)
	}
	active := s.db.Cipher.ActiveKeyVersion()
	res := storage.RewrapResult{Done: true}
	for _, col := range secretColumns {
		op := "rewrap " + col.table + "." + col.value
		var rows []secretRow
		err := s.db.Reader.SelectContext(ctx, &rows, `SELECT `+col.key+` AS row_key, `+col.value+` AS value FROM `+col.table)
		if err != nil {
			return storage.RewrapResult{}, classify(op, err)
		}
		for _, row := range rows {
			res.Examined++
			if len(row.Value) == 0 {
				continue
			}
			version, sealed, err := storage.ParseSealed(row.Value)
			if err != nil {
				return storage.RewrapResult{}, fmt.Errorf("%s of %s: %w", op, row.Key, err)
			}
			if sealed && version == active {
				continue
			}
			plain, err := s.open(op+" of "+row.Key, row.Value, col.aad(row.Key))
			if err != nil {
				return storage.RewrapResult{}, err
			}
			resealed, err := s.seal(op+" of "+row.Key, plain, col.aad(row.Key))
			if err != nil {
				return storage.RewrapResult{}, err
			}
			// The WHERE on the old value leaves a row alone that changed
			// since it was read.
			_, err = s.db.Writer.ExecContext(ctx, s.db.Rebind(`UPDATE `+col.table+` SET `+col.value+` = ?
				WHERE `+col.key+` = ? AND `+col.value+` = ?`), resealed, row.Key, row.Value)
			if err != nil {
				return storage.RewrapResult{}, classify(op+" of "+row.Key, err)
			}
			res.Rewrapped++
		}
	}
	return res, nil
}

// KeyVersionUsage counts the non-empty signing keys and TOTP secrets by
// the key version they are sealed under, 0 for plaintext.
func (s *Store) KeyVersionUsage(ctx context.Context) (map[uint32]int64, error) {
	usage := map[uint32]int64{}
	for _, col := range secretColumns {
		var values [][]byte
		if err := s.db.Reader.SelectContext(ctx, &values, `SELECT `+col.value+` FROM `+col.table); err != nil {
			return nil, classify("count key versions of "+col.table, err)
		}
		for _, v := range values {
			if len(v) == 0 {
				continue
			}
			version, _, err := storage.ParseSealed(v)
			if err != nil {
				return nil, fmt.Errorf("count key versions of %s: %w", col.table, err)
			}
			usage[version]++
		}
	}
	return usage, nil
}

package keyring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/emr/emrtest"
	"github.com/nexus-health-360/nexus/emr/sqlstore"
	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// The tests below run the clinical record store with a key ring. They live
// here rather than in emr/sqlstore because the emr packages must not
// import the security layer, not even in tests.

// A fake patient whose name and record number must never appear in the
// raw rows.
const (
	fakeFamily = "Qwertzuiopsen"
	fakeMRN    = "MRN-7731-QZX"
	mrnSystem  = "urn:oid:2.16.840.1.113883.19.5.99999.1"
)

var fakePatient = `{"resourceType":"Patient","identifier":[{"system":"` + mrnSystem + `","value":"` + fakeMRN + `"}],` +
	`"name":[{"family":"` + fakeFamily + `","given":["Ilse"]}],"birthDate":"1961-04-12","gender":"female"}`

// encrypted migrates db for emr and the key ring and sets a new ring as
// its cipher and hasher.
func encrypted(t *testing.T, db *storage.DB, master []byte) *keyring.Ring {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, db.Migrate(ctx, sqlstore.Migrations(), keyring.Migrations()))
	ring := openRing(t, db, master)
	db.Cipher, db.Hasher = ring, ring
	return ring
}

func newEMR(t *testing.T, db *storage.DB) (*sqlstore.Store, *emr.Service) {
	t.Helper()
	store := sqlstore.New(db)
	svc, err := emr.NewService(store, emr.Config{})
	require.NoError(t, err)
	return store, svc
}

var actor = emr.ContextWithActor(context.Background(), "test")

func TestEMRConformanceWithCipher(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			emrtest.Run(t, func(t *testing.T) emr.Store {
				db := b.Open(t)
				encrypted(t, db, newMasterKey(t))
				return sqlstore.New(db)
			})
		})
	}
}

// rawText returns every value of the given columns of table as text.
func rawText(t *testing.T, db *storage.DB, table string, columns ...string) string {
	t.Helper()
	rows, err := db.Reader.Queryx(`SELECT ` + strings.Join(columns, ", ") + ` FROM ` + table)
	require.NoError(t, err)
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		values, err := rows.SliceScan()
		require.NoError(t, err)
		for _, v := range values {
			switch v := v.(type) {
			case []byte:
				sb.Write(v)
			case string:
				sb.WriteString(v)
			}
			sb.WriteByte('\n')
		}
	}
	require.NoError(t, rows.Err())
	return sb.String()
}

func assertNoPlaintext(t *testing.T, db *storage.DB) {
	t.Helper()
	checks := []struct {
		table   string
		columns []string
	}{
		{table: "resource_versions", columns: []string{"body"}},
		{table: "idx_token", columns: []string{"system", "code", "text"}},
		{table: "patient_identifiers", columns: []string{"system", "value"}},
		{table: "mpi_keys", columns: []string{"key"}},
	}
	for _, c := range checks {
		raw := rawText(t, db, c.table, c.columns...)
		assert.NotContains(t, raw, fakeMRN, "record number in %s", c.table)
		assert.NotContains(t, strings.ToUpper(raw), strings.ToUpper(fakeFamily), "family name in %s", c.table)
	}
}

func searchIDs(t *testing.T, svc *emr.Service, typ string, params url.Values) []string {
	t.Helper()
	res, err := svc.Search(actor, typ, params)
	require.NoError(t, err)
	var ids []string
	for _, r := range res.Resources {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestEncryptedRowsHoldNoPlaintext(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		encrypted(t, db, newMasterKey(t))
		_, svc := newEMR(t, db)
		reg, err := svc.RegisterPatient(actor, emr.RegisterParams{Patient: []byte(fakePatient)})
		require.NoError(t, err)
		id := reg.Patient.ID
		_, err = svc.Create(actor, "Observation", []byte(`{"resourceType":"Observation","status":"final",`+
			`"identifier":[{"value":"`+fakeMRN+`-obs"}],"code":{"text":"weight"},"subject":{"reference":"Patient/`+id+`"}}`))
		require.NoError(t, err)

		assertNoPlaintext(t, db)

		got, err := svc.Read(actor, "Patient", id)
		require.NoError(t, err)
		assert.Contains(t, string(got.Body), fakeFamily, "read returns the plaintext")
		assert.Equal(t, []string{id}, searchIDs(t, svc, "Patient", url.Values{"identifier": {fakeMRN}}))
		assert.Equal(t, []string{id}, searchIDs(t, svc, "Patient", url.Values{"identifier": {mrnSystem + "|" + fakeMRN}}))
		assert.Equal(t, []string{id}, searchIDs(t, svc, "Patient", url.Values{"identifier": {mrnSystem + "|"}}))
		assert.Empty(t, searchIDs(t, svc, "Patient", url.Values{"identifier": {"MRN-0000"}}))
		assert.Len(t, searchIDs(t, svc, "Observation", url.Values{"subject:Patient.identifier": {fakeMRN}}), 1, "chained identifier")
		assert.Len(t, searchIDs(t, svc, "Patient", url.Values{"_has:Observation:subject:identifier": {fakeMRN + "-obs"}}), 1, "reverse chain")

		// The identifier uniqueness check and duplicate detection work on
		// hashed values.
		_, err = svc.RegisterPatient(actor, emr.RegisterParams{Patient: []byte(fakePatient)})
		assert.Error(t, err, "the same record number or a likely duplicate is rejected")
	})
}

func TestCopiedCiphertextDoesNotOpen(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		encrypted(t, db, newMasterKey(t))
		store, svc := newEMR(t, db)
		a, err := svc.Create(actor, "Patient", []byte(fakePatient))
		require.NoError(t, err)
		b, err := svc.Create(actor, "Patient", []byte(`{"resourceType":"Patient","gender":"male"}`))
		require.NoError(t, err)

		_, err = db.Writer.ExecContext(ctx, db.Rebind(`UPDATE resource_versions SET body =
			(SELECT body FROM resource_versions WHERE res_type = 'Patient' AND res_id = ?) WHERE res_type = 'Patient' AND res_id = ?`), a.ID, b.ID)
		require.NoError(t, err)

		_, err = store.Read(ctx, "Patient", b.ID)
		assert.ErrorIs(t, err, keyring.ErrOpen)
		assert.NotContains(t, err.Error(), fakeFamily)
		_, err = store.Read(ctx, "Patient", a.ID)
		assert.NoError(t, err, "the original row still opens")
	})
}

func TestRotateRewrapRetire(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		master := newMasterKey(t)
		ring := encrypted(t, db, master)
		store, svc := newEMR(t, db)
		var ids []string
		for i := range 7 {
			body := strings.Replace(fakePatient, fakeMRN, fmt.Sprintf("%s-%d", fakeMRN, i), 1)
			res, err := svc.Create(actor, "Patient", []byte(body))
			require.NoError(t, err)
			ids = append(ids, res.ID)
		}
		_, err := ring.Rotate(ctx)
		require.NoError(t, err)
		_, _, err = svc.Update(actor, emr.UpdateParams{Type: "Patient", ID: ids[0],
			Body: []byte(strings.Replace(strings.Replace(fakePatient, fakeMRN, fakeMRN+"-0", 1), "female", "other", 1))})
		require.NoError(t, err)

		usage, err := store.KeyVersionUsage(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[uint32]int64{1: 7, 2: 1}, usage)
		assert.ErrorIs(t, ring.Retire(ctx, 1, store), keyring.ErrInUse)

		// Batches of 3 rows: the pass needs several and saves its cursor.
		small, err := keyring.Open(ctx, db, keyring.Config{MasterKey: master, RewrapBatch: 3})
		require.NoError(t, err)
		progress, err := small.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.True(t, progress.Done)
		assert.Equal(t, int64(7), progress.Rewrapped)
		assert.Equal(t, uint32(2), progress.TargetVersion)

		usage, err = store.KeyVersionUsage(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[uint32]int64{2: 8}, usage)
		require.NoError(t, ring.Retire(ctx, 1, store))

		for _, id := range ids {
			got, err := svc.Read(actor, "Patient", id)
			require.NoError(t, err)
			assert.Contains(t, string(got.Body), fakeFamily)
		}
		v1, err := svc.VRead(actor, "Patient", ids[0], 1)
		require.NoError(t, err)
		assert.Contains(t, string(v1.Body), `"female"`, "old versions keep their content")
		assert.Equal(t, []string{ids[3]}, searchIDs(t, svc, "Patient", url.Values{"identifier": {fakeMRN + "-3"}}))

		again, err := small.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.True(t, again.Done)
		assert.Equal(t, progress.Cursor, again.Cursor, "a pass that reached the end reads only newer rows")
		assert.Equal(t, progress.Rewrapped, again.Rewrapped)
	})
}

func TestRewrapSealsPlaintextRows(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		require.NoError(t, db.Migrate(ctx, sqlstore.Migrations(), keyring.Migrations()))
		_, plainSvc := newEMR(t, db)
		reg, err := plainSvc.RegisterPatient(actor, emr.RegisterParams{Patient: []byte(fakePatient)})
		require.NoError(t, err)
		raw := rawText(t, db, "resource_versions", "body")
		require.Contains(t, raw, fakeFamily, "written before encryption was turned on")

		ring := openRing(t, db, newMasterKey(t))
		db.Cipher, db.Hasher = ring, ring
		store, svc := newEMR(t, db)
		got, err := svc.Read(actor, "Patient", reg.Patient.ID)
		require.NoError(t, err, "plaintext rows stay readable before the rewrap")
		assert.True(t, json.Valid(got.Body))

		progress, err := ring.Rewrap(ctx, store)
		require.NoError(t, err)
		assert.Equal(t, int64(1), progress.Rewrapped)
		assertNoPlaintext(t, db)
		assert.Equal(t, []string{reg.Patient.ID}, searchIDs(t, svc, "Patient", url.Values{"identifier": {fakeMRN}}),
			"identifier index rows were hashed by the rewrap")
		_, err = svc.RegisterPatient(actor, emr.RegisterParams{Patient: []byte(fakePatient)})
		assert.Error(t, err, "uniqueness and duplicate checks see the hashed rows")
	})
}

func TestSealedRowsWithoutCipherFailClosed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		encrypted(t, db, newMasterKey(t))
		_, svc := newEMR(t, db)
		res, err := svc.Create(actor, "Patient", []byte(fakePatient))
		require.NoError(t, err)

		db.Cipher, db.Hasher = nil, nil
		store := sqlstore.New(db)
		_, err = store.Read(ctx, "Patient", res.ID)
		assert.ErrorIs(t, err, storage.ErrNoCipher)
		_, err = store.Search(ctx, emr.Query{Type: "Patient"})
		assert.ErrorIs(t, err, storage.ErrNoCipher)
		_, err = store.History(ctx, emr.HistoryQuery{Type: "Patient"})
		assert.ErrorIs(t, err, storage.ErrNoCipher)

		inUse, err := keyring.InUse(ctx, db)
		require.NoError(t, err)
		assert.True(t, inUse, "a caller can tell that the database needs a master key")
		raw := rawText(t, db, "resource_versions", "body")
		assert.False(t, bytes.Contains([]byte(raw), []byte(fakeFamily)))
	})
}

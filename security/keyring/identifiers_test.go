package keyring_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/security/keyring"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// Fake identifier values of a patient shaped like a Synthea export: a
// record number, a social security number, a driver's licence and a
// passport, each with its v2-0203 type. The encounter, the claim and a
// reference by identifier carry the other three.
const (
	fakeSSN       = "999-41-7337"
	fakeLicence   = "S99917733"
	fakePassport  = "X17733947X"
	fakeRecordNo  = "b7f3c1e2-5d4a-4e1b-9c77-31aa5e0d7733"
	fakeEncounter = "ENC-55173-QX"
	fakeClaim     = "CLM-88217-QX"
	fakeRefID     = "REF-66392-QX"
	v20203        = "http://terminology.hl7.org/CodeSystem/v2-0203"
)

var fakeIdentifierValues = []string{fakeSSN, fakeLicence, fakePassport, fakeRecordNo, fakeEncounter, fakeClaim, fakeRefID}

func typedIdentifier(system, code, value string) string {
	return `{"type":{"coding":[{"system":"` + v20203 + `","code":"` + code + `"}]},"system":"` + system + `","value":"` + value + `"}`
}

var syntheaLikePatient = `{"resourceType":"Patient","identifier":[` +
	`{"system":"https://github.com/synthetichealth/synthea","value":"` + fakeRecordNo + `"},` +
	typedIdentifier("http://hospital.smarthealthit.org", "MR", fakeRecordNo) + `,` +
	typedIdentifier("http://hl7.org/fhir/sid/us-ssn", "SS", fakeSSN) + `,` +
	typedIdentifier("urn:oid:2.16.840.1.113883.4.3.25", "DL", fakeLicence) + `,` +
	typedIdentifier("http://standardhealthrecord.org/fhir/StructureDefinition/passportNumber", "PPN", fakePassport) +
	`],"name":[{"family":"Qwertzuiopsen","given":["Ilse"]}],"birthDate":"1961-04-12","gender":"female"}`

// writeIdentifierRecord writes the patient, an encounter and a claim with
// identifiers, and an observation whose performer is a reference by
// identifier. It returns the patient id.
func writeIdentifierRecord(t *testing.T, svc *emr.Service) string {
	t.Helper()
	reg, err := svc.RegisterPatient(actor, emr.RegisterParams{Patient: []byte(syntheaLikePatient)})
	require.NoError(t, err)
	patient := reg.Patient.ID
	subject := `"subject":{"reference":"Patient/` + patient + `"}`
	_, err = svc.Create(actor, "Encounter", []byte(`{"resourceType":"Encounter","status":"finished",`+
		`"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},`+
		`"identifier":[`+typedIdentifier("urn:example:encounters", "VN", fakeEncounter)+`],`+subject+`}`))
	require.NoError(t, err)
	_, err = svc.Create(actor, "Claim", []byte(`{"resourceType":"Claim","status":"active","use":"claim",`+
		`"identifier":[{"system":"urn:example:claims","value":"`+fakeClaim+`"}],`+
		`"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},`+
		`"patient":{"reference":"Patient/`+patient+`"},"created":"2024-01-02","provider":{"display":"Clinic"},`+
		`"priority":{"coding":[{"code":"normal"}]},"insurance":[{"sequence":1,"focal":true,"coverage":{"display":"Plan"}}]}`))
	require.NoError(t, err)
	_, err = svc.Create(actor, "Observation", []byte(`{"resourceType":"Observation","status":"final",`+
		`"code":{"text":"weight"},`+subject+`,`+
		`"performer":[{"identifier":{"system":"urn:example:staff","value":"`+fakeRefID+`"}}]}`))
	require.NoError(t, err)
	return patient
}

// tableNames lists the tables of db's schema.
func tableNames(t *testing.T, db *storage.DB) []string {
	t.Helper()
	query := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect == storage.Postgres {
		query = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var names []string
	require.NoError(t, db.Reader.Select(&names, query))
	require.NotEmpty(t, names)
	return names
}

// assertNoIdentifierValues checks every column of every table for the
// fake identifier values.
func assertNoIdentifierValues(t *testing.T, db *storage.DB) {
	t.Helper()
	for _, table := range tableNames(t, db) {
		raw := rawText(t, db, table, "*")
		for _, value := range fakeIdentifierValues {
			assert.NotContains(t, raw, value, "identifier value in table %s", table)
		}
	}
}

func assertIdentifierSearches(t *testing.T, svc *emr.Service, patient string) {
	t.Helper()
	cases := []struct {
		typ   string
		param string
		value string
	}{
		{"Patient", "identifier", fakeSSN},
		{"Patient", "identifier:of-type", v20203 + "|SS|" + fakeSSN},
		{"Patient", "identifier:of-type", v20203 + "|DL|" + fakeLicence},
		{"Patient", "identifier:of-type", v20203 + "|PPN|" + fakePassport},
		{"Patient", "identifier:of-type", v20203 + "|MR|" + fakeRecordNo},
		{"Encounter", "identifier", "urn:example:encounters|" + fakeEncounter},
		{"Encounter", "identifier:of-type", v20203 + "|VN|" + fakeEncounter},
		{"Claim", "identifier", fakeClaim},
		{"Observation", "performer:identifier", "urn:example:staff|" + fakeRefID},
		{"Encounter", "subject:Patient.identifier:of-type", v20203 + "|SS|" + fakeSSN},
	}
	for _, c := range cases {
		ids := searchIDs(t, svc, c.typ, url.Values{c.param: {c.value}})
		assert.Len(t, ids, 1, "%s?%s", c.typ, c.param)
	}
	assert.Empty(t, searchIDs(t, svc, "Patient", url.Values{"identifier:of-type": {v20203 + "|SS|000-00-0000"}}))
	assert.Equal(t, []string{patient}, searchIDs(t, svc, "Patient", url.Values{"identifier": {fakePassport}}))
}

func TestIdentifierValuesAreHashed(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		encrypted(t, db, newMasterKey(t))
		_, svc := newEMR(t, db)
		patient := writeIdentifierRecord(t, svc)
		assertNoIdentifierValues(t, db)
		assertIdentifierSearches(t, svc, patient)
	})
}

// importIdentifierRecord stores the same record as writeIdentifierRecord
// through ImportResources, the path of nexusd import.
func importIdentifierRecord(t *testing.T, svc *emr.Service) {
	t.Helper()
	patient := strings.Replace(syntheaLikePatient, `{"resourceType":"Patient",`, `{"resourceType":"Patient","id":"imported",`, 1)
	subject := `"subject":{"reference":"Patient/imported"}`
	_, err := svc.ImportResources(actor, [][]byte{
		[]byte(patient),
		[]byte(`{"resourceType":"Encounter","id":"enc","status":"finished",` +
			`"class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},` +
			`"identifier":[` + typedIdentifier("urn:example:encounters", "VN", fakeEncounter) + `],` + subject + `}`),
		[]byte(`{"resourceType":"Observation","id":"obs","status":"final","code":{"text":"weight"},` + subject + `,` +
			`"performer":[{"identifier":{"system":"urn:example:staff","value":"` + fakeRefID + `"}}]}`),
	})
	require.NoError(t, err)
}

func TestIdentifierValuesNotInSQLiteFiles(t *testing.T) {
	writes := map[string]func(t *testing.T, svc *emr.Service){
		"service": func(t *testing.T, svc *emr.Service) { writeIdentifierRecord(t, svc) },
		"import":  importIdentifierRecord,
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "nexus.db")
			db, err := storage.Open(ctx, "sqlite:"+path, storage.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			encrypted(t, db, newMasterKey(t))
			_, svc := newEMR(t, db)
			write(t, svc)
			assert.Len(t, searchIDs(t, svc, "Patient", url.Values{"identifier:of-type": {v20203 + "|SS|" + fakeSSN}}), 1)

			for _, file := range []string{path, path + "-wal"} {
				raw, err := os.ReadFile(file)
				require.NoError(t, err)
				require.NotEmpty(t, raw, file)
				for _, value := range fakeIdentifierValues {
					assert.False(t, strings.Contains(string(raw), value), "identifier value %s in %s", value, filepath.Base(file))
				}
			}
		})
	}
}

// TestIdentifierIndexPassHashesOldRows writes the :of-type and
// :identifier rows as a build that hashed only identifier rows did, then
// runs the identifier index pass.
func TestIdentifierIndexPassHashesOldRows(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		master := newMasterKey(t)
		ring := encrypted(t, db, master)
		store, svc := newEMR(t, db)
		patient := writeIdentifierRecord(t, svc)

		var rows []struct {
			Rid   int64  `db:"rid"`
			Param string `db:"param"`
			Sys   string `db:"system"`
			Code  string `db:"code"`
		}
		require.NoError(t, db.Reader.Select(&rows, `SELECT rid, param, system, code FROM idx_token
			WHERE param LIKE '%:of-type' OR param LIKE '%:identifier'`))
		require.NotEmpty(t, rows)
		plain := map[string]string{}
		for _, value := range fakeIdentifierValues {
			plain[ring.Hash("emr.identifier", value)] = value
		}
		// RegisterPatient adds a record number of its own, whose value the
		// test does not know, so only the rows of the fake values change.
		changed := 0
		for _, row := range rows {
			value, ok := plain[row.Code]
			if !ok {
				continue
			}
			_, err := db.Writer.Exec(db.Rebind(`UPDATE idx_token SET code = ? WHERE rid = ? AND param = ? AND system = ? AND code = ?`),
				value, row.Rid, row.Param, row.Sys, row.Code)
			require.NoError(t, err)
			changed++
		}
		assert.Equal(t, 6, changed, "one :of-type or :identifier row per typed or referenced fake value")
		require.Contains(t, rawText(t, db, "idx_token", "code"), fakeSSN, "the old rows are in place")

		small, err := keyring.Open(ctx, db, keyring.Config{MasterKey: master, RewrapBatch: 2})
		require.NoError(t, err)
		run, err := small.Rewrap(ctx, store.IdentifierIndex())
		require.NoError(t, err)
		assert.Equal(t, int64(4), run.RewrappedThisRun, "every current resource is visited once")
		assertNoIdentifierValues(t, db)
		assertIdentifierSearches(t, svc, patient)
	})
}

package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/security/audit"
	"github.com/nexus-health-360/nexus/security/audit/audittest"
	"github.com/nexus-health-360/nexus/security/audit/sqlstore"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// tamperCase edits the audit table of a log of ten entries as a database
// owner would, with the append-only triggers out of the way.
type tamperCase struct {
	name   string
	tamper func(t *testing.T, db *storage.DB)
	seq    int64
	kind   audit.Kind
}

func exec(t *testing.T, db *storage.DB, query string, args ...any) {
	t.Helper()
	_, err := db.Writer.ExecContext(context.Background(), db.Rebind(query), args...)
	require.NoError(t, err)
}

// bypassTriggers does what only the owner of the table can.
func bypassTriggers(t *testing.T, db *storage.DB) {
	t.Helper()
	if db.Dialect == storage.Postgres {
		exec(t, db, `ALTER TABLE audit_log DISABLE TRIGGER USER`)
		return
	}
	exec(t, db, `DROP TRIGGER audit_log_no_update`)
	exec(t, db, `DROP TRIGGER audit_log_no_delete`)
}

func record(t *testing.T, db *storage.DB, seq int64) audit.Record {
	t.Helper()
	records, err := sqlstore.New(db).Scan(context.Background(), seq-1, 1)
	require.NoError(t, err)
	require.Len(t, records, 1)
	require.Equal(t, seq, records[0].Seq)
	return records[0]
}

func insertRaw(t *testing.T, db *storage.DB, r audit.Record) {
	t.Helper()
	exec(t, db, `INSERT INTO audit_log (seq, recorded, type, subtype, action, outcome, outcome_desc, agent_who,
		agent_client, agent_roles, agent_address, source, patient_id, what, query, purpose, stream, position,
		prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, '', ?, '', '[]', '', ?, ?, ?, '', '', '', 0, ?, ?, ?)`,
		r.Seq, r.Recorded.UnixMicro(), r.Type, r.Subtype, string(r.Action), string(r.Outcome), r.Agent.Who,
		r.Source, r.Patient, r.What, r.PrevHash, r.Hash, r.MAC)
}

// forged returns a record that links after prev with a correct hash but
// no valid MAC, as someone without the audit key would write it.
func forged(prev audit.Record, seq int64) audit.Record {
	e := audit.Entry{
		Seq: seq, Recorded: prev.Recorded.Add(time.Second), Type: audit.TypeRest, Subtype: "read",
		Action: audit.ActionRead, Outcome: audit.OutcomeSuccess, Agent: audit.Agent{Who: "cover-story"},
		Source: "nexusd", Patient: "p0", What: "Patient/p0",
	}
	return audit.Record{Entry: e, PrevHash: prev.Hash, Hash: audit.ChainHash(prev.Hash, e), MAC: strings.Repeat("0", 64)}
}

func moveSeq(t *testing.T, db *storage.DB, from, to int64) {
	t.Helper()
	exec(t, db, `UPDATE audit_log SET seq = ? WHERE seq = ?`, to, from)
}

var tamperCases = []tamperCase{
	{
		name: "edited field",
		tamper: func(t *testing.T, db *storage.DB) {
			exec(t, db, `UPDATE audit_log SET agent_who = 'someone-else' WHERE seq = 4`)
		},
		seq: 4, kind: audit.Edited,
	},
	{
		name: "edited and rehashed",
		tamper: func(t *testing.T, db *storage.DB) {
			r := record(t, db, 4)
			r.Agent.Who = "someone-else"
			exec(t, db, `UPDATE audit_log SET agent_who = ?, hash = ? WHERE seq = 4`, r.Agent.Who, audit.ChainHash(r.PrevHash, r.Entry))
		},
		seq: 4, kind: audit.Edited,
	},
	{
		name: "removed from the middle",
		tamper: func(t *testing.T, db *storage.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 6`)
		},
		seq: 6, kind: audit.Removed,
	},
	{
		name: "removed from the end",
		tamper: func(t *testing.T, db *storage.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq >= 9`)
		},
		seq: 9, kind: audit.Removed,
	},
	{
		name: "removed and renumbered",
		tamper: func(t *testing.T, db *storage.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 6`)
			for seq := int64(7); seq <= 10; seq++ {
				moveSeq(t, db, seq, seq-1)
			}
		},
		seq: 6, kind: audit.Removed,
	},
	{
		name: "inserted at the end",
		tamper: func(t *testing.T, db *storage.DB) {
			insertRaw(t, db, forged(record(t, db, 10), 11))
		},
		seq: 11, kind: audit.Inserted,
	},
	{
		name: "inserted in the middle",
		tamper: func(t *testing.T, db *storage.DB) {
			prev := record(t, db, 5)
			for seq := int64(10); seq >= 6; seq-- {
				moveSeq(t, db, seq, seq+1)
			}
			insertRaw(t, db, forged(prev, 6))
		},
		seq: 6, kind: audit.Inserted,
	},
	{
		name: "reordered",
		tamper: func(t *testing.T, db *storage.DB) {
			moveSeq(t, db, 3, -1)
			moveSeq(t, db, 4, 3)
			moveSeq(t, db, -1, 4)
		},
		seq: 3, kind: audit.Reordered,
	},
}

func TestVerifyDetectsTampering(t *testing.T) {
	for _, tc := range tamperCases {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				ctx := context.Background()
				store := sqlstore.New(migrated(t, db))
				log := audittest.OpenLog(t, store)
				audittest.Fill(t, log, 10)
				rep, err := log.Verify(ctx)
				require.NoError(t, err)
				require.True(t, rep.OK(), "before tampering: %v", rep.Err())

				bypassTriggers(t, db)
				tc.tamper(t, db)

				rep, err = log.Verify(ctx)
				require.NoError(t, err)
				require.False(t, rep.OK(), "tampering went unnoticed")
				assert.Equal(t, tc.seq, rep.Problem.Seq, rep.Problem.Detail)
				assert.Equal(t, tc.kind, rep.Problem.Kind, rep.Problem.Detail)
				assert.ErrorIs(t, rep.Err(), audit.ErrTampered)
			})
		})
	}
}

func TestTriggersRejectChanges(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		store := sqlstore.New(migrated(t, db))
		audittest.Fill(t, audittest.OpenLog(t, store), 3)

		statements := []string{
			`UPDATE audit_log SET agent_who = 'x' WHERE seq = 1`,
			`DELETE FROM audit_log WHERE seq = 3`,
		}
		if db.Dialect == storage.Postgres {
			statements = append(statements, `TRUNCATE audit_log`)
		}
		for _, stmt := range statements {
			_, err := db.Writer.ExecContext(ctx, stmt)
			require.Error(t, err, stmt)
			assert.Contains(t, err.Error(), "append-only", stmt)
		}
		records, err := store.Scan(ctx, 0, 10)
		require.NoError(t, err)
		assert.Len(t, records, 3)
	})
}

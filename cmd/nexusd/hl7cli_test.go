package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/emr"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

func TestHL7SendFlagErrors(t *testing.T) {
	file := writeMessageFile(t, "one.hl7", admitMessage("FLAG1", "MRN-FLAG-1"))
	missing := filepath.Join(t.TempDir(), "missing.hl7")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no port", []string{"--to", "127.0.0.1", file}, `hl7 send: invalid --to "127.0.0.1": use HOST:PORT, such as 127.0.0.1:2575`},
		{"empty port", []string{"--to", "127.0.0.1:", file}, `hl7 send: invalid --to "127.0.0.1:": use HOST:PORT`},
		{"port zero", []string{"--to", "127.0.0.1:0", file}, "the port must be a number from 1 to 65535"},
		{"port name", []string{"--to", "127.0.0.1:mllp", file}, "the port must be a number from 1 to 65535"},
		{"no host", []string{"--to", ":2575", file}, `hl7 send: invalid --to ":2575"`},
		{"zero timeout", []string{"--to", "127.0.0.1:2575", "--ack-timeout", "0s", file},
			"hl7 send: invalid --ack-timeout 0s: use a positive duration, such as 30s"},
		{"negative timeout", []string{"--to", "127.0.0.1:2575", "--ack-timeout", "-5s", file}, "invalid --ack-timeout -5s"},
		{"zero attempts", []string{"--to", "127.0.0.1:2575", "--attempts", "0", file}, "hl7 send: invalid --attempts 0: use 1 or more"},
		{"missing file", []string{"--to", "127.0.0.1:2575", file, missing}, "hl7 send: file " + missing + " not found"},
		{"folder", []string{"--to", "127.0.0.1:2575", filepath.Dir(missing)}, "is a folder"},
		{"no file", []string{"--to", "127.0.0.1:2575"}, "hl7 send: missing FILE argument"},
		{"flag after files", []string{"--to", "127.0.0.1:2575", file, "--attempts", "2"},
			"hl7 send: file --attempts not found: flags must come before the files, so move --attempts before the first FILE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runNexusd(t, append([]string{"--log-level", "error", "hl7", "send"}, tc.args...)...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestHL7ImportDefaultDBMissing(t *testing.T) {
	t.Setenv("NEXUS_DB", "")
	require.NoError(t, os.Unsetenv("NEXUS_DB"))
	file := writeMessageFile(t, "one.hl7", admitMessage("DEF1", "MRN-DEF-1"))
	dir := t.TempDir()
	t.Chdir(dir)

	_, err := runNexusd(t, "--log-level", "error", "hl7", "import", file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hl7 import: no database at nexus.db, the default --db sqlite:nexus.db")
	assert.Contains(t, err.Error(), "create one with `nexusd migrate --db sqlite:nexus.db`")
	_, statErr := os.Stat(filepath.Join(dir, "nexus.db"))
	assert.True(t, os.IsNotExist(statErr), "no database is created in the current folder")

	_, err = runNexusd(t, "--log-level", "error", "migrate")
	require.NoError(t, err)
	out, err := runNexusd(t, "--log-level", "error", "hl7", "import", file)
	require.NoError(t, err, "the migrated default database is used")
	assert.Contains(t, out, "one.hl7 #1: control id DEF1: AA")
}

func TestHL7ImportMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.hl7")
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hl7.db")
	_, err := runNexusd(t, "--log-level", "error", "hl7", "import", "--db", dsn, missing)
	require.Error(t, err)
	assert.Equal(t, "hl7 import: file "+missing+" not found", err.Error())
}

func TestHL7ImportSummaryPerFile(t *testing.T) {
	good := writeMessageFile(t, "good.hl7", admitMessage("SUM1", "MRN-SUM-1"), admitMessage("SUM2", "MRN-SUM-2"))
	bad := writeMessageFile(t, "bad.hl7", admitMessage("SUM3", "MRN-SUM-3"),
		strings.Replace(admitMessage("SUM4", "MRN-SUM-4"), "|19800101|F", "|19800101|Q", 1))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hl7.db")
	out, err := runNexusd(t, "--log-level", "error", "hl7", "import", "--db", dsn, good, bad)
	require.Error(t, err, "a rejected message makes the exit status non-zero")
	assert.Equal(t, "hl7 import: 1 message failed", err.Error())
	assert.Contains(t, out, "good.hl7: 2 messages: 2 accepted (0 already applied), 0 failed\n")
	assert.Contains(t, out, "bad.hl7 #2: control id SUM4: AE ERR PID^1^8 code 103 (Table value not found)\n")
	assert.Contains(t, out, "bad.hl7: 2 messages: 1 accepted (0 already applied), 1 failed\n")
	assert.Contains(t, out, "4 messages: 3 accepted (0 already applied), 1 failed\n")
}

// Text after BTS without an MSH, and a message that starts with a
// lowercase msh, are reported with their lines and count as failed.
func TestHL7TextOutsideMessage(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc, mllp: mllpOptions{applier: patientApplier{svc: svc}}})
	file := writeMessageFile(t, "outside.hl7",
		admitMessage("OUT1", "MRN-OUT-1"),
		"BTS|1\r",
		"EVN|A01\rPID|1||MRN-OUT-2^^^HOSP^MR||ZZHL7FAMILY^AVA\r",
		strings.Replace(admitMessage("OUT3", "MRN-OUT-3"), "MSH|", "msh|", 1),
	)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "hl7.db")
	cases := []struct {
		name    string
		args    []string
		verb    string
		summary string
	}{
		{"import", []string{"import", "--db", dsn}, "not applied",
			"outside.hl7: 3 messages: 1 accepted (0 already applied), 2 failed\n"},
		{"send", []string{"send", "--to", addr}, "not sent", "outside.hl7: 3 messages: 1 sent, 1 accepted, 2 failed\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"--log-level", "error", "hl7"}, tc.args...), file)
			out, err := runNexusd(t, args...)
			require.Error(t, err)
			assert.Equal(t, "hl7 "+tc.name+": 2 messages failed", err.Error())
			assert.Contains(t, out, "outside.hl7 #1: control id OUT1: AA")
			assert.Contains(t, out, "outside.hl7 #2: lines 4-5: "+tc.verb+": the text after the BTS segment of line 3 "+
				"is outside any message, because no MSH segment starts it\n")
			assert.Contains(t, out, "outside.hl7 #3: lines 6-7: "+tc.verb+": line 6 begins with \"msh\", but a message "+
				"starts only at a line that begins with MSH in capitals and the field separator\n")
			assert.Contains(t, out, tc.summary)
			assert.NotContains(t, out, "ZZHL7FAMILY", "the lines are named, not their content")
		})
	}
}

// A blank line inside a message reaches the parser, so strict mode rejects
// it in hl7 import as on the MLLP listener, and lenient mode applies the
// message and logs a warning.
func TestHL7BlankLineInMessage(t *testing.T) {
	blank := strings.Replace(admitMessage("BLANK1", "MRN-BLANK-1"), "\rPID", "\r\rPID", 1)
	file := writeMessageFile(t, "blank.hl7", blank)
	const rejected = "blank.hl7 #1: control id BLANK1: AE ERR ^2 code 102"

	t.Run("strict import", func(t *testing.T) {
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "hl7.db")
		out, err := runNexusd(t, "--log-level", "error", "hl7", "import", "--db", dsn, "--hl7-lenient=false", file)
		require.Error(t, err)
		assert.Contains(t, out, rejected)
	})

	t.Run("strict listener", func(t *testing.T) {
		db := storagetest.SQLite(t)
		ready := make(chan string, 1)
		startServer(t, serveOptions{db: db, svc: migratedService(t, db),
			mllp: mllpOptions{addr: "127.0.0.1:0", ready: ready}})
		out, err := runNexusd(t, "--log-level", "error", "hl7", "send", "--to", <-ready, file)
		require.Error(t, err)
		assert.Contains(t, out, rejected)
	})

	t.Run("lenient import", func(t *testing.T) {
		svc := newTestService(t)
		var logs, out, errOut bytes.Buffer
		h := newInboundHandler(svc, slog.New(slog.NewTextHandler(&logs, nil)), true, nil)
		ctx := emr.ContextWithActor(context.Background(), hl7Actor)
		require.NoError(t, importMessages(ctx, h, []string{file}, &out, &errOut))
		assert.Contains(t, out.String(), "blank.hl7 #1: control id BLANK1: AA")
		assert.Contains(t, logs.String(), "blank line inside a message ignored")
		assert.NotContains(t, logs.String(), "ZZHL7FAMILY")
	})
}

func TestHL7HelpTexts(t *testing.T) {
	send, err := runApp(t, "", "hl7", "send", "--help")
	require.NoError(t, err)
	assert.Contains(t, send, "HOST:PORT of the MLLP receiver, such as 127.0.0.1:2575")
	assert.Contains(t, send, "maximum wait for each ACK, a positive duration")
	assert.Contains(t, send, "(1 or more)")
	assert.Contains(t, send, "A summary line follows each file and the whole run.")

	imp, err := runApp(t, "", "hl7", "import", "--help")
	require.NoError(t, err)
	assert.Contains(t, imp, "a missing default database is an")
	assert.Contains(t, imp, "--db value")
}

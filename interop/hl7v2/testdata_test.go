package hl7v2

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdataFiles returns the path of every message file under testdata.
func testdataFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(path, ".md") || strings.Contains(path, string(filepath.Separator)+"fuzz"+string(filepath.Separator)) {
			return nil
		}
		files = append(files, path)
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

var (
	anyTerminator = regexp.MustCompile("\r\n|\r|\n")
	crTerminator  = regexp.MustCompile("\r\n|\r")
)

// normalizeLenient returns what the writer must produce for lenient input,
// computed without the parser. It removes the byte order mark and splits
// segments at CRLF and CR, and also at LF when the input has no CR without
// an LF after it. It drops lines that contain only whitespace and ends
// every segment with one CR.
func normalizeLenient(data []byte) []byte {
	data = bytes.TrimPrefix(data, utf8BOM)
	splitter := anyTerminator
	if regexp.MustCompile("\r([^\n]|$)").Match(data) {
		splitter = crTerminator
	}
	var out []byte
	for _, line := range splitter.Split(string(data), -1) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, line...)
		out = append(out, '\r')
	}
	return out
}

func TestTestdataParsesAndRoundTrips(t *testing.T) {
	for _, path := range testdataFiles(t) {
		name := filepath.ToSlash(strings.TrimPrefix(path, "testdata"+string(filepath.Separator)))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			file, err := ParseFile(data, ParseOptions{Lenient: true})
			if strings.HasPrefix(filepath.Base(path), "invalid-") {
				require.Error(t, err)
				for _, e := range Errors(err) {
					assert.True(t, e.Offset >= 0, "error has a byte offset: %v", e)
				}
				return
			}
			require.NoError(t, err)
			require.NotEmpty(t, file.Messages())
			out, err := file.Encode(WriteOptions{})
			require.NoError(t, err)
			assert.Equal(t, string(normalizeLenient(data)), string(out))
		})
	}
}

func TestTestdataInvalidFixturesLocated(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		kind    Kind
		segment int
		field   int
	}{
		{"missing MSH", "invalid-missing-msh.hl7", KindMissingMSH, 0, 0},
		{"four-character segment id", "invalid-segment-header-length.hl7", KindSegmentID, 2, 0},
		{"version 1.0", "invalid-wrong-version.hl7", KindVersion, 1, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "rethinkhealth-hl7v2", "qa-fixtures", tt.file))
			require.NoError(t, err)
			for _, lenient := range []bool{true, false} {
				_, err := Parse(data, ParseOptions{Lenient: lenient})
				require.Error(t, err)
				var found *ParseError
				for _, e := range Errors(err) {
					if e.Kind == tt.kind {
						found = e
						break
					}
				}
				require.NotNil(t, found, "lenient=%v: no error of kind %v in %v", lenient, tt.kind, err)
				assert.Equal(t, tt.segment, found.Segment)
				assert.Equal(t, tt.field, found.Field)
				assert.GreaterOrEqual(t, found.Offset, 0)
			}
		})
	}
}

func readTestdata(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

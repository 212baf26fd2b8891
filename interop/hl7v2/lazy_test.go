package hl7v2

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLazyFieldsConcurrentReads(t *testing.T) {
	t.Parallel()
	want := dumpTree(mustParse(t, []byte(adt1K)))
	m := mustParse(t, []byte(adt1K))
	var wg sync.WaitGroup
	trees := make([]string, 8)
	for i := range trees {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trees[i] = dumpTree(m)
		}()
	}
	wg.Wait()
	for i, got := range trees {
		assert.Equal(t, want, got, "tree read by goroutine %d", i)
	}
}

func TestLazyFieldAccessors(t *testing.T) {
	t.Parallel()
	m := mustParse(t, []byte(adt1K))
	assert.Equal(t, "GENHOSP", m.Get("PID-3[3].4"))
	n, err := m.Count("PID-3")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	reps := m.MSH().Field(9).Repetitions()
	require.Len(t, reps, 1)
	assert.Len(t, reps[0].Components(), 3)
	assert.Equal(t, "ADT^A01^ADT_A01", m.MSH().Field(9).Text())
	pid8 := m.Segment("PID", 1).Field(8)
	assert.Len(t, pid8.Repetitions(), 1, "a field without separators has one repetition")
	assert.Len(t, pid8.Repetition(1).Components(), 1)
	assert.Equal(t, "M", pid8.Repetition(1).Component(1).Subcomponent(1).Text())
	assert.Nil(t, pid8.Repetition(2))
	assert.Nil(t, pid8.Repetition(1).Component(2))
}

func TestLazyFieldEdits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, text, field, want string
	}{
		{"component of an unsplit field", "PID-3[2].4", "SSA", "PID-3", "MRN00481516^^^GENHOSP^MR~999-12-3456^^^SSA^SS~ENC77001^^^GENHOSP^AN"},
		{"component after a single value", "PID-8.2", "Male", "PID-8", "M^Male"},
		{"repetition after a single value", "PID-8[2]", "U", "PID-8", "M~U"},
		{"subcomponent of a single value", "PID-8.1.2", "x", "PID-8", "M&x"},
		{"whole field", "PID-3", "A1", "PID-3", "A1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustParse(t, []byte(adt1K))
			require.NoError(t, m.Set(tc.path, tc.text))
			assert.Equal(t, tc.want, m.Segment("PID", 1).Field(fieldNumber(t, tc.field)).Raw())
			out, err := m.Encode(WriteOptions{})
			require.NoError(t, err)
			again := mustParse(t, out)
			assert.Equal(t, dumpTree(m), dumpTree(again))
		})
	}
}

func mustParse(t *testing.T, data []byte) *Message {
	t.Helper()
	m, err := Parse(data, ParseOptions{})
	require.NoError(t, err)
	return m
}

func fieldNumber(t *testing.T, path string) int {
	t.Helper()
	p, err := ParsePath(path)
	require.NoError(t, err)
	return p.Field
}

func TestEmptyFieldEditsStayLocal(t *testing.T) {
	t.Parallel()
	m := mustParse(t, []byte(adt1K))
	pv1 := m.Segment("PV1", 1)
	require.Equal(t, "", pv1.Field(5).Raw())
	require.Equal(t, "", pv1.Field(6).Raw())

	require.NoError(t, m.Set("PV1-5.2", "X"))
	require.NoError(t, m.Set("PV1-11[2].1.2", "Y"))
	assert.Equal(t, "^X", pv1.Field(5).Raw())
	assert.Equal(t, "~&Y", pv1.Field(11).Raw())
	assert.Equal(t, "", pv1.Field(6).Raw(), "other empty fields stay empty")
	assert.Equal(t, "", m.Segment("PID", 1).Field(2).Raw())

	fresh := mustParse(t, []byte(adt1K))
	assert.Equal(t, "", fresh.Segment("PV1", 1).Field(5).Raw(), "a later parse is not affected")
}

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestAnalyzeDue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		elapsed              time.Duration
		writesAtLast, writes int64
		due                  bool
	}{
		{"first run", 1 << 62, 0, 0, true},
		{"few writes on empty", time.Second, 0, analyzeMinWrites - 1, false},
		{"minimum writes on empty", time.Second, 0, analyzeMinWrites, true},
		{"not yet doubled", time.Minute, 1000, 1999, false},
		{"doubled", time.Minute, 1000, 2000, true},
		{"interval passed", analyzeInterval, 1000, 1000, true},
		{"past growth limit", time.Minute, analyzeGrowthLimit, 4 * analyzeGrowthLimit, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.due, analyzeDue(tt.elapsed, tt.writesAtLast, tt.writes))
		})
	}
}

package mllp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
)

func TestAckCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		ack           string
		wantCode      string
		wantControlID string
		wantErr       string
	}{
		{
			name:          "application accept",
			ack:           string(testACK("AA", "CTRL0012")),
			wantCode:      "AA",
			wantControlID: "CTRL0012",
		},
		{
			name:          "commit reject with text",
			ack:           "MSH|^~\\&|EHR|HOSP\rMSA|CR|CTRL7|Unknown trigger event\r",
			wantCode:      "CR",
			wantControlID: "CTRL7",
		},
		{
			name:          "other field separator",
			ack:           "MSH#^~\\&#EHR\rMSA#AE#CTRL9\r",
			wantCode:      "AE",
			wantControlID: "CTRL9",
		},
		{
			name:          "CR LF segment ends",
			ack:           "MSH|^~\\&|EHR\r\nMSA|AA|CTRL1\r\n",
			wantCode:      "AA",
			wantControlID: "CTRL1",
		},
		{
			name:          "MSA after ERR",
			ack:           "MSH|^~\\&|EHR\rERR|||207\rMSA|AR|CTRL2",
			wantCode:      "AR",
			wantControlID: "CTRL2",
		},
		{
			name:     "MSA-2 missing",
			ack:      "MSH|^~\\&|EHR\rMSA|CA\r",
			wantCode: "CA",
		},
		{name: "empty", ack: "", wantErr: "does not start with an MSH segment"},
		{name: "not MSH", ack: "PID|1\rMSA|AA|X\r", wantErr: "does not start with an MSH segment"},
		{name: "MSH only", ack: "MSH|^~\\&|EHR\r", wantErr: "no MSA segment"},
		{name: "MSA with another separator", ack: "MSH|^~\\&\rMSA#AA#X\r", wantErr: "no MSA segment"},
		{name: "MSA-1 empty", ack: "MSH|^~\\&\rMSA||CTRL3\r", wantErr: "MSA-1 (acknowledgment code) is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, controlID, err := mllp.AckCode([]byte(tt.ack))
			if tt.wantErr != "" {
				assert.ErrorIs(t, err, mllp.ErrInvalidAck)
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantCode, code)
			assert.Equal(t, tt.wantControlID, controlID)
		})
	}
}

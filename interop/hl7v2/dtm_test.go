package hl7v2

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var monitorSegments = []string{
	`MSH|^~\&|MONGW^0011223344556677^EUI-64|ICU|||20240311140114.1234+0800||ORU^R01^ORU_R01|CTRL0009|P|2.6|||AL|NE||UNICODE UTF-8`,
	`PID|1||800008^^^HOSP^MR||TESTER^GRETA||19750505|F`,
	`OBR|1||MON9|150456^MDC_PULS_OXIM_SAT_O2^MDC`,
	`OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20240311140000.1234+0800||||0011223344556677^^0011223344556677^EUI-64`,
}

func TestDateTimeGrammar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		value     string
		precision Precision
		hasOffset bool
		fhir      string
		fhirErr   bool
	}{
		{"year", "2024", PrecisionYear, false, "2024", false},
		{"month", "202403", PrecisionMonth, false, "2024-03", false},
		{"day", "20240311", PrecisionDay, false, "2024-03-11", false},
		{"day with offset gets no zone", "20240311+0800", PrecisionDay, true, "2024-03-11", false},
		{"hour", "2024031114+0800", PrecisionHour, true, "2024-03-11T14:00:00+08:00", false},
		{"minute", "202403111401-0330", PrecisionMinute, true, "2024-03-11T14:01:00-03:30", false},
		{"second", "20240311140114+0000", PrecisionSecond, true, "2024-03-11T14:01:14+00:00", false},
		{"one fraction digit", "20240311140114.1+0800", PrecisionFraction, true, "2024-03-11T14:01:14.1+08:00", false},
		{"four fraction digits", "20240311140114.1234+0800", PrecisionFraction, true, "2024-03-11T14:01:14.1234+08:00", false},
		{"time without offset", "20240311140114", PrecisionSecond, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dt, err := ParseDateTime(tt.value, false)
			require.NoError(t, err)
			assert.Equal(t, tt.precision, dt.Precision)
			assert.Equal(t, tt.hasOffset, dt.HasOffset)
			assert.Equal(t, tt.value, dt.String(), "kept as sent")
			fhir, err := dt.FHIR()
			if tt.fhirErr {
				assert.ErrorIs(t, err, ErrNoTimeZone)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.fhir, fhir)
		})
	}
}

func TestDateTimeInvalid(t *testing.T) {
	t.Parallel()
	for _, value := range []string{
		"", "20", "20241", "2024131", "20240230", "2024031125", "202403111460",
		"20240311140160", "20240311140114.", "20240311140114.12345", "202403111401.12",
		"20240311140114+080", "20240311140114+1500", "20240311140114+0860", "2024-03-11", "0000",
	} {
		_, err := ParseDateTime(value, true)
		assert.Error(t, err, "%q", value)
	}
}

func TestDateTimeShortOffset(t *testing.T) {
	t.Parallel()
	dt, err := ParseDateTime("20240311140114+08", true)
	require.NoError(t, err)
	assert.True(t, dt.ShortOffset)
	assert.Equal(t, 8*3600, dt.Offset)
	_, err = ParseDateTime("20240311140114+08", false)
	require.Error(t, err)

	segments := append([]string{}, monitorSegments...)
	segments[0] = strings.Replace(segments[0], "20240311140114.1234+0800", "20240311140114+08", 1)
	data := crMessage(segments...)

	m, err := Parse(data, ParseOptions{Lenient: true})
	require.NoError(t, err)
	require.Len(t, m.Warnings(), 1)
	assert.Equal(t, 7, m.Warnings()[0].Field)
	assert.Equal(t, KindDataType, m.Warnings()[0].Kind)

	_, err = Parse(data, ParseOptions{})
	require.Error(t, err)
	e := Errors(err)[0]
	assert.Equal(t, "MSH", e.SegmentID)
	assert.Equal(t, 7, e.Field)
	assert.Contains(t, e.Error(), "MSH-7")
}

func TestDateTimeDeviceResult(t *testing.T) {
	t.Parallel()
	m, err := Parse(crMessage(monitorSegments...), ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MONGW^0011223344556677^EUI-64", m.Get("MSH-3"))
	header, err := m.DateTime("MSH-7")
	require.NoError(t, err)
	assert.Equal(t, PrecisionFraction, header.Precision)
	assert.Equal(t, 4, header.FractionDigits)

	observed, err := m.DateTime("OBX-14")
	require.NoError(t, err)
	fhir, err := observed.FHIR()
	require.NoError(t, err)
	assert.Equal(t, "2024-03-11T14:00:00.1234+08:00", fhir)
	assert.Equal(t, "EUI-64", m.Get("OBX-18.4"))
}

func TestDateTimeOffsetIndependentOfLocalZone(t *testing.T) {
	t.Parallel()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		tokyo = time.FixedZone("JST", 9*3600)
	}
	dt, err := ParseDateTime("20240313092805-0600", false)
	require.NoError(t, err)
	fhir, err := dt.FHIR()
	require.NoError(t, err)
	assert.Equal(t, "2024-03-13T09:28:05-06:00", fhir)

	instant, err := dt.Time()
	require.NoError(t, err)
	assert.Equal(t, "2024-03-14T00:28:05+09:00", instant.In(tokyo).Format(time.RFC3339))

	back, err := ParseFHIRDateTime(fhir)
	require.NoError(t, err)
	assert.Equal(t, "20240313092805-0600", back.String())

	utc, err := ParseFHIRDateTime("2024-03-13T15:28:05.123456Z")
	require.NoError(t, err)
	assert.Equal(t, "20240313152805.1234+0000", utc.String())
}

func TestDateTimeCompletion(t *testing.T) {
	t.Parallel()
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		chicago = time.FixedZone("CDT", -5*3600)
	}
	order := `ORC|NW|ORD1|||||^^^202403130900`
	withOffset := crMessage(`MSH|^~\&|A|B|C|D|20240313092805-0600||ORM^O01|X|P|2.5`, order)
	withoutOffset := crMessage(`MSH|^~\&|A|B|C|D|20240313092805||ORM^O01|X|P|2.5`, order)

	tests := []struct {
		name string
		data []byte
		loc  *time.Location
		want string
	}{
		{"configured zone", withOffset, chicago, "2024-03-13T09:00:00-05:00"},
		{"MSH-7 offset", withOffset, nil, "2024-03-13T09:00:00-06:00"},
		{"configured zone without MSH-7 offset", withoutOffset, chicago, "2024-03-13T09:00:00-05:00"},
	}
	for _, tt := range tests {
		m, err := Parse(tt.data, ParseOptions{})
		require.NoError(t, err, tt.name)
		dt, err := m.DateTimeIn("ORC-7.4", tt.loc)
		require.NoError(t, err, tt.name)
		fhir, err := dt.FHIR()
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, fhir, tt.name)
	}

	m, err := Parse(withoutOffset, ParseOptions{})
	require.NoError(t, err)
	_, err = m.DateTimeIn("ORC-7.4", nil)
	assert.True(t, errors.Is(err, ErrNoTimeZone))

	plain, err := m.DateTime("ORC-7.4")
	require.NoError(t, err)
	_, err = plain.Complete(nil)
	assert.ErrorIs(t, err, ErrNoTimeZone)
	_, err = plain.FHIR()
	assert.ErrorIs(t, err, ErrNoTimeZone)
}

func TestDateTimeFromTimeKeepsOffset(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 3, 15, 10, 10, 11, 500, time.FixedZone("", 5*3600+1800))
	assert.Equal(t, "20240315101011+0530", DateTimeFromTime(now).String())
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-health-360/nexus/interop/hl7v2/mllp"
	"github.com/nexus-health-360/nexus/interop/hl7v2/v2fhir"
	"github.com/nexus-health-360/nexus/storage"
	"github.com/nexus-health-360/nexus/storage/storagetest"
)

// enhancedAdmit returns an admission with MSH-15 and MSH-16 set.
func enhancedAdmit(controlID, mrn, acceptAck, appAck string) string {
	return strings.Replace(admitMessage(controlID, mrn), "|P|2.5\r", "|P|2.5|||"+acceptAck+"|"+appAck+"\r", 1) +
		"PV1|1|I|WARD^101^1\r"
}

func TestServeMLLPGroupCommit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		svc := migratedService(t, db)
		base, addr := startHL7Server(t, serveOptions{db: db, svc: svc})

		const clients, perClient = 4, 5
		var wg sync.WaitGroup
		for c := range clients {
			client := dialMLLP(t, addr)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perClient {
					id := fmt.Sprintf("GC%d-%d", c, i)
					replies, err := client.SendReplies(context.Background(), []byte(enhancedAdmit(id, "MRN-"+id, "AL", "AL")), 2)
					if !assert.NoError(t, err, id) {
						return
					}
					for j, want := range []string{"CA", "AA"} {
						code, controlID, err := mllp.AckCode(replies[j])
						assert.NoError(t, err, id)
						assert.Equal(t, want, code, id)
						assert.Equal(t, id, controlID, id)
					}
				}
			}()
		}
		wg.Wait()

		for c := range clients {
			for i := range perClient {
				mrn := fmt.Sprintf("MRN-GC%d-%d", c, i)
				query := "identifier=" + url.QueryEscape(v2fhir.DefaultIdentifierSystem("HOSP")+"|"+mrn)
				assert.Equal(t, 1, countPatients(t, base, query), mrn)
			}
		}

		// A resend of an applied message is acknowledged and applied once,
		// and a message that fails mapping gets its AE while others commit.
		client := dialMLLP(t, addr)
		resend := []byte(enhancedAdmit("GC0-0", "MRN-GC0-0", "AL", "NE"))
		ack, err := client.Send(context.Background(), resend)
		require.NoError(t, err)
		code, _, err := mllp.AckCode(ack)
		require.NoError(t, err)
		assert.Equal(t, "CA", code)
		query := "identifier=" + url.QueryEscape(v2fhir.DefaultIdentifierSystem("HOSP")+"|MRN-GC0-0")
		assert.Equal(t, 1, countPatients(t, base, query))

		noPID := "MSH|^~\\&|ADT|HOSP|NEXUS|HOSP|20240301101500-0500||ADT^A01^ADT_A01|GCBAD|P|2.5\rPV1|1|I\r"
		ack, err = client.Send(context.Background(), []byte(noPID))
		require.NoError(t, err)
		code, controlID, err := mllp.AckCode(ack)
		require.NoError(t, err)
		assert.Equal(t, "AE", code)
		assert.Equal(t, "GCBAD", controlID)
	})
}

func TestHL7SendEnhancedModes(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	file := writeMessageFile(t, "enhanced.hl7",
		enhancedAdmit("EN1", "MRN-EN-1", "AL", "AL"),
		enhancedAdmit("EN2", "MRN-EN-2", "NE", "NE"),
		enhancedAdmit("EN3", "MRN-EN-3", "ER", "AL"),
		admitMessage("EN4", "MRN-EN-4"),
	)

	var stdout, stderr bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &stdout, &stderr
	require.NoError(t, app.Run([]string{"nexusd", "--log-level", "error", "hl7", "send", "--to", addr, file}), stderr.String())
	assert.Contains(t, stdout.String(), "enhanced.hl7 #1: control id EN1: CA, application ACK AA\n")
	assert.Contains(t, stdout.String(), "enhanced.hl7 #2: control id EN2: sent; MSH-15 and MSH-16 request no ACK on success\n")
	assert.Contains(t, stdout.String(), "enhanced.hl7 #3: control id EN3: AA\n")
	assert.Contains(t, stdout.String(), "enhanced.hl7 #4: control id EN4: AA\n")
	assert.Contains(t, stdout.String(), "4 messages: 4 sent, 4 accepted, 0 failed\n")
}

// glucoseORU returns an ORU^R01 for order LAB9001 with OBR-25 and OBX-11
// set to status, sent and reported at sent.
func glucoseORU(controlID, sent, status, value string) string {
	return strings.Join([]string{
		`MSH|^~\&|LIS|LAB|NEXUS|HOSP|` + sent + `||ORU^R01^ORU_R01|` + controlID + `|P|2.5.1`,
		`PID|1||MRN-ORU-1^^^HOSP^MR||ZZHL7FAMILY^AVA||19800101|F`,
		`OBR|1|PL9001^EHR|LAB9001^LIS|2345-7^Glucose^LN|||20240310080000-0500|||||||||||||||` + sent + `|||` + status,
		`OBX|1|NM|2345-7^Glucose^LN||` + value + `|mmol/L^^UCUM|||||` + status + `|||20240310080000-0500`,
	}, "\r") + "\r"
}

func TestServeMLLPLateFinalKeepsCorrection(t *testing.T) {
	db := storagetest.SQLite(t)
	svc := migratedService(t, db)
	_, addr := startHL7Server(t, serveOptions{db: db, svc: svc})
	client := dialMLLP(t, addr)

	for _, message := range []string{
		glucoseORU("ORU1", "20240310090000-0500", "F", "5.4"),
		glucoseORU("ORU2", "20240310110000-0500", "C", "5.9"),
		glucoseORU("ORU3", "20240310090000-0500", "F", "5.4"), // the final again, late
	} {
		ack, err := client.Send(context.Background(), []byte(message))
		require.NoError(t, err)
		code, _, err := mllp.AckCode(ack)
		require.NoError(t, err)
		assert.Equal(t, "AA", code, "a late result is acknowledged")
	}

	page, err := svc.Search(context.Background(), "Observation", url.Values{"code": {"http://loinc.org|2345-7"}})
	require.NoError(t, err)
	require.Len(t, page.Resources, 1)
	assert.Contains(t, string(page.Resources[0].Body), `"status":"corrected"`)
	provenances, err := svc.Search(context.Background(), "Provenance",
		url.Values{"target": {"Observation/" + page.Resources[0].ID}})
	require.NoError(t, err)
	assert.Len(t, provenances.Resources, 1, "the late final is kept")
}

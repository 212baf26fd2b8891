package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// GenesisHash is the PrevHash of the first entry.
var GenesisHash = strings.Repeat("0", 64)

// canonicalEntry fixes the field order and names of the hashed encoding.
// encoding/json writes struct fields in declaration order, so the same
// entry always encodes to the same bytes. Changing this type changes every
// hash: add a new version instead.
type canonicalEntry struct {
	Version            int      `json:"v"`
	Seq                int64    `json:"seq"`
	Recorded           int64    `json:"recorded"`
	Type               string   `json:"type"`
	Subtype            string   `json:"subtype"`
	Action             string   `json:"action"`
	Outcome            string   `json:"outcome"`
	OutcomeDescription string   `json:"outcomeDesc"`
	Who                string   `json:"who"`
	Client             string   `json:"client"`
	Roles              []string `json:"roles"`
	Address            string   `json:"address"`
	Source             string   `json:"source"`
	Patient            string   `json:"patient"`
	What               string   `json:"what"`
	Query              string   `json:"query"`
	Purpose            string   `json:"purpose"`
	Stream             string   `json:"stream"`
	Position           int64    `json:"position"`
}

// Canonical returns the bytes that an entry's hash covers: a JSON object
// with fixed field order, times in microseconds since the Unix epoch and
// roles never null.
func Canonical(e Entry) []byte {
	roles := e.Agent.Roles
	if roles == nil {
		roles = []string{}
	}
	data, err := json.Marshal(canonicalEntry{
		Version: 1, Seq: e.Seq, Recorded: e.Recorded.UnixMicro(), Type: e.Type, Subtype: e.Subtype,
		Action: string(e.Action), Outcome: string(e.Outcome), OutcomeDescription: e.OutcomeDescription,
		Who: e.Agent.Who, Client: e.Agent.Client, Roles: roles, Address: e.Agent.Address,
		Source: e.Source, Patient: e.Patient, What: e.What, Query: e.Query, Purpose: e.Purpose,
		Stream: e.Stream, Position: e.Position,
	})
	if err != nil {
		// Strings, integers and a string slice always marshal.
		panic(fmt.Sprintf("audit: canonical encoding: %v", err))
	}
	return data
}

// ChainHash returns the hex SHA-256 of prevHash (as its hex text) followed
// by the canonical encoding of e.
func ChainHash(prevHash string, e Entry) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(Canonical(e))
	return hex.EncodeToString(h.Sum(nil))
}

func entryMAC(key []byte, hash string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(hash))
	return hex.EncodeToString(m.Sum(nil))
}

func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("audit: "+format+": %w", append(args, kind)...)
}

package audit

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"
)

// CheckpointAlgorithm is the signature algorithm of every checkpoint.
const CheckpointAlgorithm = "Ed25519"

// Checkpoint is a signed statement that the chain had entry Seq with Hash
// at Time. Kept outside the database, it lets anyone holding the public key
// detect a later rewrite of the entries up to Seq.
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"keyId"`
	Algorithm string    `json:"algorithm"`
	// PublicKey and Signature are standard base64.
	PublicKey string `json:"publicKey"`
	Signature string `json:"signature"`
}

// signedBytes is the message a checkpoint signature covers.
func (c Checkpoint) signedBytes() []byte {
	return []byte("nexus-audit-checkpoint/v1\n" + strconv.FormatInt(c.Seq, 10) + "\n" + c.Hash + "\n" +
		strconv.FormatInt(c.Time.UnixMicro(), 10) + "\n" + c.KeyID + "\n")
}

// Checkpoint signs the current chain head. It verifies nothing: run
// Verify first when the checkpoint should vouch for the log.
func (l *Log) Checkpoint(ctx context.Context) (Checkpoint, error) {
	head, err := l.store.Head(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	if head.Seq == 0 {
		return Checkpoint{}, errorf(ErrNotFound, "checkpoint: the log is empty")
	}
	c := Checkpoint{
		Seq: head.Seq, Hash: head.Hash, Time: l.cfg.Now().UTC().Truncate(time.Microsecond),
		KeyID: l.key.ID, Algorithm: CheckpointAlgorithm,
		PublicKey: base64.StdEncoding.EncodeToString(l.key.Public),
	}
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(l.signer, c.signedBytes()))
	return c, nil
}

// VerifySignature checks the checkpoint's signature under its own public
// key and, when trusted is not nil, that this key is trusted. A checkpoint
// checked only against its own key proves integrity, not origin: pin the
// public key for that.
func (c Checkpoint) VerifySignature(trusted ed25519.PublicKey) error {
	if c.Algorithm != CheckpointAlgorithm {
		return errorf(ErrInvalid, "checkpoint: algorithm %q, want %s", c.Algorithm, CheckpointAlgorithm)
	}
	public, err := base64.StdEncoding.DecodeString(c.PublicKey)
	if err != nil || len(public) != ed25519.PublicKeySize {
		return errorf(ErrInvalid, "checkpoint: publicKey is not a base64 Ed25519 public key")
	}
	if trusted != nil && !trusted.Equal(ed25519.PublicKey(public)) {
		return errorf(ErrTampered, "checkpoint: signed by key %s, which is not the trusted key", c.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		return errorf(ErrInvalid, "checkpoint: signature is not base64")
	}
	if !ed25519.Verify(public, c.signedBytes(), sig) {
		return errorf(ErrTampered, "checkpoint: signature does not verify")
	}
	return nil
}

// CheckCheckpoint verifies c's signature, then the chain of src from the
// first entry up to c.Seq with hashes and links only, and compares entry
// c.Seq with c.Hash. It needs no private key, so src may be the database
// or an exported log read with ReadExport.
func CheckCheckpoint(ctx context.Context, c Checkpoint, trusted ed25519.PublicKey, src Scanner) (Report, error) {
	if err := c.VerifySignature(trusted); err != nil {
		return Report{}, err
	}
	v := verifier{src: src, upTo: c.Seq}
	rep, err := v.run(ctx)
	if err != nil || rep.Problem != nil {
		return rep, err
	}
	rep.Problem = compareHead(rep, v.lastHash, Head{Seq: c.Seq, Hash: c.Hash})
	if rep.Problem != nil && rep.Problem.Kind == Edited {
		rep.Problem.Detail = "the entry's hash differs from the signed checkpoint's"
	}
	return rep, nil
}

// WriteCheckpoint writes c as indented JSON.
func WriteCheckpoint(w io.Writer, c Checkpoint) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("audit: write checkpoint: %w", err)
	}
	return nil
}

// ReadCheckpoint reads a checkpoint written by WriteCheckpoint.
func ReadCheckpoint(r io.Reader) (Checkpoint, error) {
	var c Checkpoint
	dec := json.NewDecoder(io.LimitReader(r, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Checkpoint{}, errorf(ErrInvalid, "read checkpoint: %v", err)
	}
	return c, nil
}

// exportLine is one line of an exported log: a record in JSON.
type exportLine struct {
	Seq                int64     `json:"seq"`
	Recorded           time.Time `json:"recorded"`
	Type               string    `json:"type"`
	Subtype            string    `json:"subtype,omitempty"`
	Action             Action    `json:"action"`
	Outcome            Outcome   `json:"outcome"`
	OutcomeDescription string    `json:"outcomeDescription,omitempty"`
	Who                string    `json:"who"`
	Client             string    `json:"client,omitempty"`
	Roles              []string  `json:"roles,omitempty"`
	Address            string    `json:"address,omitempty"`
	Source             string    `json:"source,omitempty"`
	Patient            string    `json:"patient,omitempty"`
	What               string    `json:"what,omitempty"`
	Query              string    `json:"query,omitempty"`
	Purpose            string    `json:"purpose,omitempty"`
	Stream             string    `json:"stream,omitempty"`
	Position           int64     `json:"position,omitempty"`
	PrevHash           string    `json:"prevHash"`
	Hash               string    `json:"hash"`
}

// Export writes every record of src up to and including seq upTo (all
// when upTo is 0) as NDJSON, one record a line, without MACs. It returns
// the number of records written.
func Export(ctx context.Context, src Scanner, upTo int64, w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var after, n int64
	for {
		records, err := src.Scan(ctx, after, verifyBatch)
		if err != nil {
			return n, fmt.Errorf("audit: export after %d: %w", after, err)
		}
		for _, r := range records {
			if upTo > 0 && r.Seq > upTo {
				return n, flush(bw)
			}
			if err := enc.Encode(toLine(r)); err != nil {
				return n, fmt.Errorf("audit: export entry %d: %w", r.Seq, err)
			}
			n++
			after = r.Seq
		}
		if len(records) < verifyBatch {
			return n, flush(bw)
		}
	}
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

func toLine(r Record) exportLine {
	return exportLine{
		Seq: r.Seq, Recorded: r.Recorded, Type: r.Type, Subtype: r.Subtype, Action: r.Action, Outcome: r.Outcome,
		OutcomeDescription: r.OutcomeDescription, Who: r.Agent.Who, Client: r.Agent.Client, Roles: r.Agent.Roles,
		Address: r.Agent.Address, Source: r.Source, Patient: r.Patient, What: r.What, Query: r.Query,
		Purpose: r.Purpose, Stream: r.Stream, Position: r.Position, PrevHash: r.PrevHash, Hash: r.Hash,
	}
}

func (x exportLine) record() Record {
	return Record{
		Entry: Entry{
			Seq: x.Seq, Recorded: x.Recorded.UTC(), Type: x.Type, Subtype: x.Subtype, Action: x.Action, Outcome: x.Outcome,
			OutcomeDescription: x.OutcomeDescription,
			Agent:              Agent{Who: x.Who, Client: x.Client, Roles: x.Roles, Address: x.Address},
			Source:             x.Source, Patient: x.Patient, What: x.What, Query: x.Query, Purpose: x.Purpose,
			Stream: x.Stream, Position: x.Position,
		},
		PrevHash: x.PrevHash, Hash: x.Hash,
	}
}

// ExportedLog is an exported log read into memory, for CheckCheckpoint
// away from the database.
type ExportedLog struct {
	records []Record
	byHash  map[string]int64
}

// ReadExport reads a log written by Export. Lines need not be in order.
func ReadExport(r io.Reader) (*ExportedLog, error) {
	log := &ExportedLog{byHash: map[string]int64{}}
	seen := map[int64]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var x exportLine
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			return nil, errorf(ErrInvalid, "read export: line %d: %v", line, err)
		}
		if seen[x.Seq] {
			return nil, errorf(ErrInvalid, "read export: line %d: entry %d appears twice", line, x.Seq)
		}
		seen[x.Seq] = true
		log.byHash[x.Hash] = x.Seq
		log.records = append(log.records, x.record())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: read export: %w", err)
	}
	sort.Slice(log.records, func(i, j int) bool { return log.records[i].Seq < log.records[j].Seq })
	return log, nil
}

// Scan returns records after seq after, in Seq order.
func (e *ExportedLog) Scan(_ context.Context, after int64, limit int) ([]Record, error) {
	i := sort.Search(len(e.records), func(i int) bool { return e.records[i].Seq > after })
	end := min(len(e.records), i+limit)
	return e.records[i:end], nil
}

// FindHash returns the Seq of the record with hash.
func (e *ExportedLog) FindHash(_ context.Context, hash string) (int64, error) {
	if seq, ok := e.byHash[hash]; ok {
		return seq, nil
	}
	return 0, fmt.Errorf("audit: hash %s: %w", hash, ErrNotFound)
}

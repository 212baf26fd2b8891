package audit

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies the first problem a verification finds.
type Kind string

// Problem kinds.
const (
	// Edited: an entry's content no longer matches its hash, or its hash
	// was recomputed after an edit so that the next entry no longer links
	// to it or its MAC fails.
	Edited Kind = "edited"
	// Inserted: an entry the log did not write (its MAC fails while the
	// chain around it links), or an entry between two that linked.
	Inserted Kind = "inserted"
	// Removed: entries are missing, at a gap in Seq, before an entry
	// that links to an older one, or after the last remaining entry.
	Removed Kind = "removed"
	// Reordered: an entry links to one that comes after it.
	Reordered Kind = "reordered"
)

// Problem is the first inconsistency found.
type Problem struct {
	// Seq is the first entry that is bad or missing.
	Seq    int64
	Kind   Kind
	Detail string
}

// Report is the result of a verification.
type Report struct {
	// Checked is the number of entries read.
	Checked int64
	// Last is the last entry read, 0 on an empty log.
	Last int64
	// Problem is nil when the log verified.
	Problem *Problem
}

// OK reports whether no problem was found.
func (r Report) OK() bool { return r.Problem == nil }

// Err returns nil for a verified log and an error wrapping ErrTampered
// that names the problem otherwise.
func (r Report) Err() error {
	if r.Problem == nil {
		return nil
	}
	return fmt.Errorf("audit: entry %d %s: %s: %w", r.Problem.Seq, r.Problem.Kind, r.Problem.Detail, ErrTampered)
}

// Scanner reads records in Seq order. Store and ExportedLog implement it.
type Scanner interface {
	Scan(ctx context.Context, after int64, limit int) ([]Record, error)
	FindHash(ctx context.Context, hash string) (int64, error)
}

// Verify walks the whole chain and checks each entry's hash, its link to
// the entry before, its MAC and the stored head. It returns the first
// problem in Report.Problem, and an error only when reading fails.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	head, err := l.store.Head(ctx)
	if err != nil {
		return Report{}, err
	}
	v := verifier{src: l.store, macKey: l.macKey}
	rep, err := v.run(ctx)
	if err != nil || rep.Problem != nil {
		return rep, err
	}
	if head.Seq == 0 && head.MAC == "" {
		// Open records the head of a new log, so a missing head record
		// means it was removed, with every entry when none is left.
		rep.Problem = &Problem{Seq: rep.Last, Kind: Removed, Detail: "the chain head record is missing"}
		if rep.Last == 0 {
			rep.Problem = &Problem{Seq: 1, Kind: Removed,
				Detail: "the log has no entries and no head record: its entries and head were removed"}
		}
		return rep, nil
	}
	if head.MAC != l.headMAC(Head{Seq: head.Seq, Hash: head.Hash}) {
		rep.Problem = &Problem{Seq: head.Seq, Kind: Edited, Detail: "the chain head record fails its MAC"}
		return rep, nil
	}
	rep.Problem = compareHead(rep, v.lastHash, head)
	return rep, nil
}

// compareHead checks the last entry read against the recorded head.
func compareHead(rep Report, lastHash string, head Head) *Problem {
	switch {
	case head.Seq > rep.Last:
		return &Problem{Seq: rep.Last + 1, Kind: Removed,
			Detail: fmt.Sprintf("the head is entry %d but the log ends at %d", head.Seq, rep.Last)}
	case head.Seq < rep.Last:
		return &Problem{Seq: head.Seq + 1, Kind: Inserted,
			Detail: fmt.Sprintf("entries follow the head at %d", head.Seq)}
	case head.Hash != lastHash:
		return &Problem{Seq: head.Seq, Kind: Edited, Detail: "the last entry's hash differs from the head's"}
	}
	return nil
}

// verifier walks a chain. Without a MAC key it checks hashes and links
// only, which anyone holding an exported log can do.
type verifier struct {
	src    Scanner
	macKey []byte
	// upTo stops the walk after this Seq when above 0.
	upTo     int64
	lastHash string
}

const verifyBatch = 1000

func (v *verifier) run(ctx context.Context) (Report, error) {
	rep := Report{}
	prev := Record{Hash: GenesisHash}
	var macFailed *Record
	expected := int64(1)
	for {
		records, err := v.src.Scan(ctx, rep.Last, verifyBatch)
		if err != nil {
			return rep, fmt.Errorf("audit: verify: read after %d: %w", rep.Last, err)
		}
		for i := range records {
			r := records[i]
			if v.upTo > 0 && r.Seq > v.upTo {
				v.lastHash = prev.Hash
				return rep, nil
			}
			rep.Checked++
			if macFailed != nil {
				rep.Problem = classifyMAC(*macFailed, &r)
				return rep, nil
			}
			p, err := v.check(ctx, r, prev, expected)
			if err != nil {
				return rep, err
			}
			if p != nil {
				rep.Problem = p
				return rep, nil
			}
			if v.macKey != nil && entryMAC(v.macKey, r.Hash) != r.MAC {
				failed := r
				macFailed = &failed
			}
			prev = r
			rep.Last = r.Seq
			expected = r.Seq + 1
		}
		if len(records) < verifyBatch {
			break
		}
	}
	if macFailed != nil {
		rep.Problem = classifyMAC(*macFailed, nil)
	}
	v.lastHash = prev.Hash
	return rep, nil
}

// classifyMAC names an entry whose MAC failed. It was inserted whole when
// no entry follows, when the next entry links to it, or when the next entry
// links to the same predecessor. Otherwise its content and hash were
// replaced.
func classifyMAC(r Record, next *Record) *Problem {
	if next == nil || next.PrevHash == r.Hash || next.PrevHash == r.PrevHash {
		return &Problem{Seq: r.Seq, Kind: Inserted, Detail: "its MAC does not match: the audit component did not write it"}
	}
	return &Problem{Seq: r.Seq, Kind: Edited, Detail: "its hash was recomputed after an edit"}
}

// check tests one record against the one before it. A broken link is
// classified by where the hash it names is found.
func (v *verifier) check(ctx context.Context, r, prev Record, expected int64) (*Problem, error) {
	if r.Seq != expected {
		return &Problem{Seq: expected, Kind: Removed, Detail: fmt.Sprintf("entries %d to %d are missing", expected, r.Seq-1)}, nil
	}
	if ChainHash(r.PrevHash, r.Entry) != r.Hash {
		return v.classifyMoved(ctx, r)
	}
	if r.PrevHash == prev.Hash {
		return nil, nil
	}
	m, err := v.src.FindHash(ctx, r.PrevHash)
	if errors.Is(err, ErrNotFound) {
		return &Problem{Seq: r.Seq - 1, Kind: Edited,
			Detail: fmt.Sprintf("entry %d links to a hash that no entry has", r.Seq)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: verify: look up the link of entry %d: %w", r.Seq, err)
	}
	switch {
	case m == r.Seq-2:
		return &Problem{Seq: r.Seq - 1, Kind: Inserted,
			Detail: fmt.Sprintf("entry %d links past it to entry %d", r.Seq, m)}, nil
	case m > r.Seq:
		return &Problem{Seq: r.Seq, Kind: Reordered, Detail: fmt.Sprintf("it links to the later entry %d", m)}, nil
	default:
		return &Problem{Seq: m + 1, Kind: Removed,
			Detail: fmt.Sprintf("entry %d links to entry %d: the entries between were removed and renumbered", r.Seq, m)}, nil
	}
}

// movedWindow is how far from its Seq classifyMoved looks for the
// position an entry was written at.
const movedWindow = 32

// classifyMoved names an entry whose content does not match its hash. If
// the hash matches the same content at another nearby Seq, the entry was
// moved: down after a removal when its predecessor is gone, otherwise
// reordered. Else its content was edited.
func (v *verifier) classifyMoved(ctx context.Context, r Record) (*Problem, error) {
	original := int64(0)
	for d := int64(1); d <= movedWindow && original == 0; d++ {
		for _, seq := range []int64{r.Seq + d, r.Seq - d} {
			moved := r.Entry
			moved.Seq = seq
			if seq > 0 && ChainHash(r.PrevHash, moved) == r.Hash {
				original = seq
				break
			}
		}
	}
	if original == 0 {
		return &Problem{Seq: r.Seq, Kind: Edited, Detail: "its content does not match its hash"}, nil
	}
	_, err := v.src.FindHash(ctx, r.PrevHash)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("audit: verify: look up the link of entry %d: %w", r.Seq, err)
	}
	if original > r.Seq && err != nil {
		return &Problem{Seq: r.Seq, Kind: Removed,
			Detail: fmt.Sprintf("it was written as entry %d: entries before it were removed and the rest renumbered", original)}, nil
	}
	return &Problem{Seq: r.Seq, Kind: Reordered, Detail: fmt.Sprintf("it was written as entry %d", original)}, nil
}

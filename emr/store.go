package emr

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nexus-health-360/nexus/emr/searchparam"
)

// Resource is one version of a stored FHIR resource.
type Resource struct {
	Type        string
	ID          string
	VersionID   int64
	LastUpdated time.Time
	// Deleted marks a version that records a deletion; Body is then nil.
	Deleted bool
	// Body is the stored JSON, with id, meta.versionId and meta.lastUpdated
	// set by the server. A read returns these bytes unchanged.
	Body json.RawMessage
	// Author is who made this version, as given by ContextWithActor.
	Author string
	// Method is "create", "update" or "delete".
	Method string
	// ContentHash identifies the content apart from server-set meta; see
	// Put.ContentHash.
	ContentHash string
}

// Put is one new version for Tx.Put.
type Put struct {
	Resource Resource
	// ContentHash identifies the content apart from server-set meta, so
	// an import can tell that it already stored this content.
	ContentHash string
	// Index replaces the resource's search index rows.
	Index []searchparam.Entry
	// Identifiers replaces the identifiers the resource claims; the store
	// rejects one already claimed by another resource with ErrConflict.
	// Only patients claim identifiers.
	Identifiers []Identifier
	// MatchKeys replaces the master patient index blocking keys.
	MatchKeys []string
	// Patients are the ids of the patients in whose compartments this
	// version is. History and version reads of a restricted caller
	// filter on them. A deletion carries the patients of the version it
	// deletes.
	Patients []string
}

// Identifier is a FHIR Identifier's system and value.
type Identifier struct {
	System string
	Value  string
}

// CondKind selects the index a condition reads.
type CondKind int

// Condition kinds.
const (
	CondString CondKind = iota + 1
	CondToken
	CondDate
	CondReference
	CondNumber
	CondURI
	CondID
	CondLastUpdated
	// CondComposite matches a composite parameter through Cond.Composite.
	CondComposite
)

// StringMode is the matching rule of a string condition.
type StringMode int

// String match modes.
const (
	StringPrefix StringMode = iota
	StringExact
	StringContains
)

// Cond is one search condition on one index. Which fields matter depends on
// Kind.
type Cond struct {
	Kind  CondKind
	Param string
	// Not inverts the condition (the ne prefix, the :not modifier).
	Not bool

	// CondString: Text is folded for StringPrefix and StringContains and
	// compared with the stored exact value for StringExact.
	Text string
	Mode StringMode

	// CondToken: System nil matches any system, a pointer to "" matches
	// codes without a system. Code "" matches any code of the system.
	// CondNumber uses System and Code for quantity units.
	System *string
	Code   string

	// CondDate and CondLastUpdated: the search value as [Lo, Hi) in
	// microseconds since the Unix epoch, and its prefix (eq, ne, lt, le,
	// gt, ge, sa, eb).
	Prefix string
	Lo, Hi int64

	// CondNumber: the search value's precision range [NumLo, NumHi) and
	// the value itself.
	Num          float64
	NumLo, NumHi float64

	// CondReference: RefType may be "" for any type. URL matches the
	// reference as written instead when set.
	RefType, RefID string
	URL            string

	// CondID: any of IDs.
	IDs []string

	// Missing, when set, replaces the value test: true matches resources
	// with no index row for Param, false those with at least one.
	Missing *bool
	// TokenText matches CondToken on the folded display text by prefix
	// (the :text modifier); Text holds the folded value.
	TokenText bool
	// URIMode is the comparison of CondURI: URIExact, URIBelow (the stored URI
	// starts with Text) or URIAbove (Text starts with the stored URI).
	URIMode URIMode
	// Chain makes a CondReference match references to resources of
	// Chain.Type for which Chain.Where holds (a chained parameter).
	Chain *Nested
	// Composite holds one condition per component of a CondComposite, in
	// the order of the parameter's components. All of them must hold for
	// the same element, indexed under searchparam.CompositeParam names.
	Composite []Cond
	// Has makes the condition match resources that a resource of Has.Type
	// references through parameter Param and for which Has.Where holds
	// (the _has parameter). Kind is ignored.
	Has *Nested
}

// Nested is the inner search of a chained or reverse-chained condition.
type Nested struct {
	Type  string
	Where Clause
}

// URIMode selects how a uri condition compares.
type URIMode int

// URI comparison modes.
const (
	URIExact URIMode = iota
	URIBelow
	URIAbove
)

// Clause is a set of conditions of which at least one must hold.
type Clause []Cond

// Query is a compiled search over one resource type.
type Query struct {
	Type string
	// Where is the list of clauses that must all be true.
	Where []Clause
	// After is the paging cursor: the row key of the last row of the
	// previous page, 0 for the first page. An unsorted query returns the
	// rows with a greater row key, in row key order.
	After int64
	// AfterValues are the sort key values of that last row, one per Sort
	// key, for a sorted query with After set. The query returns the rows
	// that sort after it, so rows inserted or deleted before the cursor
	// between pages shift nothing.
	AfterValues []SortValue
	// Count is the page size.
	Count int
	// Total requests the number of all matches.
	Total bool
	// CountOnly returns Total and no resources.
	CountOnly bool
	// Sort orders the results by these keys, then by row key.
	Sort []SortKey
}

// SortKey is one key of a sorted search. Kind selects the index the value
// comes from; CondID and CondLastUpdated sort by the resource's own id and
// time. A resource with several values for the key sorts by its smallest
// value ascending and by its largest descending (for dates, the start of
// the earliest and the end of the latest range). A resource with no value
// for the key sorts last in both directions.
type SortKey struct {
	Kind  CondKind
	Param string
	Desc  bool
}

// SortValue is one row's value for one sort key. Null marks a row with no
// value for the key. Otherwise the key's Kind selects the field: Int for
// CondDate and CondLastUpdated (microseconds since the Unix epoch), Number
// for CondNumber, and Text for the other kinds.
type SortValue struct {
	Null   bool
	Text   string
	Int    int64
	Number float64
}

// Page is one page of search results.
type Page struct {
	Resources []Resource
	// Next is the row key of this page's last row when more rows follow,
	// 0 on the last page. It is the After of the next page.
	Next int64
	// NextValues are the sort key values of that row for a sorted query,
	// the AfterValues of the next page.
	NextValues []SortValue
	// Total is the number of all matches when the query asked for it,
	// else -1.
	Total int
}

// HistoryQuery selects versions for a history interaction. Type and ID may
// be empty for type-level and system-level history. Versions come newest
// first.
type HistoryQuery struct {
	Type string
	ID   string
	// Since keeps versions made at or after this time when not zero.
	Since time.Time
	// Before is the paging cursor: only versions with a smaller sequence
	// number, 0 for the first page.
	Before int64
	Count  int
}

// HistoryPage is one page of versions, newest first.
type HistoryPage struct {
	Versions []Resource
	// Next is the cursor of the next page, 0 when this is the last.
	Next int64
}

// Event is a domain event in the transactional outbox.
type Event struct {
	// Position orders events; subscribers read from a position onwards.
	Position int64
	Topic    string
	Type     string
	ID       string
	Version  int64
	Author   string
	Time     time.Time
	// Data is a JSON object with event details (never patient values).
	Data json.RawMessage
}

// Store persists resource versions, search index rows and outbox events. It
// only accesses data: validation, indexing and the rules of the clinical
// record live in Service. Implementations are safe for concurrent use.
//
// Every read method of Store and Tx (Read, ReadVersion, History, Search,
// MatchCandidates) applies AccessFromContext(ctx) inside its query. A
// resource the Access hides is left out of results, and a read of one by
// id returns ErrNotFound as if it did not exist. Current versions are
// visible through their reference index rows, and other versions through
// the Put.Patients stored with them. Events, Tx.HasContent and
// Tx.NextValue are not restricted.
type Store interface {
	// Read returns the current version, which may be a deletion.
	Read(ctx context.Context, typ, id string) (*Resource, error)
	// ReadVersion returns one version of a resource.
	ReadVersion(ctx context.Context, typ, id string, version int64) (*Resource, error)
	History(ctx context.Context, q HistoryQuery) (*HistoryPage, error)
	Search(ctx context.Context, q Query) (*Page, error)
	// MatchCandidates returns ids of current patients sharing at least one
	// blocking key, those sharing most keys first.
	MatchCandidates(ctx context.Context, keys []string, limit int) ([]string, error)
	// Events returns outbox events after position, oldest first.
	Events(ctx context.Context, after int64, limit int) ([]Event, error)
	// InTx runs fn in one write transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	Close() error
}

// Tx is the write side of a Store within one transaction.
type Tx interface {
	// Read returns the current version of a resource, locked against
	// other writers until the transaction ends.
	Read(ctx context.Context, typ, id string) (*Resource, error)
	// ReadVersion returns one version, including versions written
	// earlier in this transaction.
	ReadVersion(ctx context.Context, typ, id string, version int64) (*Resource, error)
	// HasContent reports whether any version of the resource has the
	// given content hash.
	HasContent(ctx context.Context, typ, id, hash string) (bool, error)
	// Put stores a new version and makes it current.
	Put(ctx context.Context, p Put) error
	Search(ctx context.Context, q Query) (*Page, error)
	MatchCandidates(ctx context.Context, keys []string, limit int) ([]string, error)
	// Lock takes a lock on name held until the transaction ends, to
	// serialise check-then-write steps such as conditional creates.
	Lock(ctx context.Context, name string) error
	// NextValue increments and returns the named counter.
	NextValue(ctx context.Context, sequence string) (int64, error)
	// Emit appends an event to the outbox.
	Emit(ctx context.Context, e Event) error
}

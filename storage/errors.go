package storage

import (
	"errors"
	"strings"

	"github.com/lib/pq"
)

// ErrorKind is the kind of a database error that a store may turn into one
// of its domain's sentinel errors.
type ErrorKind int

// Database error kinds.
const (
	// ErrorOther is any error of no kind below.
	ErrorOther ErrorKind = iota
	// ErrorUnique is a unique or primary key violation.
	ErrorUnique
	// ErrorForeignKey is a foreign key violation.
	ErrorForeignKey
	// ErrorCheck is a CHECK constraint violation.
	ErrorCheck
	// ErrorTransient is a PostgreSQL deadlock or serialisation failure,
	// which a fresh attempt of the transaction may not meet.
	ErrorTransient
	// ErrorLocked is an SQLite database still locked by another writer
	// after the busy timeout.
	ErrorLocked
	// ErrorEncoding is text the database cannot store, such as invalid
	// UTF-8 or a NUL byte on PostgreSQL.
	ErrorEncoding
)

// Classify returns the kind of a PostgreSQL (lib/pq) or SQLite
// (modernc.org/sqlite) error, and a short label for messages that holds no
// data: the PostgreSQL condition name or the SQLite constraint type.
func Classify(err error) (ErrorKind, string) {
	if err == nil {
		return ErrorOther, ""
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		name := pqErr.Code.Name()
		switch pqErr.Code {
		case "23505":
			return ErrorUnique, name
		case "23503":
			return ErrorForeignKey, name
		case "23514":
			return ErrorCheck, name
		case "40001", "40P01":
			return ErrorTransient, name
		case "22021", "22P05":
			return ErrorEncoding, name
		}
		return ErrorOther, name
	}
	// modernc.org/sqlite reports constraint failures only in its message.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "constraint failed: UNIQUE"):
		return ErrorUnique, "unique constraint"
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return ErrorForeignKey, "foreign key constraint"
	case strings.Contains(msg, "CHECK constraint failed"):
		return ErrorCheck, "check constraint"
	case strings.Contains(msg, "database is locked"), strings.Contains(msg, "SQLITE_BUSY"):
		return ErrorLocked, "database is locked"
	}
	return ErrorOther, ""
}

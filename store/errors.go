package store

import "errors"

// Sentinel errors, wrapped with %w where context helps; test with errors.Is.
var (
	// ErrClosed is returned by calls made after Close, and passed to the
	// callbacks of appends made after Close.
	ErrClosed = errors.New("store: closed")

	// ErrNotFound is returned by GetDef for a key that is not stored.
	ErrNotFound = errors.New("store: not found")

	// ErrInvalidKind is returned for a Kind that is not one of the Kind
	// constants; the store refuses it rather than writing keys it cannot
	// recover.
	ErrInvalidKind = errors.New("store: invalid kind")

	// ErrBadgerReported fails a group commit during which Badger logged an
	// error. Badger logs some I/O failures instead of returning them (see the
	// package documentation), so an error in the log is treated as a failed
	// write: the callbacks see a failure that may not have happened rather than
	// a success that did not.
	ErrBadgerReported = errors.New("store: badger reported an error during the write (see the log)")

	// ErrCorrupt is returned when a stored key or value cannot be decoded or
	// read back.
	ErrCorrupt = errors.New("store: corrupt data")
)

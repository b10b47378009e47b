package store

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// PutDef stores value as the definition (k, key) and returns once it is
// durable. key is the list of name components (see Kind); any UTF-8, including
// empty strings, is allowed in each. The store does not keep value after
// PutDef returns.
func (s *Store) PutDef(k Kind, key []string, value []byte) error {
	if err := k.check(); err != nil {
		return err
	}
	return s.do(op{kind: opSet, key: appendDefKey(nil, k, key), val: value})
}

// DeleteDef deletes the definition (k, key), if it exists, and returns once
// that is durable.
func (s *Store) DeleteDef(k Kind, key []string) error {
	if err := k.check(); err != nil {
		return err
	}
	return s.do(op{kind: opDelete, key: appendDefKey(nil, k, key)})
}

// DeleteDefsWithPrefix deletes every definition of kind k whose key starts
// with the components prefix (all of kind k if prefix is empty), and returns
// once that is durable. The prefix is of components, not of bytes: prefix
// {"/", "x"} deletes the bindings of source "x" in vhost "/" and leaves those
// of "x.y" alone.
func (s *Store) DeleteDefsWithPrefix(k Kind, prefix []string) error {
	if err := k.check(); err != nil {
		return err
	}
	p := appendDefPrefix(nil, k, prefix)
	return s.do(op{kind: opBarrier, fn: func() error { return s.deletePrefix(p) }})
}

// GetDef returns a copy of the definition (k, key), or ErrNotFound.
func (s *Store) GetDef(k Kind, key []string) ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	dk := appendDefKey(nil, k, key)
	var val []byte
	err := s.read(func(db *badger.DB) error {
		return db.View(func(txn *badger.Txn) error {
			item, err := txn.Get(dk)
			if errors.Is(err, badger.ErrKeyNotFound) {
				return ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("store: get %v %q: %w", k, key, err)
			}
			val, err = item.ValueCopy(nil)
			return err
		})
	})
	return val, err
}

// Defs calls fn for every definition of kind k. value is only valid during fn
// (like badger's Item.Value): copy it to keep it; key is fn's to keep. An
// error from fn stops the scan and is returned as it is. The order is stable
// but is not the order of names.
func (s *Store) Defs(k Kind, fn func(key []string, value []byte) error) error {
	return s.DefsWithPrefix(k, nil, fn)
}

// DefsWithPrefix is Defs restricted to the keys that start with the components
// prefix, e.g. the bindings of one vhost.
func (s *Store) DefsWithPrefix(k Kind, prefix []string, fn func(key []string, value []byte) error) error {
	if err := k.check(); err != nil {
		return err
	}
	p := appendDefPrefix(nil, k, prefix)
	return s.read(func(db *badger.DB) error {
		return db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
			defer it.Close()
			for it.Seek(p); it.ValidForPrefix(p); it.Next() {
				item := it.Item()
				_, comps, err := parseDefKey(item.Key())
				if err != nil {
					return err
				}
				if err := item.Value(func(v []byte) error { return fn(comps, v) }); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

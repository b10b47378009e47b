//go:build !linux

package store

// trimMappings is Linux-only (MADV_PAGEOUT); elsewhere the kernel decides.
func (s *Store) trimMappings() error { return nil }

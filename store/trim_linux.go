package store

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// madvPageout is MADV_PAGEOUT (Linux 5.4): reclaim the pages of a range.
const madvPageout = 21

// trimMappings asks the kernel to reclaim the pages of Badger's mapped
// files, except the value-log file being written. Badger v4 mmaps every
// value-log file and table, so every body ever written or read stays
// resident in the broker's RSS until memory pressure, which makes the RSS
// of a broker holding millions of messages look like the size of its data.
// Reclaimed pages are read back from the page cache or the disk when
// Badger touches them again.
//
// MADV_PAGEOUT, not MADV_DONTNEED: Badger may unmap a file between our
// reading /proc/self/maps and the call, and the runtime may reuse the
// range for heap memory; MADV_DONTNEED would zero it, MADV_PAGEOUT only
// pages out what can be (anonymous memory without swap stays).
func (s *Store) trimMappings() error {
	if s.absDir == "" {
		return nil
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	type region struct {
		start, end uintptr
		vlog       int // value-log file number, or -1 for a table
	}
	var regions []region
	newest := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || filepath.Dir(fields[5]) != s.absDir {
			continue
		}
		name := filepath.Base(fields[5])
		r := region{vlog: -1}
		switch {
		case strings.HasSuffix(name, ".vlog"):
			n, err := strconv.Atoi(strings.TrimSuffix(name, ".vlog"))
			if err != nil {
				continue
			}
			r.vlog, newest = n, max(newest, n)
		case !strings.HasSuffix(name, ".sst"):
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		r.start, r.end = uintptr(start), uintptr(end)
		regions = append(regions, r)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var errs []error
	for _, r := range regions {
		if r.vlog >= 0 && r.vlog == newest {
			continue // the file being appended to
		}
		_, _, e := syscall.Syscall(syscall.SYS_MADVISE, r.start, r.end-r.start, madvPageout)
		if e != 0 && e != syscall.ENOMEM && e != syscall.EINVAL {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

package store

import (
	"bytes"
	"testing"
)

// TestTrimKeepsData: handing mapped pages back to the kernel loses
// nothing; every record reads back intact afterwards.
func TestTrimKeepsData(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir).WithValueLogFileSize(1<<20).WithTrim(0))
	rec := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 4096) }
	for i := range 1000 { // 4 MB over several 1 MB value-log files
		appendSync(t, s, 1, uint64(i), rec(i))
	}
	if err := s.trimMappings(); err != nil {
		t.Fatalf("trim: %v", err)
	}
	n := 0
	if err := s.Messages(1, func(seq uint64, got []byte) error {
		if !bytes.Equal(got, rec(int(seq))) {
			t.Fatalf("record %d changed after trim", seq)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1000 {
		t.Fatalf("read %d records after trim, want 1000", n)
	}
}

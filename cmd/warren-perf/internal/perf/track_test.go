package perf

import "testing"

func record(s *Stream, seqs ...uint64) {
	for _, q := range seqs {
		s.Record(q)
	}
}

func TestStreamInOrder(t *testing.T) {
	var s Stream
	for i := range uint64(1000) {
		s.Record(i)
	}
	if s.Next != 1000 || s.Distinct != 1000 || s.Dups != 0 || s.Reordered != 0 || s.Holes() != 0 {
		t.Fatalf("%+v", s)
	}
	if m := s.Missing(1000, nil); m != 0 {
		t.Fatalf("missing %d", m)
	}
	if m := s.Missing(1010, nil); m != 10 {
		t.Fatalf("tail: missing %d, want 10", m)
	}
}

func TestStreamLossDupReorder(t *testing.T) {
	var s Stream
	record(&s, 0, 1, 5, 6, 3, 3, 6, 9)
	// Holes now: 2, 4, 7, 8. 3 came late (reordered); 3 and 6 twice (dups).
	if s.Reordered != 1 || s.Dups != 2 || s.Distinct != 6 || s.Received != 8 {
		t.Fatalf("reordered %d dups %d distinct %d received %d", s.Reordered, s.Dups, s.Distinct, s.Received)
	}
	if h := s.Holes(); h != 4 {
		t.Fatalf("holes %d, want 4", h)
	}
	if m := s.Missing(12, nil); m != 6 { // 2, 4, 7, 8, 10, 11
		t.Fatalf("missing %d, want 6", m)
	}
	if m := s.Missing(12, []uint64{4, 8, 11}); m != 3 { // nacked ones are excused
		t.Fatalf("missing with excuses %d, want 3", m)
	}
	if m := s.Missing(5, nil); m != 2 { // only 0…4 expected: 2 and 4
		t.Fatalf("missing below 5: %d, want 2", m)
	}
	// Fill every hole, splitting one in the middle first.
	record(&s, 8, 7, 2, 4, 10, 11)
	if s.Holes() != 0 || s.Missing(12, nil) != 0 || s.Reordered != 5 {
		t.Fatalf("after filling: holes %d missing %d reordered %d", s.Holes(), s.Missing(12, nil), s.Reordered)
	}
}

func TestStreamSplitHole(t *testing.T) {
	var s Stream
	record(&s, 0, 10, 5, 3, 7)
	if h := s.Holes(); h != 6 { // 1 2 4 6 8 9
		t.Fatalf("holes %d, want 6", h)
	}
	record(&s, 1, 2, 4, 6, 8, 9)
	if s.Holes() != 0 || s.Dups != 0 {
		t.Fatalf("holes %d dups %d", s.Holes(), s.Dups)
	}
	record(&s, 4)
	if s.Dups != 1 {
		t.Fatalf("dups %d, want 1", s.Dups)
	}
}

func TestStreamHoleBound(t *testing.T) {
	var s Stream
	for i := range uint64(maxHoles + 10) {
		s.Record(2 * i) // every odd sequence is missing
	}
	if len(s.holes) > maxHoles {
		t.Fatalf("%d holes kept, bound is %d", len(s.holes), maxHoles)
	}
	if h := s.Holes(); h != maxHoles+9 {
		t.Fatalf("holes %d, want %d (dropped ones still count)", h, maxHoles+9)
	}
}

func TestQueueTracker(t *testing.T) {
	tr := NewQueueTracker("q")
	tr.Record(Stamp{Seq: 0, Producer: 3})
	tr.Record(Stamp{Seq: 1, Producer: 3})
	tr.Record(Stamp{Seq: 0, Producer: 0})
	tr.RecordForeign()
	streams, foreign := tr.Snapshot()
	if len(streams) != 4 || streams[3].Distinct != 2 || streams[0].Distinct != 1 || foreign != 1 {
		t.Fatalf("streams %+v foreign %d", streams, foreign)
	}
	if tr.Distinct(3) != 2 || tr.Distinct(9) != 0 {
		t.Fatal("Distinct")
	}
}

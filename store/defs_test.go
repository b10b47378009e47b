package store

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

// defNames lists the keys of kind k under prefix, joined for comparison.
func defNames(t *testing.T, s *Store, k Kind, prefix []string) []string {
	t.Helper()
	var got []string
	err := s.DefsWithPrefix(k, prefix, func(key []string, value []byte) error {
		got = append(got, fmt.Sprintf("%q=%s", key, value))
		return nil
	})
	if err != nil {
		t.Fatalf("DefsWithPrefix(%v, %q): %v", k, prefix, err)
	}
	sort.Strings(got)
	return got
}

func TestDefsPutGetDelete(t *testing.T) {
	s := memStore(t)
	if _, err := s.GetDef(KindQueue, []string{"/", "q"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetDef of a missing key: %v", err)
	}
	must(t, s.PutDef(KindQueue, []string{"/", "q"}, []byte("v1")))
	must(t, s.PutDef(KindQueue, []string{"/", "q"}, []byte("v2")))   // replaces
	must(t, s.PutDef(KindExchange, []string{"/", "q"}, []byte("x"))) // another kind, same names
	got, err := s.GetDef(KindQueue, []string{"/", "q"})
	if err != nil || string(got) != "v2" {
		t.Fatalf("GetDef = %q, %v", got, err)
	}
	must(t, s.DeleteDef(KindQueue, []string{"/", "q"}))
	must(t, s.DeleteDef(KindQueue, []string{"/", "never-there"}))
	if _, err := s.GetDef(KindQueue, []string{"/", "q"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetDef after DeleteDef: %v", err)
	}
	if got, err := s.GetDef(KindExchange, []string{"/", "q"}); err != nil || string(got) != "x" {
		t.Fatalf("exchange with the same name: %q, %v", got, err)
	}
}

func TestDefsNamesThatCollideWhenJoined(t *testing.T) {
	s := memStore(t)
	for i, key := range keyLists {
		must(t, s.PutDef(KindBinding, key, fmt.Appendf(nil, "%d", i)))
	}
	seen := map[string]bool{}
	err := s.Defs(KindBinding, func(key []string, value []byte) error {
		i := 0
		fmt.Sscanf(string(value), "%d", &i)
		if !slices.Equal(key, keyLists[i]) {
			t.Errorf("key %q holds the value of %q", key, keyLists[i])
		}
		seen[string(value)] = true
		return nil
	})
	must(t, err)
	if len(seen) != len(keyLists) {
		t.Errorf("Defs saw %d definitions, want %d", len(seen), len(keyLists))
	}
	if n := len(defNames(t, s, KindVHost, nil)); n != 0 {
		t.Errorf("another kind sees %d definitions", n)
	}
}

func TestDefsPrefixScansStayInside(t *testing.T) {
	s := memStore(t)
	for _, b := range [][]string{
		{"/", "x", "queue", "q1", "rk"},
		{"/", "x", "queue", "q2", "rk"},
		{"/", "x.y", "queue", "q1", "rk"},
		{"/", "", "queue", "q1", "rk"},
		{"/a", "x", "queue", "q1", "rk"},
		{"/a/x", "queue", "q1", "rk"},
		{"", "x", "queue", "q1", "rk"},
	} {
		must(t, s.PutDef(KindBinding, b, []byte(strings.Join(b, "|"))))
	}
	want := []string{
		`["/" "x" "queue" "q1" "rk"]=/|x|queue|q1|rk`,
		`["/" "x" "queue" "q2" "rk"]=/|x|queue|q2|rk`,
	}
	if got := defNames(t, s, KindBinding, []string{"/", "x"}); !slices.Equal(got, want) {
		t.Errorf("bindings of source x in vhost /:\n got %q\nwant %q", got, want)
	}
	if got := defNames(t, s, KindBinding, []string{"/"}); len(got) != 4 {
		t.Errorf("bindings of vhost /: %q", got)
	}
	if got := defNames(t, s, KindBinding, []string{""}); len(got) != 1 {
		t.Errorf("bindings of vhost \"\": %q", got)
	}

	must(t, s.DeleteDefsWithPrefix(KindBinding, []string{"/", "x"}))
	if got := defNames(t, s, KindBinding, []string{"/"}); len(got) != 2 {
		t.Errorf("after deleting source x: %q", got)
	}
	must(t, s.DeleteDefsWithPrefix(KindBinding, []string{"/"}))
	want = []string{
		`["" "x" "queue" "q1" "rk"]=|x|queue|q1|rk`,
		`["/a" "x" "queue" "q1" "rk"]=/a|x|queue|q1|rk`,
		`["/a/x" "queue" "q1" "rk"]=/a/x|queue|q1|rk`,
	}
	if got := defNames(t, s, KindBinding, nil); !slices.Equal(got, want) {
		t.Errorf("after deleting vhost /:\n got %q\nwant %q", got, want)
	}
	must(t, s.DeleteDefsWithPrefix(KindBinding, nil))
	if got := defNames(t, s, KindBinding, nil); len(got) != 0 {
		t.Errorf("after deleting all: %q", got)
	}
}

func TestDefsInvalidKind(t *testing.T) {
	s := memStore(t)
	for _, k := range []Kind{0, kindEnd, 200} {
		if err := s.PutDef(k, []string{"a"}, nil); !errors.Is(err, ErrInvalidKind) {
			t.Errorf("PutDef(%v): %v", k, err)
		}
		if err := s.DeleteDef(k, []string{"a"}); !errors.Is(err, ErrInvalidKind) {
			t.Errorf("DeleteDef(%v): %v", k, err)
		}
		if err := s.DeleteDefsWithPrefix(k, nil); !errors.Is(err, ErrInvalidKind) {
			t.Errorf("DeleteDefsWithPrefix(%v): %v", k, err)
		}
		if _, err := s.GetDef(k, nil); !errors.Is(err, ErrInvalidKind) {
			t.Errorf("GetDef(%v): %v", k, err)
		}
		if err := s.Defs(k, nil); !errors.Is(err, ErrInvalidKind) {
			t.Errorf("Defs(%v): %v", k, err)
		}
	}
}

func TestDefsCallbackErrorStopsScan(t *testing.T) {
	s := memStore(t)
	must(t, s.PutDef(KindUser, []string{"a"}, nil))
	must(t, s.PutDef(KindUser, []string{"b"}, nil))
	stop := errors.New("stop")
	n := 0
	err := s.Defs(KindUser, func([]string, []byte) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("Defs returned %v after %d calls", err, n)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

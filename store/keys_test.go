package store

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// keyLists holds component lists chosen to collide under naive encodings:
// separators inside names, empty components, and lengths around the one-byte
// uvarint boundary.
var keyLists = [][]string{
	{},
	{""},
	{"", ""},
	{"", "", ""},
	{"/"},
	{"/", ""},
	{"/", "a/b"},
	{"/a", "b"},
	{"/a/b"},
	{"/", "a", "b"},
	{"a"},
	{"a", ""},
	{"ab"},
	{"a", "b"},
	{"a.b"},
	{"a", "b.c"},
	{"a.b", "c"},
	{"\x00"},
	{"\x00", ""},
	{"\x01"},
	{"\x01a"},
	{"\x02ab"},
	{strings.Repeat("x", 126)},
	{strings.Repeat("x", 127)},
	{strings.Repeat("x", 128)},
	{strings.Repeat("x", 127), ""},
	{strings.Repeat("x", 300)},
	{"héllo", "wörld"},
}

func TestDefKeysDistinctAndPrefixFree(t *testing.T) {
	for _, k1 := range []Kind{KindVHost, KindBinding} {
		for _, k2 := range []Kind{KindVHost, KindBinding} {
			for i, a := range keyLists {
				for j, b := range keyLists {
					if k1 == k2 && i == j {
						continue
					}
					ka, kb := appendDefKey(nil, k1, a), appendDefKey(nil, k2, b)
					if bytes.HasPrefix(kb, ka) {
						t.Errorf("key (%v, %q) = %x is a prefix of (%v, %q) = %x", k1, a, ka, k2, b, kb)
					}
				}
			}
		}
	}
}

func TestDefKeyRoundTrip(t *testing.T) {
	for _, comps := range keyLists {
		k, got, err := parseDefKey(appendDefKey(nil, KindQueue, comps))
		if err != nil || k != KindQueue || !slices.Equal(got, comps) {
			t.Errorf("parse(encode(%q)) = %v, %q, %v", comps, k, got, err)
		}
	}
}

// A component prefix P matches key K bytewise exactly when P's components are
// K's leading components: the property DeleteDefsWithPrefix relies on.
func TestDefPrefixMatchesLeadingComponentsOnly(t *testing.T) {
	for _, p := range keyLists {
		for _, k := range keyLists {
			want := len(p) <= len(k) && slices.Equal(k[:len(p)], p)
			got := bytes.HasPrefix(appendDefKey(nil, KindBinding, k), appendDefPrefix(nil, KindBinding, p))
			if got != want {
				t.Errorf("prefix %q of key %q: match %v, want %v", p, k, got, want)
			}
		}
	}
}

func TestParseDefKeyRejectsGarbage(t *testing.T) {
	for _, key := range [][]byte{
		nil,
		{nsDef},
		{nsDef, byte(KindQueue)},                // no terminator
		{nsDef, 0, 0},                           // invalid kind
		{nsDef, byte(kindEnd), 0},               // invalid kind
		{nsMsg, byte(KindQueue), 0},             // wrong namespace
		{nsDef, byte(KindQueue), 5, 'a', 0},     // component longer than the key
		{nsDef, byte(KindQueue), 2, 'a'},        // no terminator after a component
		{nsDef, byte(KindQueue), 0, 0},          // trailing bytes
		{nsDef, byte(KindQueue), 0x80, 0x80, 0}, // broken uvarint
	} {
		if _, _, err := parseDefKey(key); err == nil {
			t.Errorf("parseDefKey(%x) accepted", key)
		}
	}
}

func FuzzDefKey(f *testing.F) {
	f.Add("/", "a/b", "/a", "b")
	f.Add("", "", "", "x")
	f.Add("a", "", "a", "\x00")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		x, y := []string{a, b}, []string{c, d}
		kx, ky := appendDefKey(nil, KindBinding, x), appendDefKey(nil, KindBinding, y)
		if bytes.Equal(kx, ky) != slices.Equal(x, y) {
			t.Fatalf("%q and %q: keys equal %v", x, y, bytes.Equal(kx, ky))
		}
		for n := 0; n <= 2; n++ {
			want := slices.Equal(x[:n], y[:n])
			if got := bytes.HasPrefix(ky, appendDefPrefix(nil, KindBinding, x[:n])); got != want {
				t.Fatalf("prefix %q of %q: %v, want %v", x[:n], y, got, want)
			}
		}
		if _, got, err := parseDefKey(kx); err != nil || !slices.Equal(got, x) {
			t.Fatalf("round trip %q: %q, %v", x, got, err)
		}
	})
}

func TestMsgKeysSortInQueueOrder(t *testing.T) {
	ids := []msgID{{0, 0}, {0, 1}, {0, 255}, {0, 256}, {0, 1 << 32}, {1, 0}, {1, 1}, {255, 7}, {256, 0}, {1<<64 - 1, 1<<64 - 1}}
	var prev []byte
	for _, id := range ids {
		k := appendMsgKey(nil, id.qid, id.seq)
		if len(k) != msgKeyLen {
			t.Fatalf("len %d", len(k))
		}
		if prev != nil && bytes.Compare(prev, k) >= 0 {
			t.Errorf("key of %v does not sort after the previous one", id)
		}
		if q, s, err := parseMsgKey(k); err != nil || q != id.qid || s != id.seq {
			t.Errorf("parse %v: %d %d %v", id, q, s, err)
		}
		if !bytes.HasPrefix(k, appendMsgPrefix(nil, id.qid)) {
			t.Errorf("key of %v lacks its queue prefix", id)
		}
		prev = k
	}
	if bytes.HasPrefix(appendMsgKey(nil, 0x0100, 0), appendMsgPrefix(nil, 0x01)) {
		t.Error("queue 1's prefix matches queue 256")
	}
	if _, _, err := parseMsgKey(appendDefKey(nil, KindQueue, []string{"x"})); err == nil {
		t.Error("parseMsgKey accepted a definition key")
	}
}

func TestKindString(t *testing.T) {
	if KindBinding.String() != "binding" || Kind(0).String() != "Kind(0)" || Kind(99).String() != "Kind(99)" {
		t.Errorf("got %v %v %v", KindBinding, Kind(0), Kind(99))
	}
}

package exchange

import (
	"slices"
	"strings"
	"testing"
)

// FuzzTopic is a differential test of the topic exchange (trie, memoised
// walk, dedupe and cache, with binds and unbinds in between) against
// naiveMatch. The input is a program: each op binds, unbinds or routes,
// with patterns and keys drawn from the words a, b, *, # and "".
func FuzzTopic(f *testing.F) {
	f.Add([]byte{0, 2, 3, 3, 0, 2, 2, 0, 1})                      // bind "#.#"→0; route "a.b"
	f.Add([]byte{0, 2, 0, 2, 1, 0, 2, 2, 1, 1, 2, 2, 0, 1})       // bind "a.*"→1, "*.b"→1; route "a.b"
	f.Add([]byte{0, 1, 4, 0, 0, 1, 2, 1, 2, 0, 2, 2, 4, 4})       // bind ""→0, "*"→1; route "", "."
	f.Add([]byte{0, 3, 0, 3, 1, 2, 2, 3, 0, 1, 3, 0, 3, 1, 2, 2}) // bind, route, unbind, route
	f.Fuzz(func(t *testing.T, prog []byte) {
		var x Topic[int]
		x.cache.maxKeys, x.cache.maxSlots = 4, 48 // small, so eviction runs too
		type bound struct {
			pattern string
			dest    int
		}
		model := map[bound]bool{}
		in := fuzzInput{b: prog}
		for ops := 0; !in.done() && ops < 64; ops++ {
			op := in.next()
			switch op % 4 {
			case 0: // bind
				b := bound{in.words(), int(in.next() % 4)}
				if got := x.Bind(Binding[int]{Key: b.pattern, Dest: b.dest}); got == model[b] {
					t.Fatalf("Bind(%q, %d) = %v with model %v", b.pattern, b.dest, got, model[b])
				}
				model[b] = true
			case 1: // unbind
				b := bound{in.words(), int(in.next() % 4)}
				if got := x.Unbind(Binding[int]{Key: b.pattern, Dest: b.dest}); got != model[b] {
					t.Fatalf("Unbind(%q, %d) = %v with model %v", b.pattern, b.dest, got, model[b])
				}
				delete(model, b)
			default: // route, twice: a miss then (usually) a cache hit
				key := in.words()
				var want []int
				for b := range model {
					if naiveMatch(naiveSplit(b.pattern), naiveSplit(key)) && !slices.Contains(want, b.dest) {
						want = append(want, b.dest)
					}
				}
				slices.Sort(want)
				for pass := range 2 {
					got := x.Route(key, nil, nil)
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Fatalf("pass %d: Route(%q) = %v; want %v; bindings %v", pass, key, got, want, model)
					}
				}
			}
			if x.Len() != len(model) {
				t.Fatalf("Len = %d; model has %d", x.Len(), len(model))
			}
		}
	})
}

// fuzzInput reads a fuzz program; past its end it reads zeros.
type fuzzInput struct {
	b []byte
	i int
}

func (in *fuzzInput) done() bool { return in.i >= len(in.b) }

func (in *fuzzInput) next() byte {
	if in.done() {
		return 0
	}
	in.i++
	return in.b[in.i-1]
}

var fuzzWords = []string{"a", "b", "*", "#", ""}

// words reads a count (0 to 7) and that many words, joined by '.'.
func (in *fuzzInput) words() string {
	n := int(in.next() % 8)
	w := make([]string, n)
	for i := range w {
		w[i] = fuzzWords[int(in.next())%len(fuzzWords)]
	}
	return strings.Join(w, ".")
}

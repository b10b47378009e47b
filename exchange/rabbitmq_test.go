package exchange

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestTopicMatchesRabbitMQ replays routes computed by RabbitMQ 3.10.8's own
// trie code (testdata/rabbitmq-topic.escript): every pattern of up to three
// words from {a, b, *, #, ""} is bound, and every key of up to four words
// from {a, b, ""} must route to exactly the patterns RabbitMQ matched.
func TestTopicMatchesRabbitMQ(t *testing.T) {
	f, err := os.Open("testdata/rabbitmq-3.10.8-topic.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var x Topic[string]
	keys := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "%%") {
			continue
		}
		key, dests, found := strings.Cut(line, "\t")
		if !found { // the pattern line
			for _, p := range unbracket(line) {
				bind(t, &x, p, p, nil)
			}
			continue
		}
		keys++
		k := unbracket(key)[0]
		want := unbracket(dests)
		slices.Sort(want)
		for pass := range 2 {
			if got := route(t, &x, k, nil); !slices.Equal(got, sorted(want...)) {
				t.Errorf("pass %d: key %q: got %q; RabbitMQ %q", pass, k, got, want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if keys < 100 || x.Len() < 150 {
		t.Fatalf("read %d keys and %d patterns; the file is truncated", keys, x.Len())
	}
}

// unbracket splits "[a],[b.c],[]" into a, b.c and "".
func unbracket(s string) []string {
	if s == "" {
		return []string{}
	}
	parts := strings.Split(s, "],[")
	parts[0] = strings.TrimPrefix(parts[0], "[")
	parts[len(parts)-1] = strings.TrimSuffix(parts[len(parts)-1], "]")
	return parts
}

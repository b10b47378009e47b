package exchange

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// TestHeadersMatch is rabbit_exchange_type_headers:headers_match as a table.
// The cross-type and duplicate-key cases were run through RabbitMQ 3.10.8's
// own function by testdata/rabbitmq-headers.escript.
func TestHeadersMatch(t *testing.T) {
	cases := []struct {
		name    string
		args    amqp.Table // binding arguments
		yes, no []amqp.Table
	}{
		{"all by default", tbl("a", int32(1), "b", "x"),
			[]amqp.Table{tbl("a", int32(1), "b", "x"), tbl("b", "x", "c", "extra", "a", int32(1))},
			[]amqp.Table{nil, {}, tbl("a", int32(1)), tbl("a", int32(1), "b", "y"), tbl("c", "x")}},
		{"all explicit", tbl("x-match", "all", "a", int32(1)),
			[]amqp.Table{tbl("a", int32(1))}, []amqp.Table{nil, tbl("a", int32(2))}},
		{"any", tbl("x-match", "any", "a", int32(1), "b", "x"),
			[]amqp.Table{tbl("b", "x"), tbl("a", int32(1), "b", "no"), tbl("z", "z", "a", int32(1))},
			[]amqp.Table{nil, tbl("a", int32(2), "b", "y"), tbl("c", "x")}},
		{"all ignores x- args", tbl("x-match", "all", "x-foo", "bar", "a", int32(1)),
			[]amqp.Table{tbl("a", int32(1)), tbl("a", int32(1), "x-foo", "other")}, []amqp.Table{tbl("x-foo", "bar")}},
		{"any ignores x- args", tbl("x-match", "any", "x-foo", "bar", "a", int32(1)),
			[]amqp.Table{tbl("a", int32(1))}, []amqp.Table{tbl("x-foo", "bar")}},
		{"all-with-x compares x- args", tbl("x-match", "all-with-x", "x-foo", "bar", "a", int32(1)),
			[]amqp.Table{tbl("a", int32(1), "x-foo", "bar")}, []amqp.Table{tbl("a", int32(1)), tbl("x-foo", "bar")}},
		{"any-with-x compares x- args", tbl("x-match", "any-with-x", "x-foo", "bar"),
			[]amqp.Table{tbl("x-foo", "bar")}, []amqp.Table{nil, tbl("x-foo", "baz"), tbl("x-match", "any-with-x")}},
		{"x-match itself is never compared", tbl("x-match", "all-with-x"),
			[]amqp.Table{nil, tbl("x-match", "other")}, nil},
		{"empty all matches everything", nil,
			[]amqp.Table{nil, {}, tbl("a", int32(1))}, nil},
		{"empty any matches nothing", tbl("x-match", "any"),
			nil, []amqp.Table{nil, tbl("a", int32(1)), tbl("x-match", "any")}},
		{"only x- args under any match nothing", tbl("x-match", "any", "x-a", "1"),
			nil, []amqp.Table{tbl("x-a", "1")}},
		{"void is presence", tbl("a", nil),
			[]amqp.Table{tbl("a", "anything"), tbl("a", nil), tbl("a", int32(0))}, []amqp.Table{nil, tbl("b", nil)}},
		{"void under any", tbl("x-match", "any", "a", nil, "b", int32(1)),
			[]amqp.Table{tbl("a", false), tbl("b", int32(1))}, []amqp.Table{tbl("b", int32(2))}},
		{"void header is not a value", tbl("a", "x"),
			nil, []amqp.Table{tbl("a", nil)}},
		{"numbers compare across types", tbl("n", int32(1)),
			[]amqp.Table{tbl("n", int64(1)), tbl("n", uint8(1)), tbl("n", int8(1)), tbl("n", uint32(1)),
				tbl("n", 1.0), tbl("n", float32(1)), tbl("n", time.Unix(1, 0)), tbl("n", int(1))},
			[]amqp.Table{tbl("n", 1.5), tbl("n", "1"), tbl("n", true), tbl("n", amqp.Decimal{Value: 1}), tbl("n", int32(-1))}},
		{"float pattern", tbl("f", 2.5),
			[]amqp.Table{tbl("f", float32(2.5))}, []amqp.Table{tbl("f", int32(2)), tbl("f", 2.4999)}},
		{"timestamp is seconds", tbl("t", time.Unix(1700000000, 0)),
			[]amqp.Table{tbl("t", time.Unix(1700000000, 0)), tbl("t", int64(1700000000))}, []amqp.Table{tbl("t", time.Unix(1700000001, 0))}},
		{"large integers stay exact", tbl("n", int64(1<<53+1)),
			[]amqp.Table{tbl("n", int64(1<<53+1))}, []amqp.Table{tbl("n", float64(1<<53))}},
		{"longstr equals bytes", tbl("s", "abc"),
			[]amqp.Table{tbl("s", "abc"), tbl("s", []byte("abc"))}, []amqp.Table{tbl("s", "abd"), tbl("s", "ABC")}},
		{"bytes pattern", tbl("s", []byte{0, 1}),
			[]amqp.Table{tbl("s", []byte{0, 1}), tbl("s", "\x00\x01")}, []amqp.Table{tbl("s", []byte{0})}},
		{"bool", tbl("b", true),
			[]amqp.Table{tbl("b", true)}, []amqp.Table{tbl("b", false), tbl("b", int8(1)), tbl("b", "true")}},
		{"decimal", tbl("d", amqp.Decimal{Scale: 2, Value: 150}),
			[]amqp.Table{tbl("d", amqp.Decimal{Scale: 2, Value: 150})},
			[]amqp.Table{tbl("d", amqp.Decimal{Scale: 1, Value: 15}), tbl("d", 1.5)}},
		{"arrays hold typed elements", tbl("l", []any{int32(1), "a"}),
			[]amqp.Table{tbl("l", []any{int32(1), "a"})},
			[]amqp.Table{tbl("l", []any{int64(1), "a"}), tbl("l", []any{int32(1), []byte("a")}), tbl("l", []any{int32(1)})}},
		{"nested tables compare in order", tbl("t", tbl("a", int32(1), "b", int32(2))),
			[]amqp.Table{tbl("t", tbl("a", int32(1), "b", int32(2)))},
			[]amqp.Table{tbl("t", tbl("b", int32(2), "a", int32(1))), tbl("t", tbl("a", int64(1), "b", int32(2)))}},
		{"unsorted headers", tbl("m", int32(2), "a", int32(1)),
			[]amqp.Table{tbl("z", int32(0), "m", int32(2), "b", int32(0), "a", int32(1))}, nil},
		{"duplicate header keys pair in order", tbl("a", int32(1)),
			[]amqp.Table{tbl("a", int32(1), "a", int32(2))}, []amqp.Table{tbl("a", int32(2), "a", int32(1))}},
		{"unknown x-match is all", tbl("x-match", "bogus", "a", int32(1), "b", int32(2)),
			[]amqp.Table{tbl("a", int32(1), "b", int32(2))}, []amqp.Table{tbl("a", int32(1))}},
		{"bytes x-match is all", tbl("x-match", []byte("any"), "a", int32(1), "b", int32(2)),
			[]amqp.Table{tbl("a", int32(1), "b", int32(2))}, []amqp.Table{tbl("a", int32(1))}},
		{"many headers", tbl("h03", "v03", "h17", "v17"),
			[]amqp.Table{manyHeaders(20)}, []amqp.Table{manyHeaders(10)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var x Headers[string]
			bind(t, &x, "q", "ignored", c.args)
			for _, h := range c.yes {
				if got := route(t, &x, "any-key", h); !slices.Equal(got, []string{"q"}) {
					t.Errorf("headers %v: no match", h)
				}
			}
			for _, h := range c.no {
				if got := route(t, &x, "any-key", h); len(got) != 0 {
					t.Errorf("headers %v: matched", h)
				}
			}
		})
	}
}

// manyHeaders is n headers hNN = "vNN", in reverse order.
func manyHeaders(n int) amqp.Table {
	var t amqp.Table
	for i := n - 1; i >= 0; i-- {
		t = append(t, amqp.Field{Key: fmt.Sprintf("h%02d", i), Value: fmt.Sprintf("v%02d", i)})
	}
	return t
}

func TestHeadersRoute(t *testing.T) {
	var x Headers[string]
	bind(t, &x, "q1", "", tbl("x-match", "any", "color", "red", "size", "L"))
	bind(t, &x, "q1", "", tbl("color", "red")) // a second binding of q1
	bind(t, &x, "q2", "", tbl("color", "red", "size", "L"))
	bind(t, &x, "q3", "", tbl("x-match", "any", "size", "S"))
	cases := []struct {
		headers amqp.Table
		want    []string
	}{
		{tbl("color", "red"), []string{"q1"}},
		{tbl("color", "red", "size", "L"), []string{"q1", "q2"}},
		{tbl("size", "S"), []string{"q3"}},
		{tbl("size", "L"), []string{"q1"}},
		{nil, nil},
	}
	for _, c := range cases {
		if got := route(t, &x, "", c.headers); !slices.Equal(got, sorted(c.want...)) {
			t.Errorf("Route(%v) = %q; want %q", c.headers, got, c.want)
		}
	}
	if x.Unbind(Binding[string]{Dest: "q2", Args: tbl("x-match", "any", "color", "red", "size", "L")}) {
		t.Fatal("Unbind of q1's args for q2 = true")
	}
	if !x.Unbind(Binding[string]{Dest: "q1", Args: tbl("size", "L", "color", "red", "x-match", "any")}) {
		t.Fatal("Unbind with reordered args = false")
	}
	if got := route(t, &x, "", tbl("size", "L")); len(got) != 0 {
		t.Fatalf("after Unbind: Route = %q", got)
	}
	if got := route(t, &x, "", tbl("color", "red")); !slices.Equal(got, []string{"q1"}) {
		t.Fatalf("q1's other binding: Route = %q", got)
	}
}

package exchange

import (
	"slices"
	"strings"

	"github.com/warrenmq/warren/amqp"
)

// matchMode is the x-match argument of a headers binding.
type matchMode uint8

const (
	matchAll      matchMode = iota // every pattern field must match; the default
	matchAny                       // at least one pattern field must match
	matchAllWithX                  // as all, but x- fields are compared too
	matchAnyWithX                  // as any, but x- fields are compared too
)

// parseMatchMode reads x-match as rabbit_exchange_type_headers'
// parse_x_match does: a longstr naming a mode, anything else (absent,
// another type, an unknown value that slipped past validation) is "all".
func parseMatchMode(args amqp.Table) matchMode {
	v, _ := args.Get("x-match")
	s, _ := v.(string)
	switch s {
	case "any":
		return matchAny
	case "all-with-x":
		return matchAllWithX
	case "any-with-x":
		return matchAnyWithX
	}
	return matchAll
}

// headerPattern is the part of sorted binding arguments that matching
// compares: x-match is always dropped, other x- fields unless the mode is
// a -with-x one. Filtering first is what RabbitMQ's walk does when it skips
// those fields without touching the message headers.
func headerPattern(sorted amqp.Table, mode matchMode) amqp.Table {
	withX := mode == matchAllWithX || mode == matchAnyWithX
	var out amqp.Table
	for _, f := range sorted {
		if f.Key == "x-match" || (!withX && strings.HasPrefix(f.Key, "x-")) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// headersMatch is rabbit_exchange_type_headers:headers_match/5: a merge of
// the pattern and the message headers, both sorted by key (headers through
// idx, stably, so duplicate keys pair up in order).
//   - A pattern field whose key the headers lack fails "all".
//   - A void (nil) pattern value matches on the key's presence alone.
//   - Otherwise the values compare by Erlang == (headerValueEqual).
//
// "all" starts true and "any" false, so a binding with no pattern fields
// matches every message under "all" and none under "any".
//
// This is the algorithm of RabbitMQ up to 3.12, checked against 3.10.8 (the
// reference broker of the conformance suite) with
// testdata/rabbitmq-headers.escript. RabbitMQ 3.13 rewrote it over a map of
// the headers compared with =:=, so there 1 and 1.0 differ, 1 and a
// timestamp differ, and a repeated header key's last value counts.
func headersMatch(pattern amqp.Table, mode matchMode, headers amqp.Table, idx []int) bool {
	all := mode == matchAll || mode == matchAllWithX
	allMatch, anyMatch := true, false
	p, d := 0, 0
	for p < len(pattern) {
		if all && !allMatch {
			return false
		}
		if !all && anyMatch {
			return true
		}
		if d == len(idx) {
			allMatch = false // pattern fields left, headers exhausted
			break
		}
		pf, df := &pattern[p], &headers[idx[d]]
		switch c := strings.Compare(pf.Key, df.Key); {
		case c > 0:
			d++ // a header the pattern does not mention
		case c < 0:
			allMatch = false // a pattern field the headers lack
			p++
		default:
			if pf.Value == nil || headerValueEqual(pf.Value, df.Value) {
				anyMatch = true
			} else {
				allMatch = false
			}
			p++
			d++
		}
	}
	if all {
		return allMatch
	}
	return anyMatch
}

// sortedIndex appends to idx the positions of h's fields, stably sorted by
// key, as rabbit_misc:sort_field_table sorts message headers. The table
// itself is the publisher's and is not reordered.
func sortedIndex(h amqp.Table, idx []int) []int {
	for i := range h {
		idx = append(idx, i)
	}
	if len(h) <= 16 {
		// insertion sort: stable, no allocation, fast for real header tables
		for i := 1; i < len(idx); i++ {
			for j := i; j > 0 && h[idx[j-1]].Key > h[idx[j]].Key; j-- {
				idx[j-1], idx[j] = idx[j], idx[j-1]
			}
		}
		return idx
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(h[a].Key, h[b].Key) })
	return idx
}

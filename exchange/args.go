package exchange

import (
	"slices"
	"strings"

	"github.com/warrenmq/warren/amqp"
)

// canonicalArgs returns a deep copy of binding arguments sorted by key,
// stably, as rabbit_misc:sort_field_table (lists:keysort) does before a
// binding is stored. Equal bindings then have field-by-field equal args.
// Empty args become nil, so that nil and an empty table are one binding.
func canonicalArgs(t amqp.Table) amqp.Table {
	if len(t) == 0 {
		return nil
	}
	out := cloneTable(t)
	slices.SortStableFunc(out, compareFieldKeys)
	return out
}

// sortedArgs is canonicalArgs without the deep copy, for a lookup that
// does not keep the table (Unbind).
func sortedArgs(t amqp.Table) amqp.Table {
	if len(t) == 0 {
		return nil
	}
	if slices.IsSortedFunc(t, compareFieldKeys) {
		return t
	}
	out := slices.Clone(t)
	slices.SortStableFunc(out, compareFieldKeys)
	return out
}

func compareFieldKeys(a, b amqp.Field) int { return strings.Compare(a.Key, b.Key) }

// ArgsEqual reports whether two binding argument tables are equal as
// RabbitMQ compares them to identify a binding: order-insensitive at the
// top level (duplicate keys keep their relative order), values equal in
// type and value (bytes for []byte, element by element for arrays and
// nested tables, nested tables in order). int and int64 are one type,
// because both are encoded as 'l'.
func ArgsEqual(a, b amqp.Table) bool {
	return sameFields(sortedArgs(a), sortedArgs(b))
}

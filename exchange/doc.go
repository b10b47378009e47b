// Package exchange holds the routing data structures of Warren's exchanges:
// given the bindings of one exchange and a message's routing key (and
// headers), it answers the set of destinations.
//
// It is pure data: no I/O and no goroutines. The destination type is a type
// parameter, so that this package knows nothing of queues and the broker can
// bind exchanges to queues and to other exchanges alike. Following
// exchange-to-exchange bindings (with loop protection) is the broker's job.
//
// Semantics follow RabbitMQ 3.x/4.x:
//
//   - A binding is identified by (destination, routing key, arguments), the
//     arguments compared order-insensitively at the top level and by type
//     and value, as rabbit_binding does after rabbit_misc:sort_field_table.
//   - direct routes on key equality, fanout to every destination, topic on
//     '.'-separated words with '*' (one word) and '#' (zero or more words),
//     headers on the binding arguments and x-match; x-consistent-hash (the
//     plugin's type) sends each message to one destination picked by a
//     hash, in proportion to the weights in the binding keys.
//   - Route returns each destination at most once, however many bindings
//     lead to it.
//
// Every router is safe for concurrent use: Route takes a read lock, so many
// publishers route at once, while Bind and Unbind take the write lock.
package exchange

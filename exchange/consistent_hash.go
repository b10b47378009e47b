package exchange

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/warrenmq/warren/amqp"
)

// KindConsistentHash is the exchange type of RabbitMQ's
// rabbitmq_consistent_hash_exchange plugin.
const KindConsistentHash = "x-consistent-hash"

// The exchange arguments of a consistent-hash exchange and the message
// properties hash-property may name, as the plugin spells them.
const (
	ArgHashHeader   = "hash-header"
	ArgHashProperty = "hash-property"

	PropertyMessageID     = "message_id"
	PropertyCorrelationID = "correlation_id"
	PropertyTimestamp     = "timestamp"
)

// InvalidArgumentError is an exchange argument that an exchange type
// refuses at exchange.declare. The broker answers it with 406
// PRECONDITION_FAILED and Text as the reply text, as the plugin's validate
// does with rabbit_misc:protocol_error(precondition_failed, ...).
type InvalidArgumentError struct {
	Text string // RabbitMQ's wording, without the reply-code prefix
}

func (e *InvalidArgumentError) Error() string { return "exchange: " + e.Text }

// ConsistentHash is the x-consistent-hash exchange: each message goes to
// exactly one destination (none if nothing is bound), chosen by a hash of
// its routing key, of the header named by the hash-header argument, or of
// the property named by hash-property. A binding's key is its weight, a
// positive integer as a string: a destination bound with "2" receives
// about twice the routing keys of one bound with "1". A destination bound
// several times weighs the sum of its bindings.
//
// # Hashing
//
// RabbitMQ's plugin (3.8 and later) numbers weight-many buckets per binding
// in binding order and picks one with jump consistent hashing of
// erlang:phash2 of the routing key. Its mapping therefore depends on the
// order the bindings were made in, which recovery after a restart does not
// keep, and removing a binding renumbers the buckets after it. Warren
// instead uses weighted rendezvous hashing, which needs neither: each
// destination d, with weight w and a 64-bit seed from its name, scores
// -ln(u)/w for u = mix(hash(value) ^ seed) mapped into (0, 1), and the
// lowest score wins. That is an exponential race, so d wins with
// probability exactly w/Σw; the result depends only on the set of
// (name, weight) pairs, so the same bindings route the same way in any
// order and after a restart; and adding or removing a destination moves
// only the keys that it wins or had won. The hashes are FNV-1a and
// splitmix64's finalizer, fixed here rather than Go's randomly seeded
// maphash, so that the mapping survives restarts and upgrades. It is not
// the plugin's mapping: the same key may pick another queue than on
// RabbitMQ, with the same proportions.
//
// Route costs one hash of the value plus, per destination, one mix (about
// 2 ns) when all weights are equal, or a mix and a logarithm (about 15 ns)
// otherwise: linear in the destinations, which suits the tens of queues
// such an exchange usually has.
//
// # What is hashed
//
// With no argument, the routing key. With hash-header, the value of that
// header, typed as RabbitMQ types it (the int32 5 and the int64 5 hash
// differently), and a fixed value when the header is absent, so that all
// such messages go to one destination, as the plugin's README says. With
// hash-property, Route hashes its key argument: the broker passes the
// property's value there instead of the routing key (HashProperty names
// it): message_id or correlation_id as is, timestamp as decimal seconds,
// the plugin's integer_to_binary; "" when the property is absent.
//
// The zero value is not usable: use NewConsistentHash.
type ConsistentHash[D comparable] struct {
	header   string // hash-header, or ""
	property string // hash-property, or ""
	name     func(D) string

	mu       sync.RWMutex
	bindings bindingSet[D]
	members  []chMember[D]
	index    map[D]int // destination → position in members
	// uniform: every member with a weight has the same one. The race is
	// then won by the largest u, and Route skips the logarithms; the
	// result is the same either way.
	uniform bool
}

// chMember is one destination on the ring, with the sum of its bindings'
// weights.
type chMember[D comparable] struct {
	dest   D
	seed   uint64
	weight int64
	inv    float64 // 1/weight
}

// NewConsistentHash returns an empty consistent-hash exchange for the
// exchange arguments args, or an *InvalidArgumentError for arguments the
// plugin's validate refuses: both hash-header and hash-property, or a
// hash-property that is not message_id, correlation_id or timestamp. A
// hash-header or hash-property that is not a string is refused too (the
// plugin crashes on it). Other arguments are ignored.
//
// name gives each destination its stable identity, from which its place
// in the hash space is derived: for a queue, its vhost-unique name; for an
// exchange, something that cannot collide with a queue's, such as a
// prefix. It must return the same string for a destination across
// restarts.
func NewConsistentHash[D comparable](args amqp.Table, name func(D) string) (*ConsistentHash[D], error) {
	if name == nil {
		return nil, &InvalidArgumentError{Text: "consistent-hash exchange needs destination names"}
	}
	x := &ConsistentHash[D]{name: name}
	for _, f := range []struct {
		key string
		dst *string
	}{{ArgHashHeader, &x.header}, {ArgHashProperty, &x.property}} {
		v, ok := args.Get(f.key)
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString {
			return nil, &InvalidArgumentError{Text: fmt.Sprintf(
				"Invalid %s field type %v (value %v); expected longstr", f.key, typeOf(v), v)}
		}
		*f.dst = s
	}
	if args.Has(ArgHashHeader) && args.Has(ArgHashProperty) {
		return nil, &InvalidArgumentError{Text: "hash-header and hash-property are mutually exclusive"}
	}
	switch x.property {
	case "", PropertyMessageID, PropertyCorrelationID, PropertyTimestamp:
	default:
		return nil, &InvalidArgumentError{Text: "Unsupported property: " + x.property}
	}
	return x, nil
}

// HashHeader is the hash-header argument, or "": when set, Route needs the
// message's headers (the broker decodes them as for a headers exchange).
func (x *ConsistentHash[D]) HashHeader() string { return x.header }

// HashProperty is the hash-property argument ("message_id",
// "correlation_id" or "timestamp"), or "": when set, the broker passes that
// property's value to Route as the key (see the type's documentation).
func (x *ConsistentHash[D]) HashProperty() string { return x.property }

// parseWeight is the plugin's validate_binding: list_to_integer of the
// key, at least 1.
func parseWeight(key string) (int64, error) {
	w, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return 0, &InvalidBindingError{Text: "The binding key must be an integer: " + erlangBinary(key)}
	}
	if w < 1 {
		return 0, &InvalidBindingError{Text: "The binding key must be greater than 0"}
	}
	return w, nil
}

// erlangBinary formats s as Erlang's ~p prints a binary, as the plugin's
// error text does: <<>>, <<"abc">> for printable ASCII (with \" and \\
// escaped), else the bytes, <<1,2,255>> (Erlang would quote some latin-1
// and escape some control characters; keys like that are rare enough).
func erlangBinary(s string) string {
	printable := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			printable = false
			break
		}
	}
	var b strings.Builder
	b.WriteString("<<")
	if printable && s != "" {
		b.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
	} else {
		for i := 0; i < len(s); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(int(s[i])))
		}
	}
	b.WriteString(">>")
	return b.String()
}

// Bind implements Router. A key that is not a valid weight (see
// ValidateBindingKey) is stored as a binding of weight 0, which routes
// nothing: the router accepts whatever recovery hands it.
func (x *ConsistentHash[D]) Bind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	added, _, _ := x.bindings.add(b)
	if added {
		x.reweigh(b.Dest, b.Key, +1)
	}
	return added
}

// Unbind implements Router.
func (x *ConsistentHash[D]) Unbind(b Binding[D]) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	removed, _, _ := x.bindings.remove(b)
	if removed {
		x.reweigh(b.Dest, b.Key, -1)
	}
	return removed
}

// UnbindDest implements Router.
func (x *ConsistentHash[D]) UnbindDest(d D) int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := x.bindings.removeDest(d, func(string) {})
	if n > 0 {
		x.removeMember(d)
	}
	return n
}

// reweigh adds (sign +1) or removes (-1) the weight of one binding of d.
func (x *ConsistentHash[D]) reweigh(d D, key string, sign int64) {
	w, err := parseWeight(key)
	if err != nil {
		w = 0
	}
	i, ok := x.index[d]
	if !ok {
		if x.index == nil {
			x.index = make(map[D]int)
		}
		i = len(x.members)
		x.index[d] = i
		x.members = append(x.members, chMember[D]{dest: d, seed: mix64(fnvString(fnvOffset, x.name(d)))})
	}
	m := &x.members[i]
	m.weight += sign * w
	if m.weight > 0 {
		m.inv = 1 / float64(m.weight)
	} else {
		m.inv = 0
	}
	if !x.bindings.hasDest(d) {
		x.removeMember(d)
	}
	x.uniform = true
	var w0 int64
	for i := range x.members {
		if w := x.members[i].weight; w > 0 {
			if w0 == 0 {
				w0 = w
			} else if w != w0 {
				x.uniform = false
			}
		}
	}
}

func (x *ConsistentHash[D]) removeMember(d D) {
	i, ok := x.index[d]
	if !ok {
		return
	}
	last := len(x.members) - 1
	if i != last {
		x.members[i] = x.members[last]
		x.index[x.members[i].dest] = i
	}
	x.members[last] = chMember[D]{}
	x.members = x.members[:last]
	delete(x.index, d)
	if len(x.members) == 0 {
		x.uniform = false
	}
}

// Route implements Router: it appends the one destination that the hashed
// value picks, or nothing when no binding has a positive weight. It does
// not allocate.
func (x *ConsistentHash[D]) Route(key string, headers amqp.Table, dst []D) []D {
	var h uint64
	if x.header != "" {
		h = hashHeader(headers, x.header)
	} else {
		h = fnvString(fnvOffset, key)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.uniform {
		return x.routeUniform(h, dst)
	}
	best, bestScore := -1, math.Inf(1)
	for i := range x.members {
		m := &x.members[i]
		if m.inv == 0 {
			continue
		}
		score := -math.Log(unit(mix64(h^m.seed))) * m.inv
		if best < 0 || score < bestScore || (score == bestScore && m.seed < x.members[best].seed) {
			best, bestScore = i, score
		}
	}
	if best >= 0 {
		dst = append(dst, x.members[best].dest)
	}
	return dst
}

// routeUniform is Route when all weights are equal: -ln(u)/w is smallest
// where u is largest, and u is monotonic in the top 53 bits of the mix.
func (x *ConsistentHash[D]) routeUniform(h uint64, dst []D) []D {
	best, bestZ := -1, uint64(0)
	for i := range x.members {
		m := &x.members[i]
		if m.inv == 0 {
			continue
		}
		z := mix64(h^m.seed) >> 11
		if best < 0 || z > bestZ || (z == bestZ && m.seed < x.members[best].seed) {
			best, bestZ = i, z
		}
	}
	if best >= 0 {
		dst = append(dst, x.members[best].dest)
	}
	return dst
}

// Bindings implements Router.
func (x *ConsistentHash[D]) Bindings() []Binding[D] {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.list()
}

// Len implements Router.
func (x *ConsistentHash[D]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.len()
}

// HasDest implements Router.
func (x *ConsistentHash[D]) HasDest(d D) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bindings.hasDest(d)
}

// Weights returns each destination's weight (the sum of its bindings'),
// for the management API's view of the ring.
func (x *ConsistentHash[D]) Weights() map[D]int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make(map[D]int64, len(x.members))
	for _, m := range x.members {
		out[m.dest] = m.weight
	}
	return out
}

// FNV-1a, 64 bits: a fixed, documented hash, the same on every platform
// and in every release.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func fnvByte(h uint64, c byte) uint64 { return (h ^ uint64(c)) * fnvPrime }

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func fnvUint64(h, v uint64) uint64 {
	for shift := 56; shift >= 0; shift -= 8 {
		h = fnvByte(h, byte(v>>shift))
	}
	return h
}

// mix64 is splitmix64's finalizer: it spreads FNV's weak low-order
// avalanche over all 64 bits, and decorrelates hash^seed across seeds.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// unit maps 64 random bits to a float64 in (0, 1), never 0 or 1.
func unit(z uint64) float64 {
	return (float64(z>>11) + 0.5) / (1 << 53)
}

// absentHeader is hashed for a message without the hash-header: all such
// messages pick the same destination.
const absentHeader = 0x9e3779b97f4a7c15

// hashHeader hashes the value of header name in headers, with its type,
// as the plugin hashes the {Type, Value} that rabbit_misc:table_lookup
// returns.
func hashHeader(headers amqp.Table, name string) uint64 {
	v, ok := headers.Get(name)
	if !ok {
		return absentHeader
	}
	return hashValue(fnvOffset, v)
}

// hashValue feeds a field value's type and a canonical encoding of its
// value into h, recursing into arrays and tables. Equal values of one type
// hash equally, whatever Go type the codec chose for them (int and int64
// are both 'l'); timestamps count in whole seconds, the wire's precision.
func hashValue(h uint64, v any) uint64 {
	t := typeOf(v)
	h = fnvByte(h, byte(t))
	switch t {
	case typeBool:
		if v.(bool) {
			return fnvByte(h, 1)
		}
		return fnvByte(h, 0)
	case typeInt8, typeUint8, typeInt16, typeUint16, typeInt32, typeUint32, typeInt64:
		n, _ := integer(v)
		return fnvUint64(h, uint64(n))
	case typeFloat32:
		return fnvUint64(h, uint64(math.Float32bits(v.(float32))))
	case typeFloat64:
		return fnvUint64(h, math.Float64bits(v.(float64)))
	case typeDecimal:
		d := v.(amqp.Decimal)
		return fnvUint64(fnvByte(h, d.Scale), uint64(d.Value))
	case typeString:
		return fnvString(h, v.(string))
	case typeBytes:
		return fnvBytes(h, v.([]byte))
	case typeTimestamp:
		return fnvUint64(h, uint64(v.(time.Time).Unix()))
	case typeArray:
		a := v.([]any)
		h = fnvUint64(h, uint64(len(a)))
		for _, e := range a {
			h = hashValue(h, e)
		}
		return h
	case typeTable:
		tb := v.(amqp.Table)
		h = fnvUint64(h, uint64(len(tb)))
		for _, f := range tb {
			h = fnvUint64(h, uint64(len(f.Key)))
			h = fnvString(h, f.Key)
			h = hashValue(h, f.Value)
		}
		return h
	}
	return h // void, or a type the codec does not produce
}

// ValidateBindingKey is ValidateBinding with the binding key, which the
// consistent-hash exchange checks as the plugin's validate_binding does:
// the key is the binding's weight and must be an integer of at least 1
// ("The binding key must be an integer: <<\"x\">>", "The binding key must
// be greater than 0"). The broker answers an *InvalidBindingError with 406.
func ValidateBindingKey(kind, key string, args amqp.Table) error {
	if kind == KindConsistentHash {
		_, err := parseWeight(key)
		return err
	}
	return ValidateBinding(kind, args)
}

package broker

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/exchange"
)

// VHost is a namespace of exchanges, queues and bindings. mu serialises
// topology changes and guards the maps; routing reads the maps under the
// read lock and each exchange's bindings under the router's own lock.
type VHost struct {
	s    *Server
	name string

	mu        sync.RWMutex
	exchanges map[string]*Exchange
	queues    map[string]*Queue
}

// Exchange is one exchange of a vhost.
type Exchange struct {
	Name       string
	Kind       string
	Durable    bool
	AutoDelete bool
	Internal   bool
	Args       amqp.Table

	router  exchange.Router[dest]
	deleted atomic.Bool
	// alternate is the alternate-exchange argument: where unroutable
	// messages go.
	alternate string
	// hashHeader and hashProperty are a consistent-hash exchange's
	// hash-header and hash-property arguments.
	hashHeader   string
	hashProperty string
	// delay holds the messages of an x-delayed-message exchange.
	delay *delayer
}

// dest is a binding's destination: a queue or, for exchange-to-exchange
// bindings, an exchange.
type dest struct {
	q *Queue
	x *Exchange
}

// builtinExchanges exist in every vhost (RabbitMQ's amq.* set).
var builtinExchanges = []struct{ name, kind string }{
	{"", "direct"},
	{"amq.direct", "direct"},
	{"amq.fanout", "fanout"},
	{"amq.topic", "topic"},
	{"amq.headers", "headers"},
	{"amq.match", "headers"},
}

func newVHost(s *Server, name string) *VHost {
	v := &VHost{s: s, name: name, exchanges: map[string]*Exchange{}, queues: map[string]*Queue{}}
	for _, b := range builtinExchanges {
		r, _ := exchange.New[dest](b.kind)
		v.exchanges[b.name] = &Exchange{Name: b.name, Kind: b.kind, Durable: true, router: r}
	}
	return v
}

// Name returns the vhost's name.
func (v *VHost) Name() string { return v.name }

func (v *VHost) exchange(name string) *Exchange {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.exchanges[name]
}

func (v *VHost) queue(name string) *Queue {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.queues[name]
}

// router is a message's trip through the exchanges of one vhost; the
// channel keeps one and reuses its slices for every publish.
type router struct {
	dests   []dest
	queues  []*Queue
	visited []*Exchange
	decoded amqp.Properties
	hdrDone bool
	props   []byte
}

// route collects the queues a message reaches from x, following
// exchange-to-exchange bindings once per exchange (loops are cut by the
// visited set), each queue at most once.
func (v *VHost) route(rt *router, x *Exchange, key string) []*Queue {
	rt.queues = rt.queues[:0]
	rt.visited = rt.visited[:0]
	rt.hdrDone = false
	if x.Name == "" {
		// The default exchange routes to the queue named by the key
		// (spec 3.1.3.1): an implicit binding of every queue.
		if q := v.queue(key); q != nil {
			rt.queues = append(rt.queues, q)
		}
		return rt.queues
	}
	v.routeFrom(rt, x, key)
	return rt.queues
}

// routeKeys routes with several routing keys (the publish key plus the CC
// and BCC headers' keys): the union of their queues, each once.
func (v *VHost) routeKeys(rt *router, x *Exchange, keys []string) []*Queue {
	rt.queues = rt.queues[:0]
	rt.hdrDone = false
	for _, key := range keys {
		rt.visited = rt.visited[:0]
		if x.Name == "" {
			if q := v.queue(key); q != nil {
				rt.addQueue(q)
			}
			continue
		}
		v.routeFrom(rt, x, key)
	}
	return rt.queues
}

func (v *VHost) routeFrom(rt *router, x *Exchange, key string) {
	for _, seen := range rt.visited {
		if seen == x {
			return
		}
	}
	rt.visited = append(rt.visited, x)
	var hdrs amqp.Table
	if x.Kind == "headers" || x.hashHeader != "" {
		hdrs = rt.decodeHeaders()
	}
	if x.hashProperty != "" {
		key = rt.property(x.hashProperty)
	}
	start := len(rt.dests)
	rt.dests = x.router.Route(key, hdrs, rt.dests)
	found := rt.dests[start:]
	if len(found) == 0 && x.alternate != "" {
		// Unroutable here: RabbitMQ hands it to the exchange's alternate
		// exchange (which may have its own); the visited set stops loops.
		if ae := v.exchange(x.alternate); ae != nil {
			v.routeFrom(rt, ae, key)
		}
		rt.dests = rt.dests[:start]
		return
	}
	for i := 0; i < len(found); i++ {
		d := found[i]
		if d.q != nil {
			rt.addQueue(d.q)
		}
	}
	for i := 0; i < len(found); i++ {
		if d := found[i]; d.x != nil {
			v.routeFrom(rt, d.x, key)
			found = rt.dests[start : start+len(found)]
		}
	}
	rt.dests = rt.dests[:start]
}

func (rt *router) addQueue(q *Queue) {
	for _, have := range rt.queues {
		if have == q {
			return
		}
	}
	rt.queues = append(rt.queues, q)
}

func (rt *router) decodeHeaders() amqp.Table {
	rt.decode()
	return rt.decoded.Headers
}

// property is a consistent-hash exchange's hash-property value: message
// id or correlation id as they are, the timestamp in decimal seconds, ""
// when absent.
func (rt *router) property(name string) string {
	rt.decode()
	p := &rt.decoded
	switch name {
	case exchange.PropertyMessageID:
		return p.MessageID
	case exchange.PropertyCorrelationID:
		return p.CorrelationID
	case exchange.PropertyTimestamp:
		if p.Flags&amqp.FlagTimestamp != 0 {
			return strconv.FormatInt(p.Timestamp.Unix(), 10)
		}
	}
	return ""
}

// decode decodes the message's properties once per routing.
func (rt *router) decode() {
	if !rt.hdrDone {
		rt.hdrDone = true
		if _, err := amqp.DecodeProperties(rt.props, &rt.decoded); err != nil {
			rt.decoded = amqp.Properties{}
		}
	}
}

// newRouter makes the router of an exchange type; a consistent-hash
// exchange needs its arguments. ok is false for an unknown type (503).
func newRouter(kind string, args amqp.Table) (r exchange.Router[dest], hashHeader, hashProperty string, err error) {
	if kind == kindDelayed {
		// It routes as its x-delayed-type once a message's delay is over.
		v, _ := args.Get("x-delayed-type")
		inner, _ := v.(string)
		if inner == "" || inner == kindDelayed {
			return nil, "", "", errDelayedType
		}
		r, hashHeader, hashProperty, err = newRouter(inner, args)
		if err != nil {
			return nil, "", "", errDelayedType
		}
		return r, hashHeader, hashProperty, nil
	}
	if kind == exchange.KindConsistentHash {
		ch, err := exchange.NewConsistentHash[dest](args, destName)
		if err != nil {
			return nil, "", "", err
		}
		return ch, ch.HashHeader(), ch.HashProperty(), nil
	}
	r, ok := exchange.New[dest](kind)
	if !ok {
		return nil, "", "", errUnknownExchangeType
	}
	return r, "", "", nil
}

var (
	errUnknownExchangeType = errors.New("unknown exchange type")
	errDelayedType         = errors.New("x-delayed-type is not an exchange type")
)

// delayedTypeText is the plugin's reply text for errDelayedType.
const delayedTypeText = "Invalid argument, 'x-delayed-type' must be an existing exchange type"

// destName names a destination stably across restarts: a consistent-hash
// ring is placed by these names.
func destName(d dest) string {
	if d.q != nil {
		return "q:" + d.q.name
	}
	return "x:" + d.x.Name
}

// dropExclusive deletes the exclusive queues of a closing connection.
func (v *VHost) dropExclusive(c *conn) {
	v.mu.Lock()
	var owned []*Queue
	for _, q := range v.queues {
		if q.owner == c {
			owned = append(owned, q)
		}
	}
	v.mu.Unlock()
	for _, q := range owned {
		v.deleteQueue(q)
	}
}

// Package conformance is a behaviour suite for AMQP 0-9-1 brokers with
// RabbitMQ's extensions. The same cases run under `go test` (against an
// in-process Warren, or AMQP_URL) and under cmd/warren-conformance against
// any broker, so every case takes the small T interface rather than
// *testing.T.
package conformance

import (
	"sort"
	"sync"
)

// T is the part of *testing.T that cases use. Fatalf must stop the case
// (testing.T does it with runtime.Goexit; the runner does the same).
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	Failed() bool
}

// Case is one conformance check.
type Case struct {
	// Section groups the report: connection, channel, exchange, queue,
	// basic, confirm, tx, errors, extensions.
	Section string
	Name    string
	Run     func(t T, env *Env)
	// RabbitMQ, when not empty, is the reason the case cannot run against
	// RabbitMQ (a plugin it does not ship, a setting it cannot change on a
	// running node). Such a case runs only against Warren (see SkipReason).
	RabbitMQ string
}

// SkipReason returns why c is not run against env, or "" if it is: a case
// with a RabbitMQ reason is skipped unless env.Product is Warren.
func (c Case) SkipReason(env *Env) string {
	if c.RabbitMQ == "" || env.Product == WarrenProduct {
		return ""
	}
	p := env.Product
	if p == "" {
		p = "an unidentified broker"
	}
	return "not run against " + p + ": " + c.RabbitMQ
}

// Sections is the report order.
var Sections = []string{"connection", "channel", "exchange", "queue", "basic", "confirm", "tx", "errors", "extensions"}

var (
	registryMu sync.Mutex
	registry   []Case
)

// register is called from init functions of the files that hold cases.
func register(cs ...Case) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, cs...)
}

// Cases returns every case, ordered by section (in Sections order) and name.
func Cases() []Case {
	registryMu.Lock()
	defer registryMu.Unlock()
	rank := map[string]int{}
	for i, s := range Sections {
		rank[s] = i
	}
	out := append([]Case(nil), registry...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank[out[i].Section], rank[out[j].Section]
		if ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return out
}

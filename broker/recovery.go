package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/warrenmq/warren/amqp"
	"github.com/warrenmq/warren/exchange"
	"github.com/warrenmq/warren/store"
)

// recoverState loads what the store holds: vhosts, users and permissions,
// then exchanges, queues with their messages, and bindings. A first start
// (no vhost stored) creates and stores the default vhost and user.
func (s *Server) recoverState() error {
	start := time.Now()
	st := s.store
	var vhosts []string
	if err := st.Defs(store.KindVHost, func(key []string, _ []byte) error {
		vhosts = append(vhosts, key[0])
		return nil
	}); err != nil {
		return fmt.Errorf("recover vhosts: %w", err)
	}
	if len(vhosts) == 0 {
		if err := s.storeDefaults(); err != nil {
			return err
		}
		vhosts = []string{"/"}
	}
	for _, name := range vhosts {
		if s.vhosts[name] == nil {
			s.addVHost(name)
		}
	}
	if err := s.recoverUsers(); err != nil {
		return err
	}

	var nx, nq, nb, nm int
	var maxID uint64
	var delayed []*delayer
	err := st.Defs(store.KindExchange, func(key []string, rec []byte) error {
		v := s.vhosts[key[0]]
		t, err := decodeTable(rec)
		if v == nil || err != nil {
			s.log.Warn().Strs("key", key).Msg("recovery: dropping unusable exchange record")
			return nil
		}
		kind := tableString(t, "type")
		args := tableTable(t, "arguments")
		r, hashHeader, hashProperty, err := newRouter(kind, args)
		if err != nil {
			s.log.Warn().Str("exchange", key[1]).Str("type", kind).Err(err).Msg("recovery: unusable exchange")
			return nil
		}
		x := &Exchange{Name: key[1], Kind: kind, Durable: true,
			AutoDelete: tableBool(t, "auto_delete"), Internal: tableBool(t, "internal"),
			Args: args, router: r, alternate: alternateOf(args), hashHeader: hashHeader, hashProperty: hashProperty}
		if kind == kindDelayed {
			x.delay = &delayer{x: x, v: v, id: tableUint(t, "delay_id")}
			delayed = append(delayed, x.delay)
		}
		v.exchanges[key[1]] = x
		nx++
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover exchanges: %w", err)
	}

	live := map[uint64]bool{}
	err = st.Defs(store.KindQueue, func(key []string, rec []byte) error {
		v := s.vhosts[key[0]]
		t, err := decodeTable(rec)
		if v == nil || err != nil {
			s.log.Warn().Strs("key", key).Msg("recovery: dropping unusable queue record")
			return nil
		}
		args := tableTable(t, "arguments")
		id := tableUint(t, "id")
		q := v.newQueue(key[1], true, false, tableBool(t, "auto_delete"), args, id)
		v.queues[key[1]] = q
		live[id] = true
		maxID = max(maxID, id)
		nq++
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover queues: %w", err)
	}
	for _, d := range delayed {
		if d.id == 0 {
			continue
		}
		live[d.id] = true
		maxID = max(maxID, d.id)
		err := st.Messages(d.id, func(seq uint64, rec []byte) error {
			m, err := decodeMessage(rec)
			if err != nil {
				return err
			}
			d.restore(seq, m)
			nm++
			return nil
		})
		if err != nil {
			return fmt.Errorf("recover delayed messages of exchange '%s': %w", d.x.Name, err)
		}
	}
	s.nextQID.Store(maxID)
	for _, v := range s.vhosts {
		for _, q := range v.queues {
			n, err := s.recoverMessages(q)
			if err != nil {
				return fmt.Errorf("recover messages of queue '%s' in vhost '%s': %w", q.name, v.name, err)
			}
			nm += n
		}
	}
	// Messages of queues whose definition is gone (deleted before a crash
	// finished the job) are dropped.
	ids, err := st.QueueIDs()
	if err != nil {
		return fmt.Errorf("recover: list stored queues: %w", err)
	}
	for _, id := range ids {
		if !live[id] {
			if err := st.DeleteQueue(id); err != nil {
				return fmt.Errorf("recover: drop orphaned messages: %w", err)
			}
		}
	}

	err = st.Defs(store.KindBinding, func(key []string, rec []byte) error {
		if len(key) != 6 {
			return nil
		}
		v := s.vhosts[key[0]]
		t, err := decodeTable(rec)
		if v == nil || err != nil {
			return nil
		}
		src := v.exchanges[key[1]]
		var d dest
		if key[2] == "q" {
			d.q = v.queues[key[3]]
		} else {
			d.x = v.exchanges[key[3]]
		}
		if src == nil || (d.q == nil && d.x == nil) {
			return nil // an end is gone; the binding went with it
		}
		src.router.Bind(exchange.Binding[dest]{Key: key[4], Dest: d, Args: tableTable(t, "arguments")})
		nb++
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover bindings: %w", err)
	}
	for _, d := range delayed {
		d.start()
	}
	s.log.Info().Int("vhosts", len(s.vhosts)).Int("exchanges", nx).Int("queues", nq).Int("bindings", nb).
		Int("messages", nm).Dur("took", time.Since(start)).Msg("recovered definitions and messages")
	return nil
}

// recoverMessages restores a queue's stored messages in order, marked
// redelivered: the broker cannot know which were delivered before.
func (s *Server) recoverMessages(q *Queue) (int, error) {
	n := 0
	var transient []uint64
	err := s.store.Messages(q.id, func(seq uint64, rec []byte) error {
		persistent, size, ok := peekMessage(rec)
		if !ok {
			return fmt.Errorf("corrupt message record %d", seq)
		}
		if !persistent {
			// A transient message paged out before the stop: gone, as
			// transient messages are after a restart.
			transient = append(transient, seq)
			return nil
		}
		n++
		if q.ShouldPage() {
			return q.RestorePaged(seq, size)
		}
		m, err := decodeMessage(rec)
		if err != nil {
			return err
		}
		_, err = q.Restore(m, seq)
		return err
	})
	for _, seq := range transient {
		s.store.Delete(q.id, seq)
	}
	return n, err
}

func (s *Server) storeDefaults() error {
	if err := s.store.PutDef(store.KindVHost, []string{"/"}, encodeTable(amqp.Table{})); err != nil {
		return fmt.Errorf("store default vhost: %w", err)
	}
	if s.opts.DefaultUser == "" {
		return nil
	}
	u := s.users[s.opts.DefaultUser]
	if err := s.putUser(u); err != nil {
		return err
	}
	return s.putPermission(u.Name, "/")
}

func (s *Server) putUser(u *User) error {
	rec := encodeTable(amqp.Table{{Key: "password", Value: u.Password}, {Key: "loopback_only", Value: u.LoopbackOnly}})
	if err := s.store.PutDef(store.KindUser, []string{u.Name}, rec); err != nil {
		return fmt.Errorf("store user '%s': %w", u.Name, err)
	}
	return nil
}

func (s *Server) putPermission(user, vhost string) error {
	rec := encodeTable(amqp.Table{{Key: "configure", Value: ".*"}, {Key: "write", Value: ".*"}, {Key: "read", Value: ".*"}})
	if err := s.store.PutDef(store.KindPermission, []string{user, vhost}, rec); err != nil {
		return fmt.Errorf("store permission of '%s' on '%s': %w", user, vhost, err)
	}
	return nil
}

func (s *Server) recoverUsers() error {
	users := map[string]*User{}
	err := s.store.Defs(store.KindUser, func(key []string, rec []byte) error {
		t, err := decodeTable(rec)
		if err != nil {
			return fmt.Errorf("user '%s': %w", key[0], err)
		}
		users[key[0]] = &User{Name: key[0], Password: tableString(t, "password"),
			LoopbackOnly: tableBool(t, "loopback_only"), VHosts: map[string]bool{}}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover users: %w", err)
	}
	err = s.store.Defs(store.KindPermission, func(key []string, _ []byte) error {
		if u := users[key[0]]; u != nil && len(key) == 2 {
			u.VHosts[key[1]] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover permissions: %w", err)
	}
	if len(users) == 0 {
		return errors.New("recover users: the store holds vhosts but no user")
	}
	s.users = users
	return nil
}

package broker

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"net"

	"github.com/warrenmq/warren/amqp"
)

// User is a login and the vhosts it may open.
type User struct {
	Name     string
	Password string
	// LoopbackOnly restricts logins to loopback peers, as RabbitMQ does for
	// guest.
	LoopbackOnly bool
	VHosts       map[string]bool
}

// mechanisms offered in connection.start, in order of preference.
const mechanisms = "PLAIN AMQPLAIN"

// credentials extracts user and password from a start-ok response.
func credentials(mechanism, response string) (user, pass string, ok bool) {
	switch mechanism {
	case "PLAIN":
		// RFC 4616: [authzid] NUL authcid NUL passwd
		parts := bytes.SplitN([]byte(response), []byte{0}, 3)
		if len(parts) != 3 {
			return "", "", false
		}
		return string(parts[1]), string(parts[2]), true
	case "AMQPLAIN":
		// A field table without its size prefix, holding LOGIN and PASSWORD.
		raw := binary.BigEndian.AppendUint32(nil, uint32(len(response)))
		raw = append(raw, response...)
		t, _, err := amqp.DecodeTable(raw)
		if err != nil {
			return "", "", false
		}
		l, _ := t.Get("LOGIN")
		p, _ := t.Get("PASSWORD")
		ls, ok1 := l.(string)
		ps, ok2 := p.(string)
		return ls, ps, ok1 && ok2
	}
	return "", "", false
}

// authenticate returns the user for valid credentials from peer.
func (s *Server) authenticate(user, pass string, peer net.Addr) *User {
	s.mu.Lock()
	u := s.users[user]
	s.mu.Unlock()
	if u == nil || subtle.ConstantTimeCompare([]byte(u.Password), []byte(pass)) != 1 {
		return nil
	}
	if u.LoopbackOnly && !isLoopback(peer) {
		return nil
	}
	return u
}

func isLoopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	// net.Pipe and other in-process transports are local by construction.
	return a == nil || a.Network() == "pipe"
}

func (s *Server) mayOpen(u *User, vhost string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return u.VHosts[vhost]
}

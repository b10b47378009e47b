package store

import (
	"encoding/binary"
	"fmt"
)

// Namespaces: the first byte of every key (see the package documentation).
const (
	nsDef byte = 'd'
	nsMsg byte = 'm'
)

// formatMagic is stored in Badger's manifest (Options.ExternalMagicVersion).
// Change it when the key layout changes incompatibly, so that an old directory
// is refused instead of misread.
const formatMagic uint16 = 0x5701

// Kind is the type of a definition. The store gives kinds no meaning beyond
// keeping their keys apart; the broker decides which components a key of each
// kind has.
type Kind byte

// The kinds of definitions. The suggested key components are what the broker
// needs to make every object's key unique; the store accepts any list.
const (
	KindVHost      Kind = iota + 1 // key: vhost
	KindUser                       // key: user name
	KindPermission                 // key: user, vhost
	KindExchange                   // key: vhost, exchange
	KindQueue                      // key: vhost, queue
	KindBinding                    // key: vhost, source, destination kind, destination, routing key, arguments hash
	kindEnd
)

var kindNames = [...]string{"", "vhost", "user", "permission", "exchange", "queue", "binding"}

// String returns the kind's name, for logs and error messages.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", byte(k))
}

func (k Kind) valid() bool { return k > 0 && k < kindEnd }

func (k Kind) check() error {
	if !k.valid() {
		return fmt.Errorf("%w: %d", ErrInvalidKind, byte(k))
	}
	return nil
}

// appendDefPrefix appends the key prefix shared by every definition of kind k
// whose key starts with the components comps. Without the terminator it is a
// byte prefix of exactly those keys.
func appendDefPrefix(dst []byte, k Kind, comps []string) []byte {
	dst = append(dst, nsDef, byte(k))
	for _, c := range comps {
		// len+1, so that a component never starts with 0x00, the terminator.
		dst = binary.AppendUvarint(dst, uint64(len(c))+1)
		dst = append(dst, c...)
	}
	return dst
}

// appendDefKey appends the complete key of the definition (k, comps).
func appendDefKey(dst []byte, k Kind, comps []string) []byte {
	return append(appendDefPrefix(dst, k, comps), 0)
}

// parseDefKey decodes a key written by appendDefKey.
func parseDefKey(key []byte) (Kind, []string, error) {
	if len(key) < 3 || key[0] != nsDef || !Kind(key[1]).valid() {
		return 0, nil, fmt.Errorf("%w: definition key %q", ErrCorrupt, key)
	}
	k, rest := Kind(key[1]), key[2:]
	var comps []string
	for {
		n, w := binary.Uvarint(rest)
		var canon [binary.MaxVarintLen64]byte
		switch {
		case w <= 0 || n > uint64(len(rest)-w)+1 || binary.PutUvarint(canon[:], n) != w:
			return 0, nil, fmt.Errorf("%w: definition key %q", ErrCorrupt, key)
		case n == 0: // the terminator
			if w != len(rest) {
				return 0, nil, fmt.Errorf("%w: definition key %q has trailing bytes", ErrCorrupt, key)
			}
			return k, comps, nil
		}
		rest = rest[w:]
		comps = append(comps, string(rest[:n-1]))
		rest = rest[n-1:]
	}
}

// Message keys: nsMsg, queue id, sequence, both fixed-width big-endian so that
// byte order is queue order.
const (
	msgPrefixLen = 1 + 8
	msgKeyLen    = msgPrefixLen + 8
)

func appendMsgPrefix(dst []byte, qid uint64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, nsMsg), qid)
}

func appendMsgKey(dst []byte, qid, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendMsgPrefix(dst, qid), seq)
}

// parseMsgKey decodes a key written by appendMsgKey.
func parseMsgKey(key []byte) (qid, seq uint64, err error) {
	if len(key) != msgKeyLen || key[0] != nsMsg {
		return 0, 0, fmt.Errorf("%w: message key %x", ErrCorrupt, key)
	}
	return binary.BigEndian.Uint64(key[1:]), binary.BigEndian.Uint64(key[msgPrefixLen:]), nil
}

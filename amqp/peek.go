package amqp

import "encoding/binary"

// PeekProperties reads the delivery mode and priority from encoded
// properties without decoding them: the publish path needs these two per
// message, and decoding the headers table for them would allocate. props
// must have passed ValidateProperties.
func PeekProperties(props []byte) (deliveryMode, priority uint8) {
	if len(props) < 2 {
		return 0, 0
	}
	flags := binary.BigEndian.Uint16(props)
	off := 2
	for w := flags; w&1 != 0 && off+2 <= len(props); off += 2 {
		w = binary.BigEndian.Uint16(props[off:])
	}
	skipShortstr := func() {
		if off < len(props) {
			off += 1 + int(props[off])
		}
	}
	if flags&FlagContentType != 0 {
		skipShortstr()
	}
	if flags&FlagContentEncoding != 0 {
		skipShortstr()
	}
	if flags&FlagHeaders != 0 && off+4 <= len(props) {
		off += 4 + int(binary.BigEndian.Uint32(props[off:]))
	}
	if flags&FlagDeliveryMode != 0 && off < len(props) {
		deliveryMode = props[off]
		off++
	}
	if flags&FlagPriority != 0 && off < len(props) {
		priority = props[off]
	}
	return deliveryMode, priority
}

package amqp

import (
	"strconv"
	"strings"
)

// maxOctetsShown bounds the payload quoted in an error text: a reply text
// is a shortstr, and a 128 KiB frame must not become the log line.
const maxOctetsShown = 32

// FrameText describes a frame the way RabbitMQ's errors do,
// "type 1, all octets = <<0,20,0,10>>", so that clients and log readers
// see the same words from either broker. Long payloads are cut short.
func FrameText(typ uint8, payload []byte) string {
	var b strings.Builder
	b.WriteString("type ")
	b.WriteString(strconv.Itoa(int(typ)))
	b.WriteString(", all octets = <<")
	b.WriteString(octets(payload))
	b.WriteString(">>")
	return b.String()
}

func octets(p []byte) string {
	var b strings.Builder
	for i, c := range p {
		if i == maxOctetsShown {
			b.WriteString(",...")
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(c)))
	}
	return b.String()
}

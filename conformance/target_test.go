package conformance

import (
	"testing"

	"github.com/warrenmq/warren/broker/brokertest"
)

// startWarren starts an in-process broker for the suite.
func startWarren(t *testing.T) string {
	return brokertest.New(t).URL()
}

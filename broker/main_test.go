package broker_test

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package if goroutines outlive the tests: every
// goroutine has an owner that must stop it when a connection or server
// closes.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := waitForLeaks(5 * time.Second); leaked != "" {
			os.Stderr.WriteString("leaked goroutines:\n" + leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// waitForLeaks returns the stacks of goroutines of this module still
// running after the timeout.
func waitForLeaks(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		leaked := ourGoroutines()
		if leaked == "" || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ourGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "warrenmq/warren/broker") && !strings.Contains(g, "TestMain") &&
			!strings.Contains(g, "testing.tRunner") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

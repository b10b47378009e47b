package conformance

import (
	"os"
	"testing"
)

// TestConformance runs every case against AMQP_URL when set, otherwise
// against an in-process Warren.
func TestConformance(t *testing.T) {
	env := &Env{URL: os.Getenv("AMQP_URL")}
	if env.URL == "" {
		env.URL = startWarren(t)
	}
	if p, err := DetectProduct(env.URL); err != nil {
		t.Logf("server product unknown: %v", err)
	} else {
		env.Product = p
	}
	for _, c := range Cases() {
		t.Run(c.Section+"/"+c.Name, func(t *testing.T) {
			if r := c.SkipReason(env); r != "" {
				t.Skip(r)
			}
			c.Run(t, env)
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/cmd/warren-perf/internal/perf"
)

func TestParseFlagsScenarios(t *testing.T) {
	cases := []struct {
		args  string
		check func(c perf.Config) bool
	}{
		{"-x 1 -y 1 -s 16 -a -z 10", func(c perf.Config) bool {
			return c.Producers == 1 && c.Consumers == 1 && c.Size == 16 && c.AutoAck && c.Duration == 10*time.Second
		}},
		{"-x 1 -y 1 -s 1024 -f --durable-queues -c 100 -q 100 -z 10s", func(c perf.Config) bool {
			return c.Persistent && c.DurableQueues && c.Confirm == 100 && c.Prefetch == 100 && !c.AutoAck && c.Duration == 10*time.Second
		}},
		{"-x 1 -y 10 --fanout-queues 10 -s 128", func(c perf.Config) bool {
			return c.Type == "fanout" && c.Queues == 10 && c.Consumers == 10
		}},
		{"--producers 10 --consumers 10 --queues 10 --size 256 --time 1m", func(c perf.Config) bool {
			return c.Producers == 10 && c.Queues == 10 && c.Size == 256 && c.Duration == time.Minute
		}},
		{"-x 1 -y 1 -r 1000 -z 0.5", func(c perf.Config) bool { return c.Rate == 1000 && c.Duration == 500*time.Millisecond }},
		{"-x 0 -y 0 --idle-connections 1000 -z 30", func(c perf.Config) bool { return c.IdleConnections == 1000 }},
		{"-x 1 -y 0 -C 2000000 -u big --durable-queues -f", func(c perf.Config) bool {
			return c.PMessages == 2000000 && c.QueueName == "big" && c.Consumers == 0
		}},
		{"-x 0 -y 1 --cmessages 2000000 --queue-name big --predeclared -A 50 -q 100", func(c perf.Config) bool {
			return c.CMessages == 2000000 && c.Predeclared && c.MultiAck == 50
		}},
		{"--exchange= --predeclared -u q", func(c perf.Config) bool { return c.ExchangeSet && c.Exchange == "" }},
		{"-e amq.topic -t topic", func(c perf.Config) bool { return c.ExchangeSet && c.Exchange == "amq.topic" && c.Type == "topic" }},
		{"--client amqp091 --uri amqp://u:p@h:1/v", func(c perf.Config) bool { return c.Client == "amqp091" && c.URI == "amqp://u:p@h:1/v" }},
		{"--sink -y 0 -z 1", func(c perf.Config) bool { return c.Sink }},
	}
	for _, tc := range cases {
		o, err := parseFlags(strings.Fields(tc.args), io.Discard)
		if err != nil {
			t.Errorf("%s: %v", tc.args, err)
			continue
		}
		if !tc.check(o.cfg) {
			t.Errorf("%s: parsed to %+v", tc.args, o.cfg)
		}
	}
}

func TestProgressFlag(t *testing.T) {
	for args, want := range map[string]string{"": "auto", "--progress": "true", "--progress=false": "false", "--progress=auto": "auto"} {
		o, err := parseFlags(strings.Fields(args), io.Discard)
		if err != nil || o.progress != want {
			t.Errorf("%q: progress %v, %v; want %s", args, o, err, want)
		}
	}
}

func TestExitStatusForBadFlags(t *testing.T) {
	for _, args := range []string{"--no-such-flag", "-s 8", "-x -1", "--type headers", "-z forever", "extra", "-a -A 5", "--progress=maybe"} {
		var stderr bytes.Buffer
		if code := run(context.Background(), strings.Fields(args), io.Discard, &stderr, false); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, stderr.String())
		}
		if stderr.Len() == 0 {
			t.Errorf("%q: nothing said on stderr", args)
		}
	}
	if code := run(context.Background(), []string{"-h"}, io.Discard, io.Discard, false); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}

func TestRunSinkJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), strings.Fields("--sink -x 1 -y 0 -C 20000 --json --progress=false"), &stdout, &stderr, true)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res perf.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	if res.Published.Messages != 20000 || res.Sink == nil || res.Sink.Messages != 20000 || res.Client != "pipelined" {
		t.Fatalf("result %+v", res)
	}
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestTargets(t *testing.T) {
	for _, c := range []struct {
		t              target
		warren, rabbit float64
		want           bool
	}{
		{target{minRatio: 5}, 500, 100, true},
		{target{minRatio: 5}, 499, 100, false},
		{target{maxRatio: 0.75}, 75, 100, true},
		{target{maxRatio: 0.75}, 76, 100, false},
		{target{maxWarren: 16}, 15.9, 100, true},
		{target{maxWarren: 16}, 16.1, 1, false},
	} {
		if got := c.t.met(c.warren, c.rabbit); got != c.want {
			t.Errorf("%v met(%v, %v) = %v, want %v", c.t, c.warren, c.rabbit, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	scs, err := pickScenarios("1,6")
	if err != nil {
		t.Fatal(err)
	}
	rep := &report{Runs: []runResult{
		{Scenario: 1, Broker: "Warren", Pair: 1, ConsumeRate: 600},
		{Scenario: 1, Broker: "RabbitMQ", Pair: 1, ConsumeRate: 100},
		{Scenario: 1, Broker: "Warren", Pair: 2, ConsumeRate: 400},
		{Scenario: 1, Broker: "RabbitMQ", Pair: 2, Failure: "start: boom"},
		{Scenario: 1, Broker: "Warren", Pair: 3, ConsumeRate: 500},
		{Scenario: 1, Broker: "RabbitMQ", Pair: 3, ConsumeRate: 100},
		{Scenario: 6, Broker: "Warren", Pair: 1, P50: 50, P99: 70},
		{Scenario: 6, Broker: "RabbitMQ", Pair: 1, P50: 100, P99: 100},
	}}
	rep.summarize(scs)
	s1, s6 := rep.Summary[0], rep.Summary[1]
	if s1.Warren != 500 || s1.RabbitMQ != 100 || s1.Ratio != 5 || s1.Met == nil || !*s1.Met {
		t.Errorf("scenario 1: %+v", s1)
	}
	if len(s1.Notes) != 1 || !strings.Contains(s1.Notes[0], "RabbitMQ pair 2 failed") {
		t.Errorf("scenario 1 notes: %q", s1.Notes)
	}
	if s6.Ratio != 0.7 || s6.WarrenP50 != 50 || s6.Met == nil || !*s6.Met {
		t.Errorf("scenario 6: %+v", s6)
	}
	rep.Started, rep.Finished = time.Now(), time.Now()
	if md := rep.markdown(); !strings.Contains(md, "| 1 | 1p/1c, 16 B transient, auto-ack | consumed msg/s | 500 msg/s | 100 msg/s | 5.00× | ≥ 5× | met |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestNum(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 12.34: "12.3", 1234567.8: "1,234,568", 100: "100", 999999: "999,999"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestPerfArgs(t *testing.T) {
	scs, _ := pickScenarios("7")
	got := strings.Join(scs[0].perfArgs("amqp://x/", "pipelined", 10*time.Second, 30*time.Second), " ")
	want := "-x 0 -y 0 --idle-connections 1000 --uri amqp://x/ --client pipelined -z 30s --json --progress=false"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestWorstShare(t *testing.T) {
	var p perfResult
	if err := json.Unmarshal([]byte(`{"samples":[
		{"t":1,"publish_rate":100,"consume_rate":10},
		{"t":2,"publish_rate":100,"consume_rate":95},
		{"t":3,"publish_rate":200,"consume_rate":150},
		{"t":4,"publish_rate":100,"consume_rate":100},
		{"t":5,"publish_rate":0,"consume_rate":50,"draining":true}]}`), &p); err != nil {
		t.Fatal(err)
	}
	if got := worstShare(p, 1); got != 0.75 {
		t.Fatalf("worstShare = %v, want 0.75 (second 3; the first and the drain left out)", got)
	}
	if got := worstShare(p, 10); got != 0.075 {
		t.Fatalf("worstShare with 10 copies a publish = %v, want 0.075", got)
	}
	if got := worstShare(perfResult{}, 1); got != 0 {
		t.Fatalf("worstShare without samples = %v, want 0", got)
	}
}

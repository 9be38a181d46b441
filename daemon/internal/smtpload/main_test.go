package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/daemon/internal/smtpsink"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 0.99, 0},
		{"one", ms(7), 0.5, 7 * time.Millisecond},
		{"median of four is the second", ms(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{"median of five", ms(1, 2, 3, 4, 5), 0.5, 3 * time.Millisecond},
		{"p99 of 100 is the 99th", ms(hundred...), 0.99, 99 * time.Millisecond},
		{"p99 of 10 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{"max", ms(1, 2, 30), 1, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestMessageSize(t *testing.T) {
	for _, size := range []int{300, 1000, 10240, 10241} {
		m := message(size)
		if len(m) != size {
			t.Errorf("message(%d) has %d bytes", size, len(m))
		}
		if !bytes.HasSuffix(m, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(m, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message(%d) has a line not ending in CRLF", size)
		}
		if bytes.Contains(m, []byte("\n.")) {
			t.Errorf("message(%d) needs dot-stuffing", size)
		}
	}
}

func TestParseTargets(t *testing.T) {
	tests := []struct {
		in      string
		want    []target
		wantErr bool
	}{
		{"127.0.0.1:25", []target{{"127.0.0.1:25", "127.0.0.1:25"}}, false},
		{"floor=127.0.0.1:1,relay=[::1]:2", []target{{"floor", "127.0.0.1:1"}, {"relay", "[::1]:2"}}, false},
		{"", nil, true},
		{"floor=", nil, true},
		{"=127.0.0.1:1", nil, true},
		{"127.0.0.1:1,", nil, true},
		{"localhost", nil, true},
	}
	for _, tt := range tests {
		got, err := parseTargets(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseTargets(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func testConfig(targets ...*smtpsink.Sink) *config {
	c := &config{sessions: 4, n: 23, size: 2048, from: "a@example.com", to: "b@example.org", timeout: 10 * time.Second}
	for i, s := range targets {
		c.targets = append(c.targets, target{fmt.Sprint("t", i), s.Addr})
	}
	return c
}

// Every target gets n messages, each the message, and its own latencies.
func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name    string
		targets int
		reuse   bool
		rate    float64
	}{
		{"one", 1, false, 0},
		{"one reuse", 1, true, 0},
		{"three", 3, false, 0},
		{"three reuse", 3, true, 0},
		{"three at a rate", 3, false, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var sinks []*smtpsink.Sink
			for range tt.targets {
				sinks = append(sinks, smtpsink.Start(t, nil))
			}
			c := testConfig(sinks...)
			c.reuse, c.rate = tt.reuse, tt.rate
			rs := run(context.Background(), c)
			if len(rs) != tt.targets {
				t.Fatalf("%d results, want %d", len(rs), tt.targets)
			}
			for j, r := range rs {
				if r.target != c.targets[j].name || r.failed != 0 || len(r.latencies) != c.n {
					t.Fatalf("target %s: %d accepted, %d failed (%v), want %s with %d accepted", r.target, len(r.latencies), r.failed, r.firstErr, c.targets[j].name, c.n)
				}
				msgs := sinks[j].Messages()
				if len(msgs) != c.n {
					t.Fatalf("sink %d has %d messages, want %d", j, len(msgs), c.n)
				}
				for _, m := range msgs {
					if !bytes.Equal(m.Data, message(c.size)) || m.From != c.from || len(m.To) != 1 || m.To[0] != c.to {
						t.Fatalf("sink %d got from %q to %q, %d bytes", j, m.From, m.To, len(m.Data))
					}
				}
				if want := fmt.Sprintf("target=%s msgs=23 failed=0 ", r.target); !strings.HasPrefix(r.line(), want) {
					t.Errorf("line = %q, want it to start %q", r.line(), want)
				}
			}
		})
	}
}

// A refused transaction counts as failed at its target, not as a latency.
func TestRunFailures(t *testing.T) {
	refused := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "no"}
	var n atomic.Int64
	good := smtpsink.Start(t, nil)
	bad := smtpsink.Start(t, &smtpsink.Options{Data: func(*smtpsink.Message) error {
		if n.Add(1)%2 == 0 {
			return refused
		}
		return nil
	}})
	c := testConfig(good, bad)
	c.n = 10
	rs := run(context.Background(), c)
	if r := rs[0]; r.failed != 0 || len(r.latencies) != 10 {
		t.Errorf("good target: %d accepted, %d failed (%v); want 10, 0", len(r.latencies), r.failed, r.firstErr)
	}
	var se *smtp.SMTPError
	if r := rs[1]; r.failed != 5 || len(r.latencies) != 5 || !errors.As(r.firstErr, &se) || se.Code != 451 {
		t.Errorf("refusing target: %d accepted, %d failed, first error %v; want 5, 5, a 451", len(r.latencies), r.failed, r.firstErr)
	}
}

func TestDue(t *testing.T) {
	tests := []struct {
		i    int64
		rate float64
		want time.Duration
	}{
		{0, 100, 0},
		{1, 100, 10 * time.Millisecond},
		{250, 100, 2500 * time.Millisecond},
		{3, 0.5, 6 * time.Second},
	}
	for _, tt := range tests {
		if got := due(tt.i, tt.rate); got != tt.want {
			t.Errorf("due(%d, %v) = %v, want %v", tt.i, tt.rate, got, tt.want)
		}
	}
}

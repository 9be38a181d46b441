package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
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

func TestRun(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		sink := smtpsink.Start(t, nil)
		c := &config{addr: sink.Addr, sessions: 4, n: 23, size: 2048, from: "a@example.com", to: "b@example.org", reuse: reuse, timeout: 10 * time.Second}
		r := run(context.Background(), c)
		if r.failed != 0 || len(r.latencies) != c.n {
			t.Fatalf("reuse=%v: %d accepted, %d failed (%v), want %d accepted", reuse, len(r.latencies), r.failed, r.firstErr, c.n)
		}
		msgs := sink.Messages()
		if len(msgs) != c.n {
			t.Fatalf("reuse=%v: sink has %d messages, want %d", reuse, len(msgs), c.n)
		}
		for _, m := range msgs {
			if !bytes.Equal(m.Data, message(c.size)) || m.From != c.from || len(m.To) != 1 || m.To[0] != c.to {
				t.Fatalf("reuse=%v: sink got from %q to %q, %d bytes", reuse, m.From, m.To, len(m.Data))
			}
		}
		if !strings.HasPrefix(r.line(), "msgs=23 failed=0 ") {
			t.Errorf("line = %q", r.line())
		}
	}
}

// A refused transaction counts as failed, not as a latency.
func TestRunFailures(t *testing.T) {
	refused := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "no"}
	n := 0
	sink := smtpsink.Start(t, &smtpsink.Options{Data: func(*smtpsink.Message) error {
		n++
		if n%2 == 0 {
			return refused
		}
		return nil
	}})
	c := &config{addr: sink.Addr, sessions: 1, n: 10, size: 1000, from: "a@example.com", to: "b@example.org", timeout: 10 * time.Second}
	r := run(context.Background(), c)
	var se *smtp.SMTPError
	if r.failed != 5 || len(r.latencies) != 5 || !errors.As(r.firstErr, &se) || se.Code != 451 {
		t.Errorf("%d accepted, %d failed, first error %v; want 5, 5, a 451", len(r.latencies), r.failed, r.firstErr)
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

func TestRunRate(t *testing.T) {
	sink := smtpsink.Start(t, nil)
	c := &config{addr: sink.Addr, sessions: 4, n: 11, size: 1000, from: "a@example.com", to: "b@example.org", rate: 1000, timeout: 10 * time.Second}
	r := run(context.Background(), c)
	if r.failed != 0 || len(r.latencies) != c.n || sink.Len() != c.n {
		t.Fatalf("%d accepted, %d failed (%v), sink has %d", len(r.latencies), r.failed, r.firstErr, sink.Len())
	}
}

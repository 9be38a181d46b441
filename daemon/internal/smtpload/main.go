package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// config is what one run sends.
type config struct {
	addr     string
	sessions int
	n        int
	size     int
	from, to string
	reuse    bool
	rate     float64 // transactions per second in all; 0: each session as fast as it can
	timeout  time.Duration
}

// result is what one run measured.
type result struct {
	latencies []time.Duration // accepted transactions, sorted
	failed    int
	firstErr  error
	elapsed   time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:25", "SMTP server `host:port`")
	flag.IntVar(&c.sessions, "sessions", 16, "concurrent sessions")
	flag.IntVar(&c.n, "n", 2000, "messages in all")
	flag.IntVar(&c.size, "size", 10240, "message size in bytes")
	flag.StringVar(&c.from, "from", "bench@example.com", "MAIL FROM address")
	flag.StringVar(&c.to, "to", "sink@example.org", "RCPT TO address")
	flag.BoolVar(&c.reuse, "reuse", false, "keep each session's connection for all its messages")
	flag.Float64Var(&c.rate, "rate", 0, "start transactions at this many per `second` in all (0: as fast as the sessions go)")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-transaction timeout")
	flag.Parse()
	if c.sessions < 1 || c.n < 1 || c.size < 1 || c.rate < 0 {
		fmt.Fprintln(os.Stderr, "smtpload: -sessions, -n and -size must be positive, -rate not negative")
		os.Exit(2)
	}
	r := run(context.Background(), &c)
	fmt.Println(r.line())
	if r.failed > 0 {
		fmt.Fprintf(os.Stderr, "smtpload: %d of %d transactions failed, the first: %v\n", r.failed, c.n, r.firstErr)
		os.Exit(1)
	}
}

// line formats r as key=value pairs.
func (r *result) line() string {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	ok := len(r.latencies)
	return fmt.Sprintf("msgs=%d failed=%d secs=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f",
		ok, r.failed, r.elapsed.Seconds(), float64(ok)/r.elapsed.Seconds(),
		ms(percentile(r.latencies, 0.50)), ms(percentile(r.latencies, 0.99)), ms(percentile(r.latencies, 1)))
}

// percentile returns the nearest-rank p-quantile (0 < p <= 1) of sorted,
// or 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(float64(len(sorted))*p+0.999999999) - 1 // ceil(n*p) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// message returns a message of exactly size bytes (at least its header).
func message(size int) []byte {
	var b strings.Builder
	b.WriteString("From: <bench@example.com>\r\nTo: <sink@example.org>\r\n" +
		"Subject: smtpload\r\nDate: Thu, 03 Dec 2026 06:00:00 +0000\r\n" +
		"Message-ID: <smtpload@example.com>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	const line = "The quick brown fox jumps over the lazy dog, 0123456789 abcdefghij.\r\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	if r := size - b.Len(); r >= 2 {
		b.WriteString(strings.Repeat("x", r-2) + "\r\n")
	}
	return []byte(b.String())
}

// run sends c.n messages over c.sessions sessions.
func run(ctx context.Context, c *config) *result {
	msg := message(c.size)
	var (
		next     atomic.Int64
		mu       sync.Mutex
		res      result
		wg       sync.WaitGroup
		dialer   = net.Dialer{Timeout: c.timeout}
		startAll = time.Now()
	)
	for range c.sessions {
		wg.Go(func() {
			var lat []time.Duration
			var failed int
			var first error
			var cl *smtp.Client
			defer func() {
				if cl != nil {
					cl.Quit()
					cl.Close()
				}
			}()
			for {
				i := next.Add(1) - 1
				if i >= int64(c.n) {
					break
				}
				t0 := time.Now()
				if c.rate > 0 {
					// Latency counts from the scheduled start, so a
					// transaction that waits for a free session counts
					// its wait (no coordinated omission).
					t0 = startAll.Add(due(i, c.rate))
					time.Sleep(time.Until(t0))
				}
				var err error
				if cl == nil {
					cl, err = dial(ctx, &dialer, c)
				}
				if err == nil {
					err = send(cl, c, msg)
				}
				d := time.Since(t0)
				if err != nil {
					failed++
					if first == nil {
						first = err
					}
					if cl != nil {
						cl.Close()
						cl = nil
					}
					continue
				}
				lat = append(lat, d)
				if !c.reuse {
					cl.Quit() // not timed: the message is accepted
					cl.Close()
					cl = nil
				}
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.failed += failed
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(startAll)
	slices.Sort(res.latencies)
	return &res
}

// due is when transaction i (from 0) starts after the run's start at rate
// transactions per second.
func due(i int64, rate float64) time.Duration {
	return time.Duration(float64(i) / rate * float64(time.Second))
}

func dial(ctx context.Context, d *net.Dialer, c *config) (*smtp.Client, error) {
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	cl := smtp.NewClient(nc)
	cl.CommandTimeout = c.timeout
	cl.SubmissionTimeout = c.timeout
	if err := cl.Hello("smtpload.localhost"); err != nil {
		cl.Close()
		return nil, fmt.Errorf("EHLO: %w", err)
	}
	return cl, nil
}

// send runs one transaction on cl.
func send(cl *smtp.Client, c *config, msg []byte) error {
	if err := cl.Mail(c.from, nil); err != nil {
		return fmt.Errorf("MAIL: %w", err)
	}
	if err := cl.Rcpt(c.to, nil); err != nil {
		return fmt.Errorf("RCPT: %w", err)
	}
	w, err := cl.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

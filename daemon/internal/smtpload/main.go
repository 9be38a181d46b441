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
	targets  []target
	sessions int
	n        int // transactions per target
	size     int
	from, to string
	reuse    bool
	rate     float64 // transactions per second per target; 0: each session as fast as it can
	timeout  time.Duration
}

// A target is one server; a run with several sends to them in turn.
type target struct {
	name, addr string
}

// result is what one run measured at one target.
type result struct {
	target    string
	latencies []time.Duration // accepted transactions, sorted
	failed    int
	firstErr  error
	elapsed   time.Duration // the whole run's
}

// parseTargets reads -addr: a comma-separated list of host:port or
// name=host:port.
func parseTargets(s string) ([]target, error) {
	var ts []target
	for f := range strings.SplitSeq(s, ",") {
		name, addr, ok := strings.Cut(f, "=")
		if !ok {
			name, addr = f, f
		}
		if _, _, err := net.SplitHostPort(addr); err != nil || name == "" {
			return nil, fmt.Errorf("target %q: want host:port or name=host:port", f)
		}
		ts = append(ts, target{name, addr})
	}
	return ts, nil
}

func main() {
	var c config
	addrs := flag.String("addr", "127.0.0.1:25", "SMTP server `host:port`, or a comma-separated list of name=host:port sent to in turn")
	flag.IntVar(&c.sessions, "sessions", 16, "concurrent sessions")
	flag.IntVar(&c.n, "n", 2000, "messages per target")
	flag.IntVar(&c.size, "size", 10240, "message size in bytes")
	flag.StringVar(&c.from, "from", "bench@example.com", "MAIL FROM address")
	flag.StringVar(&c.to, "to", "sink@example.org", "RCPT TO address")
	flag.BoolVar(&c.reuse, "reuse", false, "keep each session's connections for all its messages")
	flag.Float64Var(&c.rate, "rate", 0, "start transactions at this many per `second` per target (0: as fast as the sessions go)")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-transaction timeout")
	flag.Parse()
	var err error
	if c.targets, err = parseTargets(*addrs); err != nil {
		fmt.Fprintln(os.Stderr, "smtpload:", err)
		os.Exit(2)
	}
	if c.sessions < 1 || c.n < 1 || c.size < 1 || c.rate < 0 {
		fmt.Fprintln(os.Stderr, "smtpload: -sessions, -n and -size must be positive, -rate not negative")
		os.Exit(2)
	}
	status := 0
	for _, r := range run(context.Background(), &c) {
		fmt.Println(r.line())
		if r.failed > 0 {
			fmt.Fprintf(os.Stderr, "smtpload: %s: %d of %d transactions failed, the first: %v\n", r.target, r.failed, c.n, r.firstErr)
			status = 1
		}
	}
	os.Exit(status)
}

// line formats r as key=value pairs.
func (r *result) line() string {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	ok := len(r.latencies)
	return fmt.Sprintf("target=%s msgs=%d failed=%d secs=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f",
		r.target, ok, r.failed, r.elapsed.Seconds(), float64(ok)/r.elapsed.Seconds(),
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

// run sends c.n messages to each target over c.sessions sessions:
// transaction i goes to target i mod len(c.targets), so every target sees
// the same load from other processes over the same time.
func run(ctx context.Context, c *config) []*result {
	msg := message(c.size)
	k := len(c.targets)
	var (
		next     atomic.Int64
		mu       sync.Mutex
		res      = make([]*result, k)
		wg       sync.WaitGroup
		dialer   = net.Dialer{Timeout: c.timeout}
		startAll = time.Now()
	)
	for j, t := range c.targets {
		res[j] = &result{target: t.name}
	}
	for range c.sessions {
		wg.Go(func() {
			lat := make([][]time.Duration, k)
			failed := make([]int, k)
			first := make([]error, k)
			cl := make([]*smtp.Client, k) // kept with -reuse
			defer func() {
				for _, x := range cl {
					if x != nil {
						x.Quit()
						x.Close()
					}
				}
			}()
			for {
				i := next.Add(1) - 1
				if i >= int64(c.n*k) {
					break
				}
				j := int(i % int64(k))
				t0 := time.Now()
				if c.rate > 0 {
					// Latency counts from the scheduled start, so a
					// transaction that waits for a free session counts
					// its wait (no coordinated omission).
					t0 = startAll.Add(due(i, c.rate*float64(k)))
					time.Sleep(time.Until(t0))
				}
				var err error
				if cl[j] == nil {
					cl[j], err = dial(ctx, &dialer, c.targets[j].addr, c.timeout)
				}
				if err == nil {
					err = send(cl[j], c, msg)
				}
				d := time.Since(t0)
				if err != nil {
					failed[j]++
					if first[j] == nil {
						first[j] = err
					}
					if cl[j] != nil {
						cl[j].Close()
						cl[j] = nil
					}
					continue
				}
				lat[j] = append(lat[j], d)
				if !c.reuse {
					cl[j].Quit() // not timed: the message is accepted
					cl[j].Close()
					cl[j] = nil
				}
			}
			mu.Lock()
			for j, r := range res {
				r.latencies = append(r.latencies, lat[j]...)
				r.failed += failed[j]
				if r.firstErr == nil {
					r.firstErr = first[j]
				}
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, r := range res {
		r.elapsed = time.Since(startAll)
		slices.Sort(r.latencies)
	}
	return res
}

// due is when transaction i (from 0) starts after the run's start at rate
// transactions per second.
func due(i int64, rate float64) time.Duration {
	return time.Duration(float64(i) / rate * float64(time.Second))
}

func dial(ctx context.Context, d *net.Dialer, addr string, timeout time.Duration) (*smtp.Client, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	cl := smtp.NewClient(nc)
	cl.CommandTimeout = timeout
	cl.SubmissionTimeout = timeout
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

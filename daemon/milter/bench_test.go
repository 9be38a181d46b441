package milter

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sesmime/sesmime/daemon/internal/postfixtest"
	"github.com/sesmime/sesmime/daemon/internal/smtpsink"
	"github.com/sesmime/sesmime/rules"
)

// BenchmarkPostfix is bench/milter.sh's measurement (run it with
// -benchtime 1x): smtp-source sends BENCH_MESSAGES (default 500)
// messages of 10 KB over 16 sessions into a private Postfix without the
// milter and into one with it, in alternating rounds (BENCH_ROUNDS,
// default 5), and reports messages per second accepted (smtp-source done)
// and delivered (all at the sink), and the ratio with/without per round and its median.
func BenchmarkPostfix(b *testing.B) {
	if err := postfixtest.Available(); err != nil {
		b.Skipf("skipping: %v", err)
	}
	source, err := exec.LookPath("smtp-source")
	if err != nil {
		source = "/usr/sbin/smtp-source"
		if _, err := os.Stat(source); err != nil {
			b.Skip("skipping: no smtp-source (apt-get install postfix)")
		}
	}
	n := envInt("BENCH_MESSAGES", 500)
	rounds := envInt("BENCH_ROUNDS", 5)
	set, err := rules.Parse("bench.toml", []byte("[default]\nconfig_set = \"bench\"\ntags = { campaign = \"spring\", team = \"growth\" }\nstrip_client_ses = true\n"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(&Config{Rules: func() *rules.Set { return set }})
	if err != nil {
		b.Fatal(err)
	}
	l, err := Listen("inet:127.0.0.1:0", 0)
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(l)
	defer s.Close()
	milterAddr := "inet:" + l.Addr().String()

	// A discarding sink keeps the sink's cost out of the comparison.
	discard := func(*smtpsink.Message) error { return nil }
	run := func(withMilter bool) (accepted, delivered float64) {
		sink := smtpsink.Start(b, &smtpsink.Options{Data: discard})
		opts := &postfixtest.Options{RelayHost: sink.Addr, Main: map[string]string{"in_flow_delay": "0"}}
		if withMilter {
			opts.SMTPDMilters, opts.NonSMTPDMilters = milterAddr, milterAddr
		}
		pf := postfixtest.Start(b, opts)
		start := time.Now()
		out, err := exec.Command(source, "-s", "16", "-m", strconv.Itoa(n), "-l", "10240",
			"-f", "sender@bench.test", "-t", "rcpt@dest.test", pf.Addr).CombinedOutput()
		if err != nil {
			b.Fatalf("smtp-source: %v: %s", err, out)
		}
		acc := time.Since(start)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := pf.WaitEmpty(ctx); err != nil {
			b.Fatal(err)
		}
		del := time.Since(start)
		pf.Stop()
		return float64(n) / acc.Seconds(), float64(n) / del.Seconds()
	}
	b.ResetTimer()
	var ratios []float64
	for i := range rounds {
		// Alternate which goes first, so a trend in the machine's load
		// does not favour one side.
		var a0, d0, a1, d1 float64
		if i%2 == 0 {
			a0, d0 = run(false)
			a1, d1 = run(true)
		} else {
			a1, d1 = run(true)
			a0, d0 = run(false)
		}
		fmt.Fprintf(os.Stderr, "round %d: without: %.0f accepted/s %.0f delivered/s; with milter: %.0f accepted/s %.0f delivered/s; ratio delivered %.2f\n",
			i+1, a0, d0, a1, d1, d1/d0)
		ratios = append(ratios, d1/d0)
	}
	slices.Sort(ratios)
	fmt.Fprintf(os.Stderr, "delivered/s with/without the milter: median %.2f, range %.2f-%.2f over %d rounds\n",
		ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1], len(ratios))
	b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

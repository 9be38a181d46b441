package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/daemon/internal/ops"
	"github.com/sesmime/sesmime/daemon/milter"
)

func main() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil)) }

// run is the command; ready, if not nil, gets the listener's address once
// the milter serves (for tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	fs := flag.NewFlagSet("sesmime-milter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen     = fs.String("listen", "", "where to listen, `inet:HOST:PORT|unix:PATH` (required)")
		rulesFile  = fs.String("rules", "", "rules `FILE` (TOML)")
		configSet  = fs.String("config-set", "", "default configuration set `NAME` (overrides the rules' [default])")
		mixed      = fs.String("mixed", "reject", "recipients with different decisions: `reject|first`")
		onError    = fs.String("on-error", "tempfail", "when a message cannot be decided or rewritten: `tempfail|reject|accept`")
		timeout    = fs.Duration("timeout", 10*time.Second, "bound on the work at end of message (keep it below Postfix's milter_command_timeout, 30s)")
		metrics    = fs.String("metrics", "", "serve /metrics, /healthz and /readyz on `HOST:PORT`")
		socketMode = fs.String("socket-mode", "0666", "permissions of a unix socket, an octal `MODE`")
		grace      = fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGTERM waits for open MTA connections")
		tags       []sesmime.Tag
	)
	fs.Func("tag", "default tag `NAME=VALUE` (repeatable; replaces the rules' default tags)", func(s string) error {
		n, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("want NAME=VALUE, got %q", s)
		}
		tags = append(tags, sesmime.Tag{Name: n, Value: v})
		return nil
	})
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0 // -h or --help: the usage went to stderr
	} else if err != nil {
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sesmime-milter: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	if *listen == "" {
		return usage("--listen is required")
	}
	if *rulesFile == "" && *configSet == "" && len(tags) == 0 {
		return usage("nothing to do: give --rules, --config-set or --tag")
	}
	mx, err := milter.ParseMixed(*mixed)
	if err != nil {
		return usage("--mixed: %v", err)
	}
	oe, err := milter.ParseOnError(*onError)
	if err != nil {
		return usage("--on-error: %v", err)
	}
	perm, err := strconv.ParseUint(*socketMode, 8, 32)
	if err != nil || perm > 0o777 {
		return usage("--socket-mode %q: want an octal mode such as 0660", *socketMode)
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "sesmime-milter: %v\n", err)
		return 1
	}

	rs, err := ops.LoadRules(*rulesFile, ops.Defaults(*configSet, tags))
	if err != nil {
		return fail(err)
	}
	log := ops.NewLog(stdout)
	m := newMetrics()
	var health ops.Health
	srv, err := milter.NewServer(&milter.Config{
		Rules:   rs.Get,
		Mixed:   mx,
		OnError: oe,
		Timeout: *timeout,
		Observe: func(o *milter.Outcome) {
			r := record(o)
			m.Observe(r)
			log.Message(r)
		},
	})
	if err != nil {
		return fail(err)
	}
	l, err := milter.Listen(*listen, os.FileMode(perm))
	if err != nil {
		return fail(err)
	}
	if *metrics != "" {
		hs, err := ops.ServeHTTP(*metrics, m, &health)
		if err != nil {
			l.Close()
			return fail(err)
		}
		defer hs.Close()
	}
	sigs := ops.NotifySignals()
	defer sigs.Stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	health.SetReady(true)
	log.Event("start", fmt.Sprintf("listening on %s (%s); rules: %d", *listen, l.Addr(), rs.Get().Len()))
	if ready != nil {
		ready(l.Addr().String())
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		if err := <-served; err != nil {
			log.Event("error", err.Error())
		}
		cancel()
	}()
	sig := sigs.Run(ctx, rs, log, m)
	health.SetReady(false)
	log.Event("shutdown", fmt.Sprintf("%v: waiting up to %v for open connections", sig, *grace))
	sctx, scancel := context.WithTimeout(context.Background(), *grace)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Event("shutdown", err.Error())
	}
	srv.Close()
	if strings.HasPrefix(*listen, "unix:") || strings.HasPrefix(*listen, "local:") {
		os.Remove((*listen)[strings.IndexByte(*listen, ':')+1:])
	}
	log.Event("shutdown", "stopped")
	return 0
}

// newMetrics returns the shared collectors without those a milter never
// sets: it sees no body and has no upstream, rate limit or message in
// flight between its callbacks.
func newMetrics() *ops.Metrics {
	m := ops.NewMetrics("sesmime_milter")
	for _, c := range []prometheus.Collector{m.Bytes, m.Latency, m.Throttles, m.InFlight} {
		m.Registry.Unregister(c)
	}
	return m
}

// record is o as the shared log and metrics take it.
func record(o *milter.Outcome) *ops.Record {
	r := &ops.Record{
		Result: o.Result, Reply: o.Reply, From: o.From, Rcpts: len(o.Rcpts),
		Client: o.Client, AuthUser: o.AuthUser, Listener: o.Listener,
		Rule: o.Rule, ConfigSet: o.ConfigSet, QueueID: o.QueueID,
	}
	if o.Code != 0 {
		r.Code = strconv.Itoa(o.Code)
	}
	for _, t := range o.Tags {
		r.Tags = append(r.Tags, t.Name+"="+t.Value)
	}
	if o.Err != nil {
		r.Error = o.Err.Error()
	}
	return r
}

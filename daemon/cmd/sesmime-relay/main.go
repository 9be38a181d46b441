// Command sesmime-relay is an SMTP relay in front of Amazon SES that sets
// the configuration set, tags and custom tag headers of each message by
// rule, changing no other byte, and answers 250 only once SES has the
// message.
//
//	sesmime-relay [--config FILE] [--listen ADDR] [--lmtp-listen ADDR] [--upstream URL]
//	    [--rules FILE] [--config-set NAME] [--tag NAME=VALUE]... [--endpoint-url URL]
//	    [--rate N] [--users FILE] [--tls-cert FILE --tls-key FILE] [--allow CIDR]...
//	    [--metrics ADDR] [--normalize-line-endings]
//	sesmime-relay smtp-password --region REGION < secret-access-key
//	sesmime-relay explain --rules FILE [--mail-from ADDR] [--rcpt-to ADDR]...
//	    [--auth-user USER] [--client IP] [--listener NAME] [MESSAGE]
//
// explain is a dry run: it prints the decision the rules give a sample
// message and envelope, per recipient group, and sends nothing.
//
// See daemon/README.md for the config file, listeners and replies.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/sesmime/sesmime/daemon/internal/ops"
	"github.com/sesmime/sesmime/daemon/relay"
)

func main() {
	keepHeapFloor(heapFloor)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// synopsis is what --help prints above the flags: the relay's and its
// subcommands' forms, which flag's own listing does not show.
const synopsis = `usage: sesmime-relay [--config FILE] [--listen ADDR] [--lmtp-listen ADDR] [--upstream URL]
                     [--rules FILE] [--config-set NAME] [--tag NAME=VALUE]... [--endpoint-url URL]
                     [--rate N] [--users FILE] [--tls-cert FILE --tls-key FILE] [--allow CIDR]...
                     [--metrics ADDR] [--normalize-line-endings]
       sesmime-relay smtp-password --region REGION < secret-access-key
       sesmime-relay explain --rules FILE [--mail-from ADDR] [--rcpt-to ADDR]... [--auth-user USER]
                     [--client IP] [--listener NAME] [MESSAGE]

An SMTP relay in front of Amazon SES: the rules set each message's configuration
set, tags and custom tag headers, no other byte changes, and the relay answers
250 only once SES has the message. smtp-password prints the SES SMTP password of
a secret access key; explain prints the rules' decision for a sample message and
envelope and sends nothing. The config file, listeners and replies:
daemon/README.md.

Flags:
`

// parseFlags parses args into fs; help is true after -h or --help, which
// print the usage and exit 0 (any other parse error exits 2).
func parseFlags(fs *flag.FlagSet, args []string) (help bool, err error) {
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return true, nil
	}
	return false, err
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "smtp-password" {
		return smtpPassword(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "explain" {
		return explain(args[1:], stdin, stdout, stderr)
	}
	fs := flag.NewFlagSet("sesmime-relay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), synopsis)
		fs.PrintDefaults()
	}
	var (
		configFile = fs.String("config", "", "TOML config `FILE` (flags override it)")
		listen     = fs.String("listen", "", "listen on `ADDR` (host:port)")
		lmtp       = fs.String("lmtp-listen", "", "also listen for LMTP on `ADDR`")
		upstream   = fs.String("upstream", "", "upstream `URL`: ses+v2://REGION (default), ses+v1://REGION, smtp://HOST:PORT, smtps://HOST:PORT or smtp+plain://HOST:PORT")
		rulesFile  = fs.String("rules", "", "rules `FILE` (reloaded on SIGHUP)")
		configSet  = fs.String("config-set", "", "default configuration set `NAME`")
		endpoint   = fs.String("endpoint-url", "", "SES API endpoint `URL`")
		users      = fs.String("users", "", "bcrypt users `FILE` for AUTH (name:hash lines; reloaded on SIGHUP); the --listen listener then requires AUTH")
		cert       = fs.String("tls-cert", "", "certificate `FILE` for STARTTLS on the --listen listener (reloaded with the key on SIGHUP)")
		key        = fs.String("tls-key", "", "key `FILE` for STARTTLS on the --listen listener")
		metrics    = fs.String("metrics", "", "serve /metrics, /healthz, /readyz on `ADDR`")
		rateFlag   = fs.Float64("rate", 0, "`N` recipients per second (0: the account's send quota)")
		normalize  = fs.Bool("normalize-line-endings", false, "SMTP upstream: turn bare LF and CR CR LF into CRLF instead of refusing")
		tags       multi
		allow      multi
	)
	fs.Var(&tags, "tag", "default tag `NAME=VALUE` (repeatable)")
	fs.Var(&allow, "allow", "`CIDR` allowed to connect to the --listen and --lmtp-listen listeners (repeatable)")
	if help, err := parseFlags(fs, args); help {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sesmime-relay: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg := &relay.Config{}
	if *configFile != "" {
		c, err := relay.LoadConfig(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
			return 2
		}
		cfg = c
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *listen != "" {
		l := relay.Listener{Name: "smtp", Addr: *listen, Cert: *cert, Key: *key, Auth: *users != "", Allow: allow}
		cfg.Listeners = append([]relay.Listener{l}, cfg.Listeners...)
	}
	if *lmtp != "" {
		cfg.Listeners = append(cfg.Listeners, relay.Listener{Name: "lmtp", Addr: *lmtp, LMTP: true, Allow: allow})
	}
	str := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	str("upstream", &cfg.Upstream, *upstream)
	str("rules", &cfg.Rules, *rulesFile)
	str("config-set", &cfg.ConfigSet, *configSet)
	str("endpoint-url", &cfg.EndpointURL, *endpoint)
	str("users", &cfg.Users, *users)
	str("metrics", &cfg.Metrics, *metrics)
	if set["rate"] {
		cfg.Rate = *rateFlag
	}
	if set["normalize-line-endings"] {
		cfg.NormalizeLineEndings = *normalize
	}
	if len(tags) > 0 {
		cfg.Tags = tags
	}
	if cfg.Upstream == "" {
		cfg.Upstream = "ses+v2://" + envOr("AWS_REGION", "us-east-1")
	}
	log := ops.NewLog(stdout)
	ctx := context.Background()
	r, err := relay.New(ctx, cfg, relay.Deps{Log: log})
	if err != nil {
		fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
		return 1
	}
	if cfg.Metrics != "" {
		hs, err := ops.ServeHTTP(cfg.Metrics, r.Metrics, &r.Health)
		if err != nil {
			fmt.Fprintf(stderr, "sesmime-relay: metrics: %v\n", err)
			return 1
		}
		defer hs.Close()
	}
	sigs := ops.NotifySignals()
	defer sigs.Stop()
	if err := r.Start(); err != nil {
		fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
		return 1
	}
	log.Event("start", fmt.Sprintf("listening on %s, upstream %s, %d rules", strings.Join(r.Addrs(), " "), cfg.Upstream, r.Rules.Get().Len()))
	sig := sigs.Run(ctx, r, log, r.Metrics) // SIGHUP: the rules, certificates and users file
	timeout := 30 * time.Second
	if cfg.ShutdownTimeout.Duration > 0 {
		timeout = cfg.ShutdownTimeout.Duration
	}
	log.Event("signal", sig.String())
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := r.Shutdown(sctx); err != nil {
		log.Event("shutdown", err.Error())
	}
	log.Event("stop", "stopped")
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func smtpPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sesmime-relay smtp-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	region := fs.String("region", "", "the SES `REGION` the SMTP password is for")
	if help, err := parseFlags(fs, args); help {
		return 0
	} else if err != nil {
		return 2
	}
	if *region == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: sesmime-relay smtp-password --region REGION < secret-access-key")
		return 2
	}
	b, err := io.ReadAll(io.LimitReader(stdin, 4096))
	if err != nil {
		fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
		return 1
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" || strings.ContainsAny(secret, " \t\r\n") {
		fmt.Fprintln(stderr, "sesmime-relay: want one secret access key on stdin")
		return 1
	}
	fmt.Fprintln(stdout, relay.SMTPPassword(secret, *region))
	return 0
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/sesmime/sesmime/awsses"
	"github.com/sesmime/sesmime/parse"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// tags is a repeatable NAME=VALUE flag.
type tags []parse.Tag

func (t *tags) String() string { return parse.FormatTags(*t) }
func (t *tags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	*t = append(*t, parse.Tag{Name: name, Value: value})
	return nil
}

const usage = `usage: sesmime-send [flags] PATH|-...

Sends each message (a file, a directory of --ext files, or - for stdin)
through Amazon SES and prints PATH<TAB>MESSAGEID per message sent.
Credentials and region are read the standard AWS SDK way.

`

// report is one line of --json output.
type report struct {
	Name      string `json:"name"`
	MessageID string `json:"message_id,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	Error     string `json:"error,omitempty"`
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sesmime-send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	var (
		opts                awsses.Options
		tagList             tags
		to, exts            list
		api                 = fs.String("api", "sesv2", "`API`: sesv2 (SendEmail with Content.Raw) or ses (v1 SendRawEmail)")
		placement           = fs.String("placement", "headers", "ses only: configuration set and tags in `headers` or as API params")
		conflict            = fs.String("on-conflict", "refuse", "when the message carries other values: `refuse`, merge or override")
		endpoint            = fs.String("endpoint-url", "", "send to this endpoint `URL` instead of the region's")
		region              = fs.String("region", "", "AWS `region` (default: the SDK's, e.g. AWS_REGION)")
		profile             = fs.String("profile", "", "shared config `profile` (default: the SDK's, e.g. AWS_PROFILE)")
		maxAttempts         = fs.Int("max-attempts", 0, "HTTP attempts per message, retries included (0: the SDK's default)")
		jobs                = fs.Int("j", awsses.DefaultConcurrency, "messages in flight")
		dryRun              = fs.Bool("dry-run", false, "build and check every request, send nothing")
		jsonOut             = fs.Bool("json", false, "one JSON object per message on stdout")
		identityArn, tenant string
	)
	fs.StringVar(&opts.ConfigurationSet, "config-set", "", "configuration set `NAME`")
	fs.Var(&tagList, "tag", "message tag `NAME=VALUE` (repeatable)")
	fs.StringVar(&opts.From, "from", "", "envelope sender `ADDR` (default: from the message)")
	fs.Var(&to, "to", "envelope recipient `ADDR` (repeatable; default: from the message)")
	fs.StringVar(&tenant, "tenant", "", "sesv2 only: tenant `NAME`")
	fs.StringVar(&identityArn, "identity-arn", "", "sesv2 only: FromEmailAddressIdentityArn `ARN`")
	fs.StringVar(&opts.SourceArn, "source-arn", "", "ses only: SourceArn `ARN`")
	fs.StringVar(&opts.FromArn, "from-arn", "", "ses only: FromArn `ARN`")
	fs.StringVar(&opts.ReturnPathArn, "return-path-arn", "", "ses only: ReturnPathArn `ARN`")
	fs.Var(&exts, "ext", "in directories, send files ending in `EXT` (repeatable; default .eml)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sesmime-send: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() == 0 {
		return usageErr("no PATH given (use - for stdin)")
	}
	var err error
	if opts.Placement, err = awsses.ParsePlacement(*placement); err != nil {
		return usageErr("%v", err)
	}
	if opts.OnConflict, err = awsses.ParseConflict(*conflict); err != nil {
		return usageErr("%v", err)
	}
	opts.Tags = tagList
	opts.Destinations = to
	opts.TenantName = tenant
	opts.FromEmailAddressIdentityArn = identityArn
	if len(exts) == 0 {
		exts = list{".eml"}
	}
	if *jobs < 1 {
		return usageErr("-j must be at least 1")
	}
	if *maxAttempts < 0 {
		return usageErr("--max-attempts must not be negative")
	}

	var loads []func(*config.LoadOptions) error
	if *region != "" {
		loads = append(loads, config.WithRegion(*region))
	}
	if *profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(*profile))
	}
	if *endpoint != "" {
		loads = append(loads, config.WithBaseEndpoint(*endpoint))
	}
	if *maxAttempts > 0 {
		loads = append(loads, config.WithRetryMaxAttempts(*maxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return usageErr("%v", err)
	}
	s := &awsses.Sender{Options: &opts, Concurrency: *jobs, DryRun: *dryRun}
	switch *api {
	case "ses":
		s.V1 = ses.NewFromConfig(cfg)
	case "sesv2":
		s.V2 = sesv2.NewFromConfig(cfg)
	default:
		return usageErr("--api %q: want ses or sesv2", *api)
	}
	if err := opts.Validate(s.API()); err != nil {
		return usageErr("%v", err)
	}
	if cfg.Region == "" && !*dryRun {
		return usageErr("no region: give --region or set AWS_REGION")
	}

	msgs := messages(fs.Args(), stdin, exts)
	enc := json.NewEncoder(stdout)
	sum, err := s.Send(ctx, msgs, func(r awsses.Report) {
		if *jsonOut {
			j := report{Name: r.Name, MessageID: r.MessageID, Attempts: r.Attempts}
			if r.Err != nil {
				j.Error = r.Err.Error()
			}
			enc.Encode(j)
		}
		if r.Err != nil {
			fmt.Fprintf(stderr, "sesmime-send: %s: %v\n", r.Name, r.Err)
			return
		}
		if !*jsonOut {
			id := r.MessageID
			if *dryRun {
				id = "(dry run)"
			}
			fmt.Fprintf(stdout, "%s\t%s\n", r.Name, id)
		}
	})
	verb := "sent"
	if *dryRun {
		verb = "checked"
	}
	if sum.Sent+sum.Failed != 1 {
		fmt.Fprintf(stderr, "sesmime-send: %d %s, %d failed\n", sum.Sent, verb, sum.Failed)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sesmime-send: %v\n", err)
		return 1
	}
	if sum.Failed > 0 {
		return 1
	}
	return 0
}

// messages yields the messages of args: "-" reads stdin once, other paths
// go through awsses.Files.
func messages(args []string, stdin io.Reader, exts []string) iter.Seq[awsses.Message] {
	return func(yield func(awsses.Message) bool) {
		stdinRead := false
		for _, a := range args {
			if a == "-" {
				m := awsses.Message{Name: "-"}
				if stdinRead {
					m.Err = errors.New("stdin given twice")
				} else {
					m.Data, m.Err = io.ReadAll(stdin)
					stdinRead = true
				}
				if !yield(m) {
					return
				}
				continue
			}
			for m := range awsses.Files([]string{a}, exts...) {
				if !yield(m) {
					return
				}
			}
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/spf13/pflag"

	"github.com/sesmime/sesmime/awsses"
	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/parse"
)

// version is the program version; release builds may set it with
// -ldflags "-X main.version=v1.2.3". When empty, the module version from
// the build information is used.
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// tags is a repeatable NAME=VALUE flag.
type tags []parse.Tag

func (t *tags) String() string { return parse.FormatTags(*t) }
func (t *tags) Type() string   { return "NAME=VALUE" }
func (t *tags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	if strings.Contains(value, ",") && strings.Contains(value, "=") {
		return fmt.Errorf("one tag per --tag; repeat --tag for each")
	}
	*t = append(*t, parse.Tag{Name: name, Value: value})
	return nil
}

const usage = `usage: sesmime-send [flags] PATH|-...

Sends each message (a file, the --ext files under a directory with -r, or -
for stdin) through Amazon SES, in input order, and prints PATH<TAB>MESSAGEID
per message sent. Credentials and region are read the standard AWS SDK way
and resolved once, before the first message. --dry-run sends nothing: it
prints, per message, what would be sent and where each value goes, and
runs the checks of 'sesmime check', refusing a message they find an error
in. Exit status: 0 when every message was sent (or would be), 1 when any
failed, 2 on a usage error or missing credentials.

Flags:
`

// A record is one line of --json output: the same "path" (and
// "path_bytes") keys as sesmime's --json.
type record struct {
	Path      string `json:"path"`
	PathBytes []byte `json:"path_bytes,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	*plan
	Error string `json:"error,omitempty"`
}

// A plan is what --dry-run found a message would be sent as.
type plan struct {
	API                string      `json:"api"`
	ConfigurationSet   string      `json:"configuration_set,omitempty"`
	ConfigurationSetIn string      `json:"configuration_set_in,omitempty"` // header or parameter
	Tags               []parse.Tag `json:"tags,omitempty"`
	TagsIn             string      `json:"tags_in,omitempty"`
	From               string      `json:"from,omitempty"`
	FromIn             string      `json:"from_in,omitempty"`
	To                 []string    `json:"to,omitempty"`
	ToIn               string      `json:"to_in,omitempty"`
	Bytes              int         `json:"bytes"`
	Base64Bytes        int64       `json:"base64_bytes"`
	Findings           []finding   `json:"findings,omitempty"`
}

type finding struct {
	Line     int    `json:"line"`
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

func newRecord(name string) record {
	if utf8.ValidString(name) {
		return record{Path: name}
	}
	return record{Path: strings.ToValidUTF8(name, "\uFFFD"), PathBytes: []byte(name)}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("sesmime-send", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var (
		opts                awsses.Options
		tagList             tags
		to, exts            []string
		identityArn, tenant string
	)
	api := fs.String("api", "sesv2", "the SES API, `ses|sesv2`: sesv2 is SendEmail with Content.Raw, ses is v1 SendRawEmail")
	fs.StringVar(&opts.ConfigurationSet, "config-set", "", "configuration set `NAME`")
	fs.Var(&tagList, "tag", "message tag `NAME=VALUE` (repeat for each tag)")
	placement := fs.String("placement", "headers", "ses only: the configuration set and tags go in the header or as API parameters, `headers|params`")
	conflict := fs.String("on-conflict", "refuse", "when the message carries other values: `refuse|merge|override`")
	fs.StringVar(&opts.From, "from", "", "envelope sender `ADDR` (default: from the message)")
	fs.StringArrayVar(&to, "to", nil, "envelope recipient `ADDR` (repeatable; default: from the message)")
	fs.StringVar(&tenant, "tenant", "", "sesv2 only: tenant `NAME`")
	fs.StringVar(&identityArn, "identity-arn", "", "sesv2 only: FromEmailAddressIdentityArn `ARN`")
	fs.StringVar(&opts.SourceArn, "source-arn", "", "ses only: SourceArn `ARN`")
	fs.StringVar(&opts.FromArn, "from-arn", "", "ses only: FromArn `ARN`")
	fs.StringVar(&opts.ReturnPathArn, "return-path-arn", "", "ses only: ReturnPathArn `ARN`")
	recursive := fs.BoolP("recursive", "r", false, "send the --ext files under directories")
	fs.StringArrayVar(&exts, "ext", nil, "with -r, send files ending in `.EXT` (repeatable; default .eml)")
	jobs := fs.IntP("jobs", "j", awsses.DefaultConcurrency, "`N` messages in flight")
	endpoint := fs.String("endpoint-url", "", "send to this endpoint `URL` (http or https) instead of the region's")
	region := fs.String("region", "", "AWS `REGION` (default: the SDK's, e.g. AWS_REGION)")
	profile := fs.String("profile", "", "shared config profile `NAME` (default: the SDK's, e.g. AWS_PROFILE)")
	maxAttempts := fs.Int("max-attempts", 0, "`N` HTTP attempts per message, retries included (0: the SDK's default)")
	dryRun := fs.BoolP("dry-run", "n", false, "send nothing: print what each message would be sent as, and check it")
	jsonOut := fs.Bool("json", false, "one JSON object per message on stdout")
	showVersion := fs.Bool("version", false, "print the version and exit")

	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "sesmime-send: "+format+"\nRun 'sesmime-send --help' for usage.\n", a...)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fmt.Fprint(stdout, fs.FlagUsages())
			return 0
		}
		return usageErr("%v", err)
	}
	if *showVersion {
		fmt.Fprintf(stdout, "sesmime-send %s\n", versionString())
		return 0
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
		exts = []string{".eml"}
	}
	for i, e := range exts {
		if !strings.HasPrefix(e, ".") {
			exts[i] = "." + e
		}
	}
	if *jobs < 1 {
		return usageErr("--jobs must be at least 1")
	}
	if *maxAttempts < 0 {
		return usageErr("--max-attempts must not be negative")
	}
	if *endpoint != "" {
		if u, err := url.Parse(*endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErr("--endpoint-url %q: want an http:// or https:// URL with a host", *endpoint)
		}
	}
	var which parse.API
	switch *api {
	case "ses":
		which = parse.V1
	case "sesv2":
		which = parse.V2
	default:
		return usageErr("--api %q: want ses or sesv2", *api)
	}
	if err := opts.Validate(which); err != nil {
		return usageErr("%v", err)
	}

	msgs := messages(fs.Args(), stdin, exts, *recursive)
	if *dryRun {
		return dryRunAll(msgs, &opts, which, *jsonOut, stdout, stderr)
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
		fmt.Fprintf(stderr, "sesmime-send: AWS configuration: %s\n", oneLine(err))
		return 2
	}
	if cfg.Region == "" {
		return usageErr("no region: give --region or set AWS_REGION")
	}
	// Credentials once, before the first message: without them every
	// message would fail the same way.
	if cfg.Credentials == nil {
		fmt.Fprintln(stderr, "sesmime-send: no AWS credentials found")
		return 2
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		fmt.Fprintf(stderr, "sesmime-send: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --profile): %s\n", oneLine(err))
		return 2
	}
	s := &awsses.Sender{Options: &opts, Concurrency: *jobs}
	if which == parse.V1 {
		s.V1 = ses.NewFromConfig(cfg)
	} else {
		s.V2 = sesv2.NewFromConfig(cfg)
	}

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	print := func(r awsses.Report) {
		if *jsonOut {
			j := newRecord(r.Name)
			j.MessageID, j.Attempts = r.MessageID, r.Attempts
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
			fmt.Fprintf(stdout, "%s\t%s\n", r.Name, r.MessageID)
		}
	}
	// Reports come as sends finish; they are printed in input order.
	pending := map[int]awsses.Report{}
	next := 0
	sum, err := s.Send(ctx, msgs, func(r awsses.Report) {
		pending[r.Index] = r
		for {
			p, ok := pending[next]
			if !ok {
				return
			}
			delete(pending, next)
			print(p)
			next++
		}
	})
	for len(pending) > 0 { // after a stop, the ones past a gap
		for i := next; ; i++ {
			if p, ok := pending[i]; ok {
				delete(pending, i)
				print(p)
				next = i + 1
				break
			}
		}
	}
	if sum.Sent+sum.Failed != 1 {
		fmt.Fprintf(stderr, "sesmime-send: %d sent, %d failed\n", sum.Sent, sum.Failed)
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

// dryRunAll builds the request of each message without sending it, prints
// what it would send where, and runs check's lint on the bytes it would
// send; a message with an error-level finding fails.
func dryRunAll(msgs iter.Seq[awsses.Message], opts *awsses.Options, api parse.API, jsonOut bool, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	var ok, failed int
	for m := range msgs {
		rec := newRecord(m.Name)
		p, err := planOf(m, opts, api)
		rec.plan = p
		if err == nil {
			for _, f := range p.Findings {
				if f.Severity == "error" {
					err = errors.New("'sesmime check' finds errors that SES would reject or ignore")
					break
				}
			}
		}
		if err != nil {
			failed++
			rec.Error = err.Error()
			fmt.Fprintf(stderr, "sesmime-send: %s: %v\n", m.Name, err)
		} else {
			ok++
		}
		if jsonOut {
			enc.Encode(rec)
			continue
		}
		if p == nil {
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", m.Name, p.describe())
		for _, f := range p.Findings {
			fmt.Fprintf(stdout, "%s:%d: %s: %s: %s\n", m.Name, f.Line, f.Severity, f.Code, f.Message)
		}
	}
	if ok+failed != 1 {
		fmt.Fprintf(stderr, "sesmime-send: %d would be sent, %d failed (dry run: nothing sent)\n", ok, failed)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// planOf builds the request for m and describes it.
func planOf(m awsses.Message, opts *awsses.Options, api parse.API) (*plan, error) {
	if m.Err != nil {
		return nil, m.Err
	}
	p := &plan{}
	var (
		raw      []byte
		csParam  *string
		tagParam []parse.Tag
		from     *string
		dests    []string
		lintAPI  = parse.V2
	)
	switch api {
	case parse.V1:
		in, err := awsses.RawEmailInput(m.Data, opts)
		if err != nil {
			return nil, err
		}
		p.API = "ses SendRawEmail"
		raw, csParam, from, dests, lintAPI = in.RawMessage.Data, in.ConfigurationSetName, in.Source, in.Destinations, parse.V1
		for _, t := range in.Tags {
			tagParam = append(tagParam, parse.Tag{Name: deref(t.Name), Value: deref(t.Value)})
		}
	default:
		in, err := awsses.SendEmailInput(m.Data, opts)
		if err != nil {
			return nil, err
		}
		p.API = "sesv2 SendEmail"
		raw, csParam, from = in.Content.Raw.Data, in.ConfigurationSetName, in.FromEmailAddress
		if in.Destination != nil {
			dests = in.Destination.ToAddresses
		}
		for _, t := range in.EmailTags {
			tagParam = append(tagParam, parse.Tag{Name: deref(t.Name), Value: deref(t.Value)})
		}
	}
	info, err := parse.Lint(bytes.NewReader(raw), &parse.Options{API: lintAPI})
	if err != nil {
		return nil, err
	}
	for _, f := range info.Findings {
		sev := "warning"
		if f.Error {
			sev = "error"
		}
		p.Findings = append(p.Findings, finding{Line: f.Line, Severity: sev, Code: f.Code, Message: f.Message})
	}
	switch {
	case csParam != nil:
		p.ConfigurationSet, p.ConfigurationSetIn = *csParam, "parameter"
	case info.ConfigurationSet != "":
		p.ConfigurationSet, p.ConfigurationSetIn = info.ConfigurationSet, "header"
	}
	switch {
	case len(tagParam) > 0:
		p.Tags, p.TagsIn = tagParam, "parameter"
	case len(info.Tags) > 0:
		p.Tags, p.TagsIn = info.Tags, "header"
	}
	if from != nil {
		p.From, p.FromIn = *from, "parameter"
	} else {
		p.From, p.FromIn = headerValues(raw, "From"), "header"
	}
	if len(dests) > 0 {
		p.To, p.ToIn = dests, "parameter"
	} else {
		for _, name := range []string{"To", "Cc", "Bcc"} {
			if v := headerValues(raw, name); v != "" {
				p.To = append(p.To, v)
			}
		}
		p.ToIn = "header"
	}
	p.Bytes = len(raw)
	p.Base64Bytes = parse.Base64Len(int64(len(raw)))
	return p, nil
}

// describe is the --dry-run line of a plan.
func (p *plan) describe() string {
	var b strings.Builder
	b.WriteString(p.API)
	if p.ConfigurationSet != "" {
		fmt.Fprintf(&b, "; configuration set %s (%s)", p.ConfigurationSet, p.ConfigurationSetIn)
	} else {
		b.WriteString("; no configuration set")
	}
	if len(p.Tags) > 0 {
		fmt.Fprintf(&b, "; tags %s (%s)", parse.FormatTags(p.Tags), p.TagsIn)
	} else {
		b.WriteString("; no tags")
	}
	fmt.Fprintf(&b, "; from %s (%s); to %s (%s); %d bytes, %d in base64", orNone(p.From), p.FromIn, orNone(strings.Join(p.To, ", ")), p.ToIn, p.Bytes, p.Base64Bytes)
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// headerValues returns the values of the fields name of the message, joined
// with ", ".
func headerValues(raw []byte, name string) string {
	// raw is in memory and Lint has read its header within the limits.
	h, err := mimeheaders.Read(bufio.NewReader(bytes.NewReader(raw)), noLimits)
	if err != nil {
		return ""
	}
	return strings.Join(h.Values(name), ", ")
}

var noLimits = mimeheaders.Limits{MaxHeaderBytes: -1, MaxLineBytes: -1, MaxFields: -1}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// oneLine returns the text of err on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// messages yields the messages of args: "-" reads stdin once, a directory
// needs recursive, other paths go through awsses.Files.
func messages(args []string, stdin io.Reader, exts []string, recursive bool) iter.Seq[awsses.Message] {
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
			if fi, err := os.Stat(a); err == nil && fi.IsDir() && !recursive {
				if !yield(awsses.Message{Name: a, Err: errors.New("is a directory (use -r to recurse)")}) {
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

func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(devel)"
	}
	return bi.Main.Version + " " + bi.GoVersion
}

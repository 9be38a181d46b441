package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/rules"
)

// inject --rules FILE chooses each message's rewrite with the rules file
// of sesmime-relay and sesmime-milter (package rules). The envelope the
// rules match comes from flags; a key without its flag is read from the
// message's header, which is a convenience, not something a sender can be
// trusted for.

// ruleFlags are inject's --rules and envelope flags.
type ruleFlags struct {
	file               string
	mailFrom           string
	rcptTo             []string
	client             string
	set                *rules.Set     // loaded by finishRules; nil without --rules
	env                rules.Envelope // the keys given by flags; --auth-user and --listener set theirs directly
	flagFrom, flagRcpt bool           // MailFrom, RcptTo came from flags
	useFrom, useRcpt   bool           // the rules match on them
}

// envelopeFlags are the flags that only go with --rules.
var envelopeFlags = []string{"mail-from", "rcpt-to", "auth-user", "client", "listener"}

// addRuleFlags adds --rules and the envelope flags to inject's fs.
func (c *config) addRuleFlags(fs *pflag.FlagSet) {
	r := &c.rules
	fs.StringVar(&r.file, "rules", "", "choose each message's configuration set, tags and headers by the rules in `FILE` (see \"Rules\")")
	fs.StringVar(&r.mailFrom, "mail-from", "", "with --rules: the envelope sender `ADDR`, \"\" or <> for the null sender (default: Return-Path, Sender or From)")
	fs.StringArrayVar(&r.rcptTo, "rcpt-to", nil, "with --rules: an envelope recipient `ADDR` (repeatable; default: To, Cc and Bcc)")
	fs.StringVar(&r.env.AuthUser, "auth-user", "", "with --rules: the SMTP AUTH `USER` (default: none, which no auth_user matches)")
	fs.StringVar(&r.client, "client", "", "with --rules: the client's `IP` address (default: none, which no client matches)")
	fs.StringVar(&r.env.Listener, "listener", "", "with --rules: the listener `NAME` (default: empty, which only a listener glob such as \"*\" matches)")
}

// finishRules loads --rules and checks the envelope flags, once fs has
// parsed and c.opts holds the other flags. With --rules, --config-set,
// --tag, --tags-mode and --header replace those keys of the file's
// [default], as they do for sesmime-relay and sesmime-milter.
func (c *config) finishRules(fs *pflag.FlagSet) error {
	r := &c.rules
	if r.file == "" {
		if fs.Changed("rules") {
			return fmt.Errorf("--rules: empty FILE")
		}
		for _, n := range envelopeFlags {
			if fs.Changed(n) {
				return fmt.Errorf("--%s goes with --rules", n)
			}
		}
		return nil
	}
	set, err := rules.Load(r.file)
	if err != nil {
		return fmt.Errorf("--rules: %w", err)
	}
	if r.flagFrom = fs.Changed("mail-from"); r.flagFrom {
		if r.env.MailFrom, err = flagAddr(r.mailFrom, true); err != nil {
			return fmt.Errorf("--mail-from %q: %v", r.mailFrom, err)
		}
	}
	r.flagRcpt = len(r.rcptTo) > 0
	for _, a := range r.rcptTo {
		addr, err := flagAddr(a, false)
		if err != nil {
			return fmt.Errorf("--rcpt-to %q: %v", a, err)
		}
		r.env.RcptTo = append(r.env.RcptTo, addr)
	}
	if r.client != "" {
		if r.env.Client, err = netip.ParseAddr(r.client); err != nil {
			return fmt.Errorf("--client %q: want an IP address", r.client)
		}
	}
	r.useFrom, r.useRcpt = set.Uses("mail_from"), set.Uses("rcpt_to")
	r.set, err = c.flagsAsDefault(fs, set)
	return err
}

// flagAddr returns the address of an envelope flag: without spaces and
// angle brackets; "" (or <>) is the null sender, which only --mail-from
// may be.
func flagAddr(s string, null bool) (string, error) {
	a := strings.TrimSpace(s)
	if strings.HasPrefix(a, "<") && strings.HasSuffix(a, ">") {
		a = a[1 : len(a)-1]
	}
	switch {
	case a == "" && !null:
		return "", errors.New("empty address")
	case strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' || r == '>' }):
		return "", errors.New("want one address, as in MAIL FROM:<ADDR> or RCPT TO:<ADDR>")
	}
	return a, nil
}

// flagsAsDefault returns set with --config-set, --tag, --tags-mode and
// --header, where given, in place of those keys of its [default].
func (c *config) flagsAsDefault(fs *pflag.FlagSet, set *rules.Set) (*rules.Set, error) {
	o := &c.opts
	if !fs.Changed("config-set") && len(o.Tags) == 0 && !fs.Changed("tags-mode") && len(o.Headers) == 0 {
		return set, nil
	}
	a := set.Default()
	if a.Reject != "" {
		return nil, fmt.Errorf("--rules %s: its [default] rejects every message no rule matches; --config-set, --tag, --tags-mode and --header would change that [default]", c.rules.file)
	}
	if fs.Changed("config-set") {
		a.ConfigurationSet = o.ConfigurationSet
	}
	if len(o.Tags) > 0 {
		a.Tags = o.Tags
		for _, t := range o.Tags {
			for _, ft := range a.TagFromHeader {
				if t.Name == ft.Tag {
					return nil, fmt.Errorf("--tag %s: the [default] of %s sets tag %s from the %s field", t, c.rules.file, t.Name, ft.Field)
				}
			}
		}
	}
	if fs.Changed("tags-mode") {
		a.TagsMode = o.TagsMode
	}
	if len(o.Headers) > 0 {
		a.Headers = o.Headers
	}
	s, err := set.WithDefault(a)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// A rewriter rewrites one message at a time: an *inject.Rewriter, or with
// --rules the rewriter of each message's decision.
type rewriter interface {
	Rewrite(w io.Writer, r io.Reader) (inject.Result, error)
	Bytes(msg []byte) ([]byte, inject.Result, error)
	Check(r io.Reader) (inject.Result, error)
	// with returns the rewriter of one message, which records in d what
	// --rules decided for it.
	with(d *decided) rewriter
}

// plainRewriter is the rewriter of a run without --rules.
type plainRewriter struct{ *inject.Rewriter }

func (p plainRewriter) with(*decided) rewriter { return p }

// A decided is what --rules decided for one message, for its report: the
// --json fields of sesmime-relay's log line, and with explain set (for
// --dry-run) the lines that say how the rules decided.
type decided struct {
	Rule      string   `json:"rule,omitempty"`       // "default" when no rule matched
	ConfigSet string   `json:"config_set,omitempty"` // "" leaves the message's
	Tags      []string `json:"tags,omitempty"`       // NAME=VALUE
	explain   bool
	lines     []string
}

// say adds a line to the explanation, when d collects one.
func (d *decided) say(format string, args ...any) {
	if d.explain {
		d.lines = append(d.lines, fmt.Sprintf(format, args...))
	}
}

// A ruledRewriter rewrites each message as the rules decide for it. The
// run's has no d: each message gets its own from with.
type ruledRewriter struct {
	r  *ruleFlags
	rw *rules.Rewriter
	d  *decided
}

func (rr *ruledRewriter) with(d *decided) rewriter { return &ruledRewriter{rr.r, rr.rw, d} }

func (rr *ruledRewriter) Rewrite(w io.Writer, r io.Reader) (inject.Result, error) {
	return rr.rw.Rewrite(w, r, rr.decide)
}

func (rr *ruledRewriter) Bytes(msg []byte) ([]byte, inject.Result, error) {
	return rr.rw.Bytes(msg, rr.decide)
}

func (rr *ruledRewriter) Check(r io.Reader) (inject.Result, error) {
	return rr.rw.Check(r, rr.decide)
}

func (rr *ruledRewriter) decide(h rules.Header) (*rules.Decision, error) {
	return rr.r.decide(h, rr.d)
}

// decide returns the decision of the rules for a message with header h,
// and records it in rec. A reject, or recipients that need different
// rewrites, is an error.
func (r *ruleFlags) decide(h rules.Header, rec *decided) (*rules.Decision, error) {
	*rec = decided{explain: rec.explain} // a message may be decided twice (rewrite's look ahead)
	env, err := r.envelope(h, rec)
	if err != nil {
		return nil, err
	}
	d, groups, err := r.set.Decide(env, h)
	if he, ok := errors.AsType[*rules.HeaderError](err); ok {
		rec.Rule = he.Rule // it matched; a header value refused its tag
	}
	if err != nil {
		return nil, err
	}
	if d == nil {
		for _, g := range groups {
			if rec.explain { // each group's decision
				rec.lines = append(append(rec.lines, "recipients: "+angled(g.RcptTo)), g.Decision.Explain(r.file)...)
			}
		}
		return nil, mixedError(groups, r.file)
	}
	rec.Rule, rec.ConfigSet = d.Rule, d.ConfigurationSet
	for _, t := range d.Tags {
		rec.Tags = append(rec.Tags, t.String())
	}
	if rec.explain {
		rec.lines = append(rec.lines, d.Explain(r.file)...)
	}
	if d.Reject != "" {
		return nil, fmt.Errorf("rejected by %s: %s", ruleAt(d, r.file), d.Reject)
	}
	return d, nil
}

// ruleAt names the rule of d with its place in the rules file.
func ruleAt(d *rules.Decision, file string) string {
	if d.Line > 0 {
		return fmt.Sprintf("%s (%s:%d)", d.Rule, file, d.Line)
	}
	return d.Rule
}

// mixedError is the error for a message whose recipients need different
// rewrites: one file is one message, which carries one configuration set.
func mixedError(groups []rules.Group, file string) error {
	return fmt.Errorf("the recipients need different rewrites, and a file is one message (%s); give --rcpt-to for one group, or split the message", rules.Summary(groups, file))
}

// angled returns the addresses as "<a> <b>", "<>" for the null sender.
func angled(addrs []string) string {
	var b strings.Builder
	for i, a := range addrs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("<" + a + ">")
	}
	return b.String()
}

// envelope returns the envelope of a message with header h: the flags,
// with mail_from and rcpt_to read from the header when their flags are
// absent and a rule matches on them. A header field that cannot be read
// as addresses is then an error, not a guess.
func (r *ruleFlags) envelope(h rules.Header, rec *decided) (*rules.Envelope, error) {
	env := r.env
	switch {
	case r.flagFrom:
		rec.say("mail_from: <%s> (--mail-from)", env.MailFrom)
	case r.useFrom:
		from, field, err := rules.HeaderSender(h)
		if err != nil {
			return nil, fmt.Errorf("%w (give --mail-from)", err)
		}
		env.MailFrom = from
		rec.say("mail_from: <%s> (from the %s field; --mail-from gives the true envelope)", from, field)
	default:
		rec.say("mail_from: (no rule has a mail_from key)")
	}
	switch {
	case r.flagRcpt:
		rec.say("rcpt_to: %s (--rcpt-to)", angled(env.RcptTo))
	case r.useRcpt:
		rcpts, err := rules.HeaderRecipients(h)
		if err != nil {
			return nil, fmt.Errorf("%w (give --rcpt-to)", err)
		}
		env.RcptTo = rcpts
		if len(rcpts) == 0 {
			rec.say("rcpt_to: none (no address in To, Cc or Bcc; --rcpt-to gives the true envelope)")
		} else {
			rec.say("rcpt_to: %s (from the To, Cc and Bcc fields; --rcpt-to gives the true envelope)", angled(rcpts))
		}
	default:
		rec.say("rcpt_to: (no rule has an rcpt_to key)")
	}
	if env.AuthUser != "" {
		rec.say("auth_user: %s", env.AuthUser)
	}
	if env.Client.IsValid() {
		rec.say("client: %s", env.Client)
	}
	if env.Listener != "" {
		rec.say("listener: %s", env.Listener)
	}
	return &env, nil
}

package rules

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/parse"
)

// An Envelope is what a message's rules see besides its header.
type Envelope struct {
	MailFrom string     // the MAIL FROM address without <>; "" for the null sender
	RcptTo   []string   // the RCPT TO addresses without <>
	AuthUser string     // the SMTP AUTH identity; "" when not authenticated
	Client   netip.Addr // the client's address; the zero Addr matches no client key
	Listener string     // the name of the listener the message came in on
}

// A Header gives the unfolded values of the header fields with a name
// (ASCII case-insensitive), in order. *mimeheaders.Header and
// net/textproto.MIMEHeader satisfy it. A nil Header has no fields.
type Header interface {
	Values(name string) []string
}

// A Decision is the action chosen for a message and the rule that chose
// it.
type Decision struct {
	Rule  string // "rule 2 \"news\"", or "default" when no rule matched
	Index int    // 0-based index of the rule; -1 for the default
	Line  int    // the rule's line in its file; 0 for a default not from a file
	Action
}

// Evaluate returns the decision for a message: the action of the first rule
// whose keys all match, or the default. Each key matches when any of its
// values does; rcpt_to matches when any recipient in env.RcptTo does (use
// Split to decide per recipient). The tags of tag_from_header are resolved
// into Tags; a header value SES would refuse as a tag value is a
// *HeaderError. A field tag_from_header names that the message lacks sets no
// tag.
func (s *Set) Evaluate(env *Envelope, h Header) (*Decision, error) {
	for i, r := range s.rules {
		if r.matchEnv(env, env.RcptTo) && r.matchHeader(h) {
			return decide(r.name, i, r.line, r.Action, h)
		}
	}
	return decide("default", -1, 0, s.def, h)
}

func decide(name string, i, line int, a Action, h Header) (*Decision, error) {
	d := &Decision{Rule: name, Index: i, Line: line, Action: a}
	if len(a.TagFromHeader) == 0 {
		return d, nil
	}
	d.Tags = append([]sesmime.Tag(nil), a.Tags...)
	for _, ft := range a.TagFromHeader {
		var vs []string
		if h != nil {
			vs = h.Values(ft.Field)
		}
		if len(vs) == 0 {
			continue
		}
		t := sesmime.Tag{Name: ft.Tag, Value: vs[0]}
		if err := parse.ValidateTag(t); err != nil {
			return nil, &HeaderError{Rule: name, Line: line, Tag: ft.Tag, Field: ft.Field, Err: err}
		}
		d.Tags = append(d.Tags, t)
	}
	return d, nil
}

// A Group is recipients of one message that share a decision.
type Group struct {
	RcptTo   []string
	Decision *Decision
}

// Split evaluates the message for each recipient alone and groups the
// recipients whose decisions are equal, in the order of their first
// recipient. One group means one message serves them all; several mean the
// message must be sent once per group (or refused, where that cannot be
// done).
func (s *Set) Split(env *Envelope, h Header) ([]Group, error) {
	var gs []Group
	one := *env
	for _, rcpt := range env.RcptTo {
		one.RcptTo = []string{rcpt}
		d, err := s.Evaluate(&one, h)
		if err != nil {
			return nil, err
		}
		found := false
		for i := range gs {
			if gs[i].Decision.Equal(d) {
				gs[i].RcptTo = append(gs[i].RcptTo, rcpt)
				found = true
				break
			}
		}
		if !found {
			gs = append(gs, Group{RcptTo: []string{rcpt}, Decision: d})
		}
	}
	return gs, nil
}

// Decide returns the decision for one copy of a message to every
// recipient in env.RcptTo: Evaluate's when there are none, else the one
// decision Split gives them all. When the recipients need different
// decisions, d is nil and groups holds them, as Split returns them.
func (s *Set) Decide(env *Envelope, h Header) (d *Decision, groups []Group, err error) {
	if len(env.RcptTo) == 0 {
		d, err = s.Evaluate(env, h)
		return d, nil, err
	}
	if groups, err = s.Split(env, h); err != nil || len(groups) > 1 {
		return nil, groups, err
	}
	return groups[0].Decision, groups, nil
}

// A Class names the rules that may still match a recipient of an envelope
// whatever the header says. Two recipients of one envelope with equal
// classes get equal decisions for every header, so a relay can compare
// classes at RCPT time, before the header is known, to keep one decision
// per transaction.
type Class string

// Class returns the class of recipient rcpt of env (env.RcptTo is ignored).
func (s *Set) Class(env *Envelope, rcpt string) Class {
	var b strings.Builder
	rc := []string{rcpt}
	for i, r := range s.rules {
		if r.matchEnv(env, rc) {
			b.WriteString(strconv.Itoa(i))
			if r.envOnly {
				break // this rule matches whatever the header is
			}
			b.WriteByte(',')
		}
	}
	return Class(b.String())
}

// Equal reports whether d and e do the same to a message (the rules that
// chose them may differ).
func (d *Decision) Equal(e *Decision) bool {
	return d.key() == e.key()
}

func (d *Decision) key() string {
	return fmt.Sprintf("%q %q %d %q %v %q", d.ConfigurationSet, d.Tags, d.TagsMode, d.Headers, d.StripClientSES, d.Reject)
}

// Options returns the rewrite that carries out a: set the configuration
// set, tags (as TagsMode says) and custom headers, after removing every
// X-SES-* field the client sent if StripClientSES. Tags from header fields
// are in the Tags of a Decision, not of the rule's Action. Reject is not an
// option: check it first.
func (a *Action) Options() *sesmime.Options {
	return &sesmime.Options{
		ConfigurationSet: a.ConfigurationSet,
		Tags:             a.Tags,
		TagsMode:         a.TagsMode,
		Headers:          a.Headers,
		RemoveAllSES:     a.StripClientSES,
	}
}

func (r *rule) matchEnv(env *Envelope, rcpts []string) bool {
	if r.mailFrom != nil && !anyGlob(r.mailFrom, env.MailFrom) {
		return false
	}
	if r.rcptTo != nil {
		ok := false
		for _, rc := range rcpts {
			if anyGlob(r.rcptTo, rc) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if r.authUser != nil && (env.AuthUser == "" || !anyGlob(r.authUser, env.AuthUser)) {
		return false
	}
	if r.listener != nil && !anyGlob(r.listener, env.Listener) {
		return false
	}
	if r.client != nil {
		if !env.Client.IsValid() {
			return false
		}
		ip := env.Client.Unmap()
		ok := false
		for _, p := range r.client {
			ok = ok || p.Contains(ip)
		}
		if !ok {
			return false
		}
	}
	return true
}

func (r *rule) matchHeader(h Header) bool {
	for _, m := range r.header {
		var vs []string
		if h != nil {
			vs = h.Values(m.field)
		}
		ok := false
		for _, v := range vs {
			ok = ok || m.glob.match(v)
		}
		if !ok {
			return false
		}
	}
	for _, f := range r.headerAbsent {
		if h != nil && len(h.Values(f)) > 0 {
			return false
		}
	}
	return true
}

func anyGlob(gs []glob, s string) bool {
	for _, g := range gs {
		if g.match(s) {
			return true
		}
	}
	return false
}

// A glob matches a whole string: '*' any run of bytes, '?' one byte, '\'
// quotes the next byte; ASCII case is ignored.
type glob struct {
	pat  string // lower case, escapes kept
	null bool   // "<>": matches only the empty string
}

func compileGlob(p string, addr bool) (glob, error) {
	if addr && p == "<>" {
		return glob{null: true}, nil
	}
	if p == "" {
		return glob{}, fmt.Errorf("%w: empty pattern", ErrGlob)
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < ' ' || c == 127:
			return glob{}, fmt.Errorf("%w %q: control byte at %d", ErrGlob, p, i+1)
		case c == '\\':
			if i+1 == len(p) {
				return glob{}, fmt.Errorf("%w %q: trailing backslash", ErrGlob, p)
			}
			i++
		}
	}
	return glob{pat: strings.ToLower(p)}, nil
}

func (g glob) match(s string) bool {
	if g.null {
		return s == ""
	}
	return globMatch(g.pat, strings.ToLower(s))
}

// globMatch is the usual linear-time wildcard match with backtracking to
// the last '*'.
func globMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '*':
				star, mark = pi, si
				pi++
				continue
			case '?':
				pi++
				si++
				continue
			case '\\':
				if p[pi+1] == s[si] {
					pi += 2
					si++
					continue
				}
			default:
				if c == s[si] {
					pi++
					si++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		mark++
		pi, si = star+1, mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

package rules

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/parse"
)

// A Set is a loaded rules file: ordered rules and a default. A Set is
// immutable and safe for concurrent use.
type Set struct {
	rules []*rule
	def   Action
}

// Action is what a rule (or the default) does to a message.
type Action struct {
	ConfigurationSet string              // "" leaves X-SES-CONFIGURATION-SET as the client sent it
	Tags             []sesmime.Tag       // in file order
	TagsMode         inject.TagsMode     // how Tags meet the message's own tags
	Headers          []sesmime.TagHeader // custom tag headers, in file order
	// TagFromHeader makes tags whose values are header field values.
	TagFromHeader  []FieldTag
	StripClientSES bool   // remove every X-SES-* field the client sent
	Reject         string // non-empty: refuse the message with this reason
}

// A FieldTag names a tag whose value is the unfolded value of the first
// header field named Field.
type FieldTag struct {
	Tag   string
	Field string
}

type rule struct {
	name string
	line int
	Action

	mailFrom, rcptTo, authUser, listener []glob
	client                               []netip.Prefix
	header                               []headerMatch
	headerAbsent                         []string
	// envOnly: the rule has no header keys, so the envelope alone decides.
	envOnly bool
}

type headerMatch struct {
	field string
	glob  glob
}

// Load reads and validates the rules file at path.
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates the rules in data; name is used in errors.
func Parse(name string, data []byte) (*Set, error) {
	s, err := parseSet(data)
	if e, ok := err.(*Error); ok {
		e.File = name
	}
	return s, err
}

// Static returns a Set with no rules whose default is a. It is how a
// command line's --config-set and --tag become a rule set.
func Static(a Action) (*Set, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	return &Set{def: a}, nil
}

// Default returns the action applied when no rule matches.
func (s *Set) Default() Action { return s.def }

// Len returns the number of rules, not counting the default.
func (s *Set) Len() int { return len(s.rules) }

// WithDefault returns a copy of s whose default action is a.
func (s *Set) WithDefault(a Action) (*Set, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	return &Set{rules: s.rules, def: a}, nil
}

func (a *Action) validate() error {
	for _, ft := range a.TagFromHeader {
		if err := parse.ValidateTag(sesmime.Tag{Name: ft.Tag, Value: "v"}); err != nil {
			return err
		}
	}
	_, err := inject.NewRewriter(a.Options())
	return err
}

var (
	matchKeys  = []string{"mail_from", "rcpt_to", "auth_user", "client", "listener", "header", "header_absent"}
	actionKeys = []string{"config_set", "tags", "tags_mode", "headers", "tag_from_header", "strip_client_ses", "reject"}
)

func parseSet(data []byte) (*Set, error) {
	root, err := parseTOML(data)
	if err != nil {
		return nil, err
	}
	s := &Set{}
	for _, k := range root.keys {
		v := root.tab[k]
		switch k {
		case "default":
			if v.kind != unstable.Table {
				return nil, typeErr(v, "default", "a table")
			}
			r := &rule{name: "default", line: v.pos.line}
			if err := r.load(v, "default", actionKeys); err != nil {
				return nil, err
			}
			s.def = r.Action
		case "rule":
			if v.kind != unstable.Array {
				return nil, typeErr(v, "rule", "an array of tables ([[rule]])")
			}
			for i, t := range v.arr {
				if t.kind != unstable.Table {
					return nil, typeErr(t, "rule", "an array of tables ([[rule]])")
				}
				r := &rule{name: fmt.Sprintf("rule %d", i+1), line: t.pos.line}
				if n, ok := t.tab["name"]; ok {
					if n.kind != unstable.String {
						return nil, typeErr(n, r.name+": name", "a string")
					}
					if n.str == "" || strings.IndexFunc(n.str, func(c rune) bool { return c < ' ' || c > '~' }) >= 0 {
						return nil, errAt(n.vpos, fmt.Errorf("%s: name %q: %w (printable ASCII)", r.name, n.str, ErrEmpty))
					}
					r.name = fmt.Sprintf("rule %d %q", i+1, n.str)
				}
				if err := r.load(t, r.name, append(append([]string{"name"}, matchKeys...), actionKeys...)); err != nil {
					return nil, err
				}
				s.rules = append(s.rules, r)
			}
		default:
			return nil, errAt(v.pos, fmt.Errorf("%w %q (want [default] or [[rule]])", ErrUnknownKey, k))
		}
	}
	return s, nil
}

func errAt(p pos, err error) *Error { return &Error{Line: p.line, Column: p.col, Err: err} }

func typeErr(v *value, what, want string) *Error {
	return errAt(v.pos, fmt.Errorf("%s: %w: %s, want %s", what, ErrType, kindName(v.kind), want))
}

// load fills r from the table t, allowing only the keys in allowed.
func (r *rule) load(t *value, ctx string, allowed []string) error {
	for _, k := range t.keys {
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return errAt(t.tab[k].pos, fmt.Errorf("%s: %w %q", ctx, ErrUnknownKey, k))
		}
	}
	var err error
	get := func(k string) *value { return t.tab[k] }
	globs := func(k string, addr bool) []glob {
		v := get(k)
		if v == nil || err != nil {
			return nil
		}
		var gs []glob
		gs, err = loadGlobs(v, ctx+": "+k, addr)
		return gs
	}
	r.mailFrom = globs("mail_from", true)
	r.rcptTo = globs("rcpt_to", true)
	r.authUser = globs("auth_user", false)
	r.listener = globs("listener", false)
	if err != nil {
		return err
	}
	if v := get("client"); v != nil {
		list, err := stringList(v, ctx+": client")
		if err != nil {
			return err
		}
		for _, s := range list {
			p, err := parsePrefix(s.str)
			if err != nil {
				return errAt(s.vpos, fmt.Errorf("%s: client %q: %w", ctx, s.str, ErrCIDR))
			}
			r.client = append(r.client, p)
		}
	}
	if v := get("header"); v != nil {
		if v.kind != unstable.Table {
			return typeErr(v, ctx+": header", "a table of field name = glob")
		}
		for _, f := range v.keys {
			x := v.tab[f]
			if err := checkFieldName(x, ctx+": header", f); err != nil {
				return err
			}
			if x.kind != unstable.String {
				return typeErr(x, ctx+": header "+f, "a string")
			}
			g, err := compileGlob(x.str, false)
			if err != nil {
				return errAt(x.vpos, fmt.Errorf("%s: header %s: %w", ctx, f, err))
			}
			r.header = append(r.header, headerMatch{f, g})
		}
	}
	if v := get("header_absent"); v != nil {
		list, err := stringList(v, ctx+": header_absent")
		if err != nil {
			return err
		}
		for _, s := range list {
			if err := checkFieldName(s, ctx+": header_absent", s.str); err != nil {
				return err
			}
			r.headerAbsent = append(r.headerAbsent, s.str)
		}
	}
	r.envOnly = len(r.header) == 0 && len(r.headerAbsent) == 0
	return r.loadActions(t, ctx)
}

func (r *rule) loadActions(t *value, ctx string) error {
	a := &r.Action
	if v := t.tab["config_set"]; v != nil {
		if v.kind != unstable.String {
			return typeErr(v, ctx+": config_set", "a string")
		}
		if err := parse.ValidateConfigurationSet(v.str); err != nil {
			return errAt(v.vpos, fmt.Errorf("%s: config_set: %w", ctx, err))
		}
		a.ConfigurationSet = v.str
	}
	tags, err := stringTable(t.tab["tags"], ctx+": tags", "name = value")
	if err != nil {
		return err
	}
	for _, x := range tags {
		tag := sesmime.Tag{Name: x.key, Value: x.str}
		if err := parse.ValidateTag(tag); err != nil {
			return errAt(x.pos, fmt.Errorf("%s: tags: %w", ctx, err))
		}
		a.Tags = append(a.Tags, tag)
	}
	if v := t.tab["tags_mode"]; v != nil {
		if v.kind != unstable.String {
			return typeErr(v, ctx+": tags_mode", "a string")
		}
		m, ok := tagsModes[v.str]
		if !ok {
			return errAt(v.vpos, fmt.Errorf("%s: tags_mode %q: %w", ctx, v.str, ErrTagsMode))
		}
		a.TagsMode = m
	}
	headers, err := stringTable(t.tab["headers"], ctx+": headers", "field name = value")
	if err != nil {
		return err
	}
	for i, x := range headers {
		h := sesmime.TagHeader{Name: x.key, Value: x.str}
		if err := parse.ValidateHeader(h); err != nil {
			return errAt(x.pos, fmt.Errorf("%s: headers: %w", ctx, err))
		}
		for _, g := range headers[:i] {
			if strings.EqualFold(g.key, x.key) {
				return errAt(x.pos, fmt.Errorf("%s: headers: %w: %s and %s", ctx, ErrConflict, g.key, x.key))
			}
		}
		a.Headers = append(a.Headers, h)
	}
	fts, err := stringTable(t.tab["tag_from_header"], ctx+": tag_from_header", "tag name = field name")
	if err != nil {
		return err
	}
	for _, x := range fts {
		// The value is checked per message; the name now.
		if err := parse.ValidateTag(sesmime.Tag{Name: x.key, Value: "v"}); err != nil {
			return errAt(x.pos, fmt.Errorf("%s: tag_from_header: %w", ctx, err))
		}
		if err := checkFieldName(x.value, ctx+": tag_from_header."+x.key, x.str); err != nil {
			return err
		}
		for _, tag := range a.Tags {
			if tag.Name == x.key {
				return errAt(x.pos, fmt.Errorf("%s: tag_from_header.%s: %w: tag also in tags", ctx, x.key, ErrConflict))
			}
		}
		a.TagFromHeader = append(a.TagFromHeader, FieldTag{Tag: x.key, Field: x.str})
	}
	if v := t.tab["strip_client_ses"]; v != nil {
		if v.kind != unstable.Bool {
			return typeErr(v, ctx+": strip_client_ses", "a boolean")
		}
		a.StripClientSES = v.str == "true"
	}
	if v := t.tab["reject"]; v != nil {
		if v.kind != unstable.String {
			return typeErr(v, ctx+": reject", "a string")
		}
		if v.str == "" || len(v.str) > 200 || strings.IndexFunc(v.str, func(c rune) bool { return c < ' ' || c > '~' }) >= 0 {
			return errAt(v.vpos, fmt.Errorf("%s: reject %q: %w", ctx, v.str, ErrReason))
		}
		for _, k := range actionKeys {
			if k != "reject" && t.tab[k] != nil {
				return errAt(t.tab[k].pos, fmt.Errorf("%s: %w: reject and %s", ctx, ErrConflict, k))
			}
		}
		a.Reject = v.str
	}
	return nil
}

var tagsModes = map[string]inject.TagsMode{"replace": sesmime.Replace, "merge": sesmime.Merge, "keep": sesmime.Keep}

type entry struct {
	key string
	*value
}

// stringTable returns the entries of a table whose values are all strings;
// v == nil is an empty table.
func stringTable(v *value, ctx, want string) ([]entry, error) {
	if v == nil {
		return nil, nil
	}
	if v.kind != unstable.Table {
		return nil, typeErr(v, ctx, "a table of "+want)
	}
	var es []entry
	for _, k := range v.keys {
		x := v.tab[k]
		if x.kind != unstable.String {
			return nil, typeErr(x, ctx+"."+k, "a string")
		}
		es = append(es, entry{k, x})
	}
	return es, nil
}

func stringList(v *value, ctx string) ([]*value, error) {
	switch v.kind {
	case unstable.String:
		return []*value{v}, nil
	case unstable.Array:
		if len(v.arr) == 0 {
			return nil, errAt(v.pos, fmt.Errorf("%s: %w: empty list matches nothing", ctx, ErrEmpty))
		}
		for _, x := range v.arr {
			if x.kind != unstable.String {
				return nil, errAt(x.vpos, fmt.Errorf("%s: %w: %s in the list, want strings", ctx, ErrType, kindName(x.kind)))
			}
		}
		return v.arr, nil
	}
	return nil, typeErr(v, ctx, "a string or a list of strings")
}

func loadGlobs(v *value, ctx string, addr bool) ([]glob, error) {
	list, err := stringList(v, ctx)
	if err != nil {
		return nil, err
	}
	var gs []glob
	for _, s := range list {
		g, err := compileGlob(s.str, addr)
		if err != nil {
			return nil, errAt(s.vpos, fmt.Errorf("%s: %w", ctx, err))
		}
		gs = append(gs, g)
	}
	return gs, nil
}

func checkFieldName(v *value, ctx, name string) error {
	if name == "" || strings.IndexFunc(name, func(c rune) bool { return c <= ' ' || c >= 127 || c == ':' }) >= 0 {
		p := v.pos
		if v.kind == unstable.String && name == v.str {
			p = v.vpos
		}
		return errAt(p, fmt.Errorf("%s: %q: %w", ctx, name, ErrFieldName))
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, err
		}
		if p.Masked() != p {
			return p, fmt.Errorf("host bits set")
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

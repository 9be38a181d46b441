package rules

import (
	"fmt"
	"strings"
)

// Explain returns the lines a dry run prints for d: the rule that chose it
// (with file:line when file is not "" and the rule has a line), then its
// reject reason, or the configuration set, tags with their mode, custom
// headers and strip_client_ses. sesmime inject --rules --dry-run and
// sesmime-relay explain both print these lines.
func (d *Decision) Explain(file string) []string {
	lines := []string{"rule: " + d.Rule + d.where(file)}
	if d.Reject != "" {
		return append(lines, "reject: "+d.Reject)
	}
	var tags, hs []string
	for _, t := range d.Tags {
		tags = append(tags, t.String())
	}
	for _, h := range d.Headers {
		hs = append(hs, h.Name+": "+h.Value)
	}
	return append(lines,
		"config_set: "+orUnchanged(d.ConfigurationSet),
		fmt.Sprintf("tags (%v): %s", d.TagsMode, orUnchanged(strings.Join(tags, ", "))),
		"headers: "+orUnchanged(strings.Join(hs, "; ")),
		fmt.Sprintf("strip_client_ses: %v", d.StripClientSES))
}

// Summary names the decision of each group, for an error about recipients
// that cannot share one message: "<a@x> and 1 more: rule 1 "eu" (file:5);
// <b@y>: default". file is as for Explain.
func Summary(groups []Group, file string) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "<%s>", g.RcptTo[0])
		if len(g.RcptTo) > 1 {
			fmt.Fprintf(&b, " and %d more", len(g.RcptTo)-1)
		}
		b.WriteString(": " + g.Decision.Rule + g.Decision.where(file))
	}
	return b.String()
}

// where returns " (file:line)" for a rule with a line in file, else "".
func (d *Decision) where(file string) string {
	if file == "" || d.Line == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", file, d.Line)
}

func orUnchanged(s string) string {
	if s == "" {
		return "(unchanged)"
	}
	return s
}

// Uses reports whether a rule of s has the match key key ("mail_from",
// "rcpt_to", "auth_user", "client", "listener", "header" or
// "header_absent"). A command that guesses an envelope key from the header
// needs the guess only when a rule matches on it.
func (s *Set) Uses(key string) bool {
	for _, r := range s.rules {
		var has bool
		switch key {
		case "mail_from":
			has = r.mailFrom != nil
		case "rcpt_to":
			has = r.rcptTo != nil
		case "auth_user":
			has = r.authUser != nil
		case "client":
			has = r.client != nil
		case "listener":
			has = r.listener != nil
		case "header":
			has = r.header != nil
		case "header_absent":
			has = r.headerAbsent != nil
		}
		if has {
			return true
		}
	}
	return false
}

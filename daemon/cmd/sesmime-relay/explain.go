package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"

	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/rules"
)

// explain is the dry run: it loads a rules file, reads a sample message
// (its header only) and prints the decision the relay would take for the
// envelope given by flags, per recipient group. Nothing is sent.
func explain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sesmime-relay explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rulesFile := fs.String("rules", "", "rules `FILE` (required)")
	from := fs.String("mail-from", "", "envelope sender `ADDR` (\"\" for the null sender)")
	authUser := fs.String("auth-user", "", "SMTP AUTH `USER`")
	client := fs.String("client", "", "client `IP`")
	listener := fs.String("listener", "smtp", "listener `NAME`")
	var rcpts multi
	fs.Var(&rcpts, "rcpt-to", "recipient `ADDR` (repeatable)")
	if help, err := parseFlags(fs, args); help {
		return 0
	} else if err != nil {
		return 2
	}
	if *rulesFile == "" || fs.NArg() > 1 {
		fmt.Fprintln(stderr, "usage: sesmime-relay explain --rules FILE [--mail-from A] [--rcpt-to B]... [--auth-user U] [--client IP] [--listener NAME] [MESSAGE]")
		return 2
	}
	set, err := rules.Load(*rulesFile)
	if err != nil {
		fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
		return 1
	}
	in := stdin
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	h, err := mimeheaders.Read(bufio.NewReader(in), mimeheaders.Limits{})
	if err != nil {
		fmt.Fprintf(stderr, "sesmime-relay: message: %v\n", err)
		return 1
	}
	env := &rules.Envelope{MailFrom: *from, RcptTo: rcpts, AuthUser: *authUser, Listener: *listener}
	if *client != "" {
		if env.Client, err = netip.ParseAddr(*client); err != nil {
			fmt.Fprintf(stderr, "sesmime-relay: --client: %v\n", err)
			return 2
		}
	}
	if len(rcpts) == 0 {
		env.RcptTo = []string{""}
	}
	groups, err := set.Split(env, h)
	if err != nil {
		fmt.Fprintf(stderr, "sesmime-relay: %v\n", err)
		return 1
	}
	for i, g := range groups {
		d := g.Decision
		switch {
		case len(groups) == 1:
		case i == 0:
			fmt.Fprintf(stdout, "transaction 1:\n")
		default:
			// The relay takes the first recipient's group and defers the
			// others at RCPT; the client sends them in later transactions.
			fmt.Fprintf(stdout, "transaction %d (the relay answers 452 4.5.3 to these recipients in the transactions before):\n", i+1)
		}
		fmt.Fprintf(stdout, "recipients: %s\n", strings.Join(g.RcptTo, " "))
		for _, l := range d.Explain(*rulesFile) {
			fmt.Fprintln(stdout, l)
		}
		if d.Reject != "" {
			fmt.Fprintf(stdout, "reply: 550 5.7.1 %s\n", d.Reject)
		}
	}
	return 0
}

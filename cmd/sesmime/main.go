package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is the program version; release builds set it with
// -ldflags "-X main.version=v1.2.3". When empty, the module version from
// the build information is used.
var version = ""

// Exit codes.
const (
	exitOK      = 0 // every file succeeded
	exitFailed  = 1 // at least one file failed
	exitUsage   = 2 // bad command line or flag value
	exitSignal0 = 128
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// A verb is one subcommand: sesmime VERB [flags] [PATH...].
type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, verb string, args []string, stdin io.Reader, stdout, stderr io.Writer) int
	usage   string // the help of a verb without flags; printUsage prints the others'
}

// verbs lists the subcommands in help order.
var verbs []*verb

func init() {
	verbs = []*verb{
		{name: "inject", summary: "set the configuration set, tags and custom tag headers", run: runFiles},
		{name: "strip", summary: "remove the configuration set, tags, headers or every X-SES-* field", run: runFiles},
		{name: "check", summary: "report what SES would reject or silently ignore", run: runFiles},
		{name: "version", summary: "print the version", run: runVersion,
			usage: "usage: sesmime version\n\nPrint the version of sesmime.\n"},
		{name: "help", summary: "show help for a verb", run: runHelp,
			usage: "usage: sesmime help [VERB]\n\nShow help for sesmime or one of its verbs.\n"},
	}
}

func lookupVerb(name string) *verb {
	for _, v := range verbs {
		if v.name == name {
			return v
		}
	}
	return nil
}

// run is the whole program: it parses args, runs the verb and returns the
// exit code. Runs over files stop cleanly on SIGINT and SIGTERM and then
// return 128 plus the signal number.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdin, stdout, stderr)
}

// interrupted is the cancel cause of a run stopped by a signal.
type interrupted struct{ sig syscall.Signal }

// Error names the signal as a shell user knows it: "stopped by SIGINT".
func (i interrupted) Error() string {
	switch i.sig {
	case syscall.SIGINT:
		return "stopped by SIGINT"
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	}
	return "stopped by " + i.sig.String()
}

// exitCode returns the exit code for a run stopped by ctx: 128 plus the
// number of its signal, SIGINT when the cause is none.
func exitCode(ctx context.Context) int {
	in, ok := errors.AsType[interrupted](context.Cause(ctx))
	if !ok {
		in.sig = syscall.SIGINT
	}
	return exitSignal0 + int(in.sig)
}

// runContext is run with the cancellation context given, for tests.
func runContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printMainUsage(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		printMainUsage(stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	v := lookupVerb(name)
	if v == nil {
		var names []string
		for _, v := range verbs {
			names = append(names, v.name)
		}
		if s := suggest(name, names); s != "" && !strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "sesmime: unknown verb %q: did you mean %s?\nRun 'sesmime help' for usage.\n", name, s)
		} else {
			fmt.Fprintf(stderr, "sesmime: unknown verb %q\nRun 'sesmime help' for usage.\n", name)
		}
		return exitUsage
	}
	return v.run(ctx, v.name, args[1:], stdin, stdout, stderr)
}

func printMainUsage(w io.Writer) {
	fmt.Fprint(w, `sesmime sets or removes the Amazon SES headers X-SES-CONFIGURATION-SET,
X-SES-MESSAGE-TAGS and custom tag headers in raw email, leaving every other
byte unchanged.

Usage:

	sesmime VERB [flags] [PATH|-]...

Verbs:

`)
	for _, v := range verbs {
		fmt.Fprintf(w, "\t%-8s %s\n", v.name, v.summary)
	}
	fmt.Fprint(w, `
Run 'sesmime help VERB' for the flags of a verb.
`)
}

func runHelp(_ context.Context, _ string, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		printMainUsage(stdout)
		return exitOK
	case 1:
		v := lookupVerb(args[0])
		if v == nil {
			fmt.Fprintf(stderr, "sesmime help: unknown verb %q\nRun 'sesmime help' for the list.\n", args[0])
			return exitUsage
		}
		if v.usage == "" {
			printUsage(stdout, v.name)
		}
		fmt.Fprint(stdout, v.usage)
		return exitOK
	}
	fmt.Fprintln(stderr, "usage: sesmime help [VERB]")
	return exitUsage
}

func runVersion(_ context.Context, _ string, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: sesmime version")
		return exitUsage
	}
	fmt.Fprintf(stdout, "sesmime %s\n", versionString())
	return exitOK
}

// versionString returns version, else the main module's version that go
// build stamps from version control (a pseudo-version, +dirty for
// uncommitted changes) and the Go version.
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return cmp.Or(bi.Main.Version, "(devel)") + " " + bi.GoVersion
}

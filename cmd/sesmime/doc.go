// Sesmime sets or removes the Amazon SES headers X-SES-CONFIGURATION-SET,
// X-SES-MESSAGE-TAGS and custom tag headers in raw email, leaving every
// other byte of each message unchanged.
//
// Usage:
//
//	sesmime inject [--config-set NAME] [--tag NAME=VALUE]... [--header 'NAME: VALUE']...
//	               [--tags-mode replace|merge|keep] [--rules FILE [--mail-from ADDR] [--rcpt-to ADDR]...
//	               [--auth-user USER] [--client IP] [--listener NAME]] [-i | -o DIR] [-r] [-j N] [--ext .EXT]...
//	               [--all-files] [--files-from FILE|- [-0]] [-n] [--progress WHEN] [--json] [PATH|-]...
//	sesmime strip  [--config-set] [--tags] [--header NAME]... [--all-ses] [--force] (same file flags) [PATH|-]...
//	sesmime check  [--api v1|v2|smtp] [--header NAME]... [-r] [-j N] [--ext .EXT]...
//	               [--all-files] [--files-from FILE|- [-0]] [--progress WHEN] [--json] [PATH|-]...
//	sesmime version
//	sesmime help [VERB]
//
// Flags are POSIX style (github.com/spf13/pflag): -j2, -ir, --config-set=news
// and --tag=a=b all work, flags may follow PATHs, and "--" ends them.
//
// With no PATH, or PATH "-", sesmime reads one message from stdin and
// writes it to stdout:
//
//	sesmime inject --config-set news --tag campaign=spring < a.eml > b.eml
//
// One file without -i or -o is written to stdout. More inputs need -i, which
// rewrites each file in place, or -o DIR, which writes the rewritten files
// under DIR: a file found under a directory argument at its path relative
// to that directory (as cp -r dir/. DIR), a file named directly or by
// --files-from at its path relative to the current directory, or, when
// absolute, at DIR plus that path. Two inputs with one output fail the
// second; writes never leave DIR, not even through a symbolic link in it:
//
//	sesmime inject -ir --config-set news archive/
//	find /srv/mail -name '*.eml' -print0 | sesmime strip --all-ses -o clean --files-from - -0
//
// -r walks directories, taking files whose name ends in an --ext (default
// .eml, case ignored; --all-files or --ext '*' takes every regular file, for
// Maildir) and skipping dotfiles; symbolic links met in the walk are
// skipped with a note, so linked directories are not followed. A run that
// matches no file says what it skipped and exits 1. --files-from names are
// taken verbatim, one a line, or ending in NUL with -0. -j N rewrites N files at a
// time (default: the number of CPUs); the per-file report keeps the input
// order whatever N is.
//
// # In place
//
// With -i a reader, a crash or a second run sees each file as its old or its
// new message, never a mix or another message. The new message is written,
// readable by its owner only, to a temporary file (.sesmime-*.tmp) in the
// same directory, made durable (on Linux one syncfs(2) per file system and
// batch; elsewhere an fsync per file, and on Windows the last renames may
// be lost in a crash), given the original's owner, group, mode (set-ID bits
// included) and extended attributes (ACLs too), and renamed over the
// original. A file whose metadata cannot be kept is refused and left as it
// was. A descriptor opened before keeps reading the old message; other
// hard links keep it too. A file whose message would not change is left
// alone, mtime included. A symbolic link named on the command line stays a
// link: its target is rewritten. On an error the original is untouched and
// the temporary file is removed. On SIGINT or SIGTERM no new file is
// started, a copy under way stops within a MiB and its file is left as it
// was (even mid-way through a huge message), the files already written are
// renamed, and sesmime exits with 128 plus the signal number; a run that
// writes only to stdout, or a second signal, exits at once. -o writes its files the same way, keeping mode, ACL and
// user.* attributes (and the owner, as root). -i, -o and --dry-run refuse
// named pipes, devices and sockets without opening them.
//
// # Reports
//
// Errors go to stderr as "sesmime: PATH: line N: reason" and the other files
// still run; a directory -i or -o cannot write in is reported once, as
// "DIR: not writable (needed by -i)". A run over several files ends with a
// summary on stderr (files seen, changed, unchanged, failed, bytes written,
// elapsed, and the files skipped). --json instead writes one object per
// file to stdout (encoding/json),
//
//	{"path":"a.eml","changed":true,"bytes":1234,"changes":[{"op":"added","field":"X-SES-CONFIGURATION-SET","line":0,"old":"","new":"news"}]}
//
// with "error" (and "line" when the error is about one) for a failed file,
// with --rules "rule" ("default" when no rule matched), "config_set" and
// "tags" (NAME=VALUE) as decided, the keys of sesmime-relay's log line,
// "skipped" for a file left alone, "path_bytes" (base64) when the path is
// not valid UTF-8, and a final {"summary":{...}} object. --dry-run changes
// nothing on disk and prints, per file, the fields that would be added,
// replaced or removed with their old and new values. A progress bar is drawn
// on stderr when it is a terminal and the run covers several files: the run
// is counted ahead, so it shows done/total files and a true percentage and
// ETA once the count is complete, and none before; --progress always or
// never forces it. After SIGINT or SIGTERM the last line says how many
// files were done and that the rest are untouched.
//
// Every flag value is checked against SES's rules before any file is
// touched; a bad one is a usage error.
//
// # Rules
//
// inject --rules FILE chooses each message's rewrite with the rules file of
// sesmime-relay and sesmime-milter (package rules). The envelope comes from
// --mail-from ("" or <> for the null sender), --rcpt-to (repeatable),
// --auth-user, --client and --listener. Without --mail-from the sender is
// the address of the first Return-Path field (<> the null sender), else of
// the first Sender, else of the first From, which must hold one address;
// without --rcpt-to the recipients are those of every To, then Cc, then
// Bcc field. The header is read only for a key some rule matches on, and
// a field that does not parse as addresses fails the file. This fallback
// is a convenience: the message's author wrote those fields, so a rule that
// must hold against the sender needs the flags. auth_user and client rules
// never match without their flags; without --listener the listener name is
// empty, which only a glob such as "*" matches.
//
// A file is one message: when the rules give its recipients different
// rewrites (Split makes more than one group) the file fails, naming each
// group's first recipient and rule; --rcpt-to chooses one group. A file a
// rule rejects fails with the rule and the reason. Failed files are left
// alone, the others go on, and the run exits 1. --config-set, --tag,
// --tags-mode and --header replace those keys of the file's [default], as
// for the relay and the milter; a matching rule still wins, and a [default]
// that rejects refuses them (a usage error). A rules file that does not
// load is a usage error with its file:line:column. --dry-run prints per
// file the envelope (and which flag or field gave each key), the decision
// as sesmime-relay explain prints it (rules.Decision.Explain), then the
// fields that would change.
//
// # Check
//
// check rewrites nothing: it lints each message with parse.Lint and prints
// the findings like go vet, "PATH:LINE: SEVERITY: CODE: message", sorted by path then
// line, or with --json one object per finding, one per unreadable file, and
// a summary:
//
//	{"path":"a.eml","line":3,"severity":"error","code":"duplicate-field","message":"..."}
//
// --api v1|v2|smtp sets the size limit (10 MiB for v1, 40 MiB otherwise,
// counted after base64); --header names custom tag headers to check. It
// exits 1 when any finding is an error or a file cannot be read, 0 when
// there are only warnings. On SIGINT or SIGTERM it stops between files,
// prints what it found and exits as inject does. docs/check.md lists every
// code.
//
// # Exit status
//
// 0 when every file succeeded, 1 when any failed (or check found an
// error-level finding), 2 on a usage error, and 128+N when stopped by
// signal N.
package main

// Command sesmime-milter applies sesmime's rules inside Postfix (or
// Sendmail) as a milter: every message gets exactly the X-SES-* fields the
// rules choose, with the same values, positions and counts as
// `sesmime inject` writes.
//
//	sesmime-milter --listen inet:HOST:PORT|unix:PATH [--rules FILE]
//	    [--config-set NAME] [--tag NAME=VALUE]... [--mixed reject|first]
//	    [--on-error tempfail|reject|accept] [--timeout 10s]
//	    [--metrics HOST:PORT] [--socket-mode 0666] [--shutdown-timeout 30s]
//
// --config-set and --tag override the rules file's [default] (or are the
// whole rule set without --rules). The log is one JSON line per message
// on stdout; SIGHUP reloads the rules (an invalid file keeps the old
// ones); SIGTERM and SIGINT stop accepting connections and wait up to
// --shutdown-timeout for the open ones. See daemon/README.md.
package main

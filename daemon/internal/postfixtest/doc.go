// Package postfixtest runs a private Postfix instance for a test: its own
// configuration, queue and data directories under a fresh temporary
// directory, smtpd on a free port of 127.0.0.1, no DNS, no chroot, no
// syslog (the mail log is captured and shown when the test fails), and
// everything relayed to a given [127.0.0.1]:PORT.
//
//	sink := smtpsink.Start(t, nil)
//	pf := postfixtest.Start(t, &postfixtest.Options{
//		RelayHost:    sink.Addr,
//		SMTPDMilters: "inet:127.0.0.1:10025",
//	})
//	// submit to pf.Addr over SMTP, or pf.Sendmail for the non-SMTP path
//	pf.WaitEmpty(ctx)
//
// Several instances may run at once (in one test binary or in several):
// each has its own directories, port and master process. Start skips the
// test (t.Skip, with the reason) when Postfix is not installed or the test
// does not run as root, which Postfix's master requires.
//
// # Limits
//
// Linux with Debian's postfix package layout (postfix, postqueue,
// sendmail in PATH or /usr/sbin); Postfix 3.3 or later (start-fg). The
// temporary directory and its parents must be searchable by user postfix.
package postfixtest

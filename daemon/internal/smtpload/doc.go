// Command smtpload is the load generator of bench/relay.sh: it sends N
// messages of SIZE bytes to an SMTP server over SESSIONS concurrent
// sessions and prints the rate and the latency of each transaction, which
// Postfix's smtp-source does not report.
//
//	smtpload -addr 127.0.0.1:2525 -sessions 16 -n 2000 -size 10240
//
// A transaction is, as with smtp-source, one connection: dial, greeting,
// EHLO, MAIL, RCPT, DATA, the message, and the reply to its final dot;
// the QUIT after it is not counted. With -reuse each session keeps its
// connection and a transaction is MAIL to the reply after the dot.
//
// Without -rate every session starts its next transaction as soon as the
// last one ends (a closed loop: at full load latency is mostly queueing,
// sessions over throughput). With -rate R transaction i is due at i/R
// seconds after the start and its latency counts from then, waiting for a
// free session included, so latencies at a rate both paths sustain compare
// service times.
//
// It prints one line of key=value pairs:
//
//	msgs=2000 failed=0 secs=4.210 rate=475.1 p50_ms=12.30 p99_ms=30.10 max_ms=45.00
//
// rate counts accepted messages over the wall time of the whole run;
// percentiles are nearest-rank over accepted transactions. Any failed
// transaction is reported on stderr and makes the exit status 1.
//
// # Limits
//
// The message is built once (ASCII header, CRLF lines of text) and sent
// to every recipient unchanged; it has no dot-stuffing to do. Latencies
// are held in memory, 8 bytes a message.
package main

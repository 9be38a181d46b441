// Command smtpload is the load generator of bench/relay.sh: it sends N
// messages of SIZE bytes to each of one or more SMTP servers over SESSIONS
// concurrent sessions and prints the rate and the latency of each
// transaction, which Postfix's smtp-source does not report.
//
//	smtpload -addr 127.0.0.1:2525 -sessions 16 -n 2000 -size 10240
//	smtpload -addr floor=127.0.0.1:2525,relay=127.0.0.1:2526 -rate 100 -n 1000
//
// A transaction is, as with smtp-source, one connection: dial, greeting,
// EHLO, MAIL, RCPT, DATA, the message, and the reply to its final dot;
// the QUIT after it is not counted. With -reuse each session keeps its
// connection and a transaction is MAIL to the reply after the dot.
//
// With several targets transaction i goes to target i mod the number of
// targets, so a baseline and the path under test share the same sessions
// and the same load from other processes, transaction by transaction.
//
// Without -rate every session starts its next transaction as soon as the
// last one ends (a closed loop: at full load latency is mostly queueing,
// sessions over throughput). With -rate R each target gets R transactions
// a second on a fixed schedule and a latency counts from the scheduled
// start, waiting for a free session included (no coordinated omission), so
// latencies at a rate every path sustains compare service times.
//
// It prints one line of key=value pairs per target:
//
//	target=floor msgs=1000 failed=0 secs=10.003 rate=100.0 p50_ms=1.30 p99_ms=4.10 max_ms=9.00
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

// Package ops is the operational code sesmime-relay and sesmime-milter
// share: Prometheus metrics, the /metrics, /healthz and /readyz endpoints,
// one JSON log line per message, a rules file reloaded on SIGHUP (an
// invalid file keeps the old rules) and the signal loop that turns SIGTERM
// into a graceful stop.
//
// Nothing here knows about SMTP or milters: a daemon records each message
// with Metrics.Observe and Log, and serves Health.
//
// # Limits
//
// The HTTP endpoints answer only GET; the metrics registry is the
// daemon's own (no global state), so tests can run several daemons in one
// process.
package ops

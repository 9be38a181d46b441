package ops

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are a daemon's Prometheus collectors, registered in Registry
// under the daemon's namespace (e.g. sesmime_relay_messages_total).
type Metrics struct {
	Registry *prometheus.Registry

	Messages  *prometheus.CounterVec // by result ("accepted", "rejected", "deferred") and reply code
	Bytes     prometheus.Counter     // message bytes accepted
	Latency   prometheus.Histogram   // seconds spent upstream per message
	RuleHits  *prometheus.CounterVec // by rule ("default" when none matched)
	Throttles *prometheus.CounterVec // by source ("local" rate limit, "upstream" throttling)
	InFlight  prometheus.Gauge       // messages being handled now
	Reloads   *prometheus.CounterVec // rules reloads by result ("ok", "error")
	// CertReloads and UsersReloads count the reloads of a listener's TLS
	// certificate and key (by listener and result) and of the users file
	// (by result); only the relay has them.
	CertReloads  *prometheus.CounterVec
	UsersReloads *prometheus.CounterVec
	// CertExpiry is the end of the validity (NotAfter, Unix seconds) of
	// the certificate each TLS listener serves: what an alert on a failed
	// renewal watches.
	CertExpiry *prometheus.GaugeVec
}

// NewMetrics returns collectors for the daemon named namespace, registered
// with a new registry that also has the Go and process collectors.
func NewMetrics(namespace string) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "messages_total", Help: "Messages by result and SMTP reply code.",
		}, []string{"result", "code"}),
		Bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "message_bytes_total", Help: "Bytes of accepted messages.",
		}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "upstream_seconds", Help: "Time spent upstream per message.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		RuleHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rule_hits_total", Help: "Messages by the rule that decided them.",
		}, []string{"rule"}),
		Throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "throttles_total", Help: "Messages or recipients deferred by a rate limit.",
		}, []string{"source"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "in_flight", Help: "Messages being handled.",
		}),
		Reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "rules_reloads_total", Help: "Rules reloads by result.",
		}, []string{"result"}),
		CertReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "cert_reloads_total", Help: "Reloads of a listener's TLS certificate and key by listener and result.",
		}, []string{"listener", "result"}),
		UsersReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "users_reloads_total", Help: "Users file reloads by result.",
		}, []string{"result"}),
		CertExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "cert_expiry_timestamp_seconds", Help: "When the certificate a TLS listener serves expires (NotAfter), as a Unix time.",
		}, []string{"listener"}),
	}
	r.MustRegister(m.Messages, m.Bytes, m.Latency, m.RuleHits, m.Throttles, m.InFlight, m.Reloads, m.CertReloads, m.UsersReloads, m.CertExpiry,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one finished message.
func (m *Metrics) Observe(r *Record) {
	m.Messages.WithLabelValues(r.Result, r.Code).Inc()
	if r.Result == Accepted {
		m.Bytes.Add(float64(r.Bytes))
	}
	if r.Rule != "" {
		m.RuleHits.WithLabelValues(r.Rule).Inc()
	}
	if r.Upstream > 0 {
		m.Latency.Observe(r.Upstream.Seconds())
	}
}

// Results of a message.
const (
	Accepted = "accepted" // the upstream has it (250)
	Rejected = "rejected" // refused for good (5xx)
	Deferred = "deferred" // the client should retry (4xx)
)

// A Record is what is known about one message when it is done: the
// fields of its log line and its metrics.
type Record struct {
	Result    string        `json:"result"`
	Code      string        `json:"code"`  // the reply code sent to the client, "250"
	Reply     string        `json:"reply"` // the reply text sent to the client
	From      string        `json:"from"`
	Rcpts     int           `json:"rcpts"`
	To        string        `json:"to,omitempty"` // the recipient a "refused" RCPT named
	Bytes     int64         `json:"bytes"`
	Client    string        `json:"client,omitempty"`
	AuthUser  string        `json:"auth_user,omitempty"`
	Listener  string        `json:"listener,omitempty"`
	Rule      string        `json:"rule,omitempty"`
	ConfigSet string        `json:"config_set,omitempty"`
	Tags      []string      `json:"tags,omitempty"` // name=value
	MessageID string        `json:"message_id,omitempty"`
	QueueID   string        `json:"queue_id,omitempty"` // the MTA's queue ID (milter)
	Upstream  time.Duration `json:"-"`
	Error     string        `json:"error,omitempty"` // what went wrong, for the operator
}

// SetReply records the reply the client got and the Result its code means.
func (r *Record) SetReply(code int, text string) {
	r.Code, r.Reply = strconv.Itoa(code), text
	switch {
	case code < 300:
		r.Result = Accepted
	case code < 500:
		r.Result = Deferred
	default:
		r.Result = Rejected
	}
}

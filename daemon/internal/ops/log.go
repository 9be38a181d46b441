package ops

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// A Log writes one JSON object per line: a message's Record, a command
// the upstream refused, or an event (start, reload, shutdown). It is safe
// for concurrent use.
type Log struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLog returns a Log writing to w.
func NewLog(w io.Writer) *Log { return &Log{w: w} }

var now = time.Now

type line struct {
	Time       string  `json:"time"`
	Event      string  `json:"event"`
	UpstreamMS float64 `json:"upstream_ms,omitempty"`
	Stage      string  `json:"stage,omitempty"` // the command, for "refused"
	*Record
	Msg string `json:"msg,omitempty"`
	// For "reload": the items reloaded, and those not with the reason.
	Reloaded []string          `json:"reloaded,omitempty"`
	Failed   map[string]string `json:"failed,omitempty"`
}

// Message writes r as a "message" line.
func (l *Log) Message(r *Record) {
	l.write(&line{Event: "message", Record: r, UpstreamMS: float64(r.Upstream.Microseconds()) / 1000})
}

// Refused writes r as a "refused" line: the upstream failed or refused the
// client's stage command (MAIL, RCPT) before any message was read.
func (l *Log) Refused(stage string, r *Record) {
	l.write(&line{Event: "refused", Stage: stage, Record: r})
}

// Event writes an event line with a free text.
func (l *Log) Event(event, msg string) {
	l.write(&line{Event: event, Msg: msg})
}

// reload writes a "reload" line (see Reload).
func (l *Log) reload(msg string, reloaded []string, failed map[string]string) {
	l.write(&line{Event: "reload", Msg: msg, Reloaded: reloaded, Failed: failed})
}

func (l *Log) write(ln *line) {
	if l == nil || l.w == nil {
		return
	}
	ln.Time = now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(ln)
	if err != nil {
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b)
}

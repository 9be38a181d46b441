//go:build unix

package relay

import (
	"crypto/sha256"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRelaySTARTTLS is BenchmarkRelaySMTP through smtp:// (STARTTLS
// and AUTH, as SES's port 587) into the fake SMTP server. cpu-µs/op is
// the process's user and system time per message: relay, fake server and
// client together, all in this process.
func BenchmarkRelaySTARTTLS(b *testing.B) {
	up := fakeSMTP(b)
	up.Keep = func(data []byte) []byte { s := sha256.Sum256(data); return s[:] }
	cfg := smtpConfig(b, up)
	cfg.ConfigSet, cfg.Tags = "bench", []string{"run=bench"}
	r, _ := startRelay(b, cfg)
	before := cpuTime(b)
	benchSessions(b, r.Addrs()[0])
	b.ReportMetric(float64((cpuTime(b)-before).Microseconds())/float64(b.N), "cpu-µs/op")
	if n := len(up.Messages()); n < b.N {
		b.Errorf("%d delivered, want %d", n, b.N)
	}
}

// cpuTime is the user and system time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

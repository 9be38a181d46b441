package relay

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/daemon/internal/fakesmtp"
)

// waitFor polls cond until it holds; a wait, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kept is how many upstream connections r keeps for later sessions.
func kept(r *Relay) int {
	u := r.upstream.(*smtpUpstream)
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.idle)
}

// sendKept sends one message in its own client session and waits until
// the relay has put the upstream connection back.
func sendKept(t *testing.T, r *Relay) {
	t.Helper()
	if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
		t.Fatalf("send: %v", err)
	}
	waitFor(t, "the upstream connection kept", func() bool { return kept(r) == 1 })
}

// TestUpstreamPool: client sessions one after another share one upstream
// connection; a kept connection the upstream has hung up on (silently, or
// with the 421 or 4xx notice of an idle timeout) costs the next message
// nothing but a new dial: it is delivered once, with a 250.
func TestUpstreamPool(t *testing.T) {
	t.Run("kept across sessions", func(t *testing.T) {
		up := fakeSMTP(t)
		r, _ := startRelay(t, smtpConfig(t, up))
		for range 3 {
			sendKept(t, r)
		}
		if n, _ := up.Connections(); n != 1 {
			t.Errorf("%d upstream connections for 3 sessions, want 1", n)
		}
		if n := len(up.Messages()); n != 3 {
			t.Errorf("%d messages delivered, want 3", n)
		}
	})
	t.Run("none kept when upstream_idle is negative", func(t *testing.T) {
		up := fakeSMTP(t)
		cfg := smtpConfig(t, up)
		cfg.UpstreamIdle.Duration = -1
		r, _ := startRelay(t, cfg)
		for range 3 {
			if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the upstream connections closed", func() bool { _, open := up.Connections(); return open == 0 })
		if n, _ := up.Connections(); n != 3 {
			t.Errorf("%d upstream connections for 3 sessions, want 3", n)
		}
	})
	for _, notice := range []string{"", "421 4.4.2 Timeout waiting for data from client.", "451 4.4.2 Timeout waiting for data from client."} {
		name := "hung up silently"
		if notice != "" {
			name = "hung up with " + notice[:3]
		}
		t.Run(name, func(t *testing.T) {
			up := fakeSMTP(t)
			r, _ := startRelay(t, smtpConfig(t, up))
			sendKept(t, r)
			up.Hangup(notice)
			waitFor(t, "the hangup", func() bool { _, open := up.Connections(); return open == 0 })
			if _, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple); err != nil {
				t.Fatalf("after the hangup: %v", err)
			}
			if n := len(up.Messages()); n != 2 {
				t.Errorf("%d messages delivered, want 2", n)
			}
			if n, _ := up.Connections(); n != 2 {
				t.Errorf("%d upstream connections, want 2", n)
			}
		})
	}
	t.Run("a 5xx at MAIL on a kept connection is the answer", func(t *testing.T) {
		up := fakeSMTP(t)
		var mails atomic.Int32
		up.Respond = func(st fakesmtp.Stage, n int, arg string) *smtp.SMTPError {
			if st == fakesmtp.Mail && mails.Add(1) > 1 {
				return smtpErr(553, 5, 1, 8, "Sender address rejected")
			}
			return nil
		}
		r, _ := startRelay(t, smtpConfig(t, up))
		sendKept(t, r)
		_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
		if c := code(err); c != 553 {
			t.Errorf("reply %v, want 553", err)
		}
		if n := mails.Load(); n != 2 {
			t.Errorf("%d MAIL commands upstream, want 2 (no retry of a permanent reply)", n)
		}
	})
	t.Run("expires", func(t *testing.T) {
		// The sweep waits until the test has seen the connection kept:
		// polling for it could miss the 50 ms on a loaded machine.
		armed := make(chan time.Duration, 1)
		seen := make(chan struct{})
		release := sync.OnceFunc(func() { close(seen) })
		afterFunc = func(d time.Duration, f func()) *time.Timer {
			select {
			case armed <- d:
			default:
			}
			return time.AfterFunc(d, func() { <-seen; f() })
		}
		t.Cleanup(func() { afterFunc = time.AfterFunc })
		t.Cleanup(release)
		up := fakeSMTP(t)
		cfg := smtpConfig(t, up)
		cfg.UpstreamIdle.Duration = 50 * time.Millisecond
		r, _ := startRelay(t, cfg)
		sendKept(t, r)
		select {
		case d := <-armed:
			if d != cfg.UpstreamIdle.Duration {
				t.Errorf("sweep armed for %v, want upstream_idle (%v)", d, cfg.UpstreamIdle.Duration)
			}
		default:
			t.Fatal("a connection kept with no sweep armed")
		}
		release()
		waitFor(t, "the kept connection closed", func() bool { _, open := up.Connections(); return open == 0 && kept(r) == 0 })
	})
	t.Run("shutdown ends kept connections", func(t *testing.T) {
		up := fakeSMTP(t)
		r, _ := startRelay(t, smtpConfig(t, up))
		sendKept(t, r)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the kept connection closed", func() bool { _, open := up.Connections(); return open == 0 })
	})
	t.Run("at most maxIdle kept", func(t *testing.T) {
		up := fakeSMTP(t)
		r, _ := startRelay(t, smtpConfig(t, up))
		// maxIdle+4 sessions open at once, each with its transaction
		// started upstream, then all ended.
		var ss []*rawSession
		for range maxIdle + 4 {
			s := dialRaw(t, r.Addrs()[0])
			s.cmd("EHLO test\r\n")
			if got := s.cmd("MAIL FROM:<a@example.com>\r\n"); !strings.HasPrefix(got, "250") {
				t.Fatalf("MAIL: %q", got)
			}
			ss = append(ss, s)
		}
		for _, s := range ss {
			s.cmd("QUIT\r\n")
			s.c.Close()
		}
		waitFor(t, "the extra connections closed", func() bool { _, open := up.Connections(); return open == maxIdle })
		if n := kept(r); n != maxIdle {
			t.Errorf("%d kept, want %d", n, maxIdle)
		}
	})
}

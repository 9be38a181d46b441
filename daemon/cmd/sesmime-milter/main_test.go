package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dj "github.com/d--j/go-milter"
	"github.com/sesmime/sesmime/daemon/internal/ops"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// configSet sends one message to the milter at addr and returns the
// X-SES-CONFIGURATION-SET value it inserts.
func configSet(t *testing.T, network, addr string) string {
	t.Helper()
	c := dj.NewClient(network, addr)
	s, err := c.Session(dj.NewMacroBag())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, err := range []error{
		second(s.Conn("c.test", dj.FamilyInet, 25, "192.0.2.1")), second(s.Helo("c.test")),
		second(s.Mail("a@x.test", "")), second(s.Rcpt("b@y.test", "")), second(s.DataStart()),
		second(s.HeaderField("Subject", " hi", nil)), second(s.HeaderEnd()),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	mods, act, err := s.BodyReadFrom(strings.NewReader(""))
	if err != nil || act.Type != dj.ActionAccept {
		t.Fatalf("end of message: %v %v %v", mods, act, err)
	}
	for _, m := range mods {
		if m.HeaderName == "X-SES-CONFIGURATION-SET" {
			return m.HeaderValue
		}
	}
	t.Fatalf("no X-SES-CONFIGURATION-SET in %v", mods)
	return ""
}

func second[T any](_ T, err error) error { return err }

// TestReloadAndShutdown runs the command on a unix socket: the rules
// apply, SIGHUP reloads them, an invalid file keeps the old ones, and
// cancelling stops it and removes the socket.
func TestReloadAndShutdown(t *testing.T) {
	dir := t.TempDir()
	rulesFile, sock := filepath.Join(dir, "rules.toml"), filepath.Join(dir, "milter.sock")
	write := func(s string) {
		if err := os.WriteFile(rulesFile, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("[default]\nconfig_set = \"first\"\n")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuf
	ready := make(chan string, 1)
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--listen", "unix:" + sock, "--rules", rulesFile, "--tag", "team=growth"}, &stdout, &stderr, func(a string) { ready <- a })
	}()
	select {
	case <-ready:
	case code := <-done:
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := configSet(t, "unix", sock); got != " first" {
		t.Errorf("config set %q, want first", got)
	}
	// The command may still be installing its handler when it is ready: a
	// channel of the test's own keeps an early SIGHUP from ending the test
	// process, and the signal is sent again until the log shows it handled.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := func(wantLog string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stdout.String(), wantLog); {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", wantLog, stdout.String())
			}
			syscall.Kill(os.Getpid(), syscall.SIGHUP)
			time.Sleep(100 * time.Millisecond)
		}
	}
	write("[default]\nconfig_set = \"second\"\n")
	reload("rules reloaded")
	if got := configSet(t, "unix", sock); got != " second" {
		t.Errorf("after SIGHUP: config set %q, want second", got)
	}
	write("[default]\nconfig_set = \"bad name!\"\n")
	reload("rules not reloaded")
	if got := configSet(t, "unix", sock); got != " second" {
		t.Errorf("after SIGHUP with an invalid file: config set %q, want second", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
	log := stdout.String()
	for _, want := range []string{`"event":"message"`, `"config_set":"second"`, `"tags":["team=growth"]`, `"event":"shutdown"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--listen", "inet:127.0.0.1:0"},
		{"--listen", "inet:127.0.0.1:0", "--config-set", "x", "--mixed", "maybe"},
		{"--listen", "inet:127.0.0.1:0", "--config-set", "x", "--tag", "novalue"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb, nil); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--listen", "inet:127.0.0.1:0", "--config-set", "bad name"}, &out, &errb, nil); code != 1 || !strings.Contains(errb.String(), "bad name") {
		t.Errorf("invalid --config-set: exit %d, %s", code, errb.String())
	}
}

// TestHelp: -h and --help print the flags and exit 0, as a request for
// help is not a usage error.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{arg}, &out, &errb, nil); code != 0 {
			t.Errorf("%s: exit %d, want 0; stderr %q", arg, code, errb.String())
		}
		// The argument forms of daemon/README.md's synopsis.
		for _, want := range []string{"-listen inet:HOST:PORT|unix:PATH", "-mixed reject|first", "-on-error tempfail|reject|accept"} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("%s does not show %q:\n%s", arg, want, errb.String())
			}
		}
	}
}

// TestMetricsExported checks that /metrics offers what the milter sets
// and none of the relay's collectors it never sets.
func TestMetricsExported(t *testing.T) {
	m := newMetrics()
	m.Observe(&ops.Record{Result: ops.Accepted, Code: "250", Rule: "default", Bytes: 10})
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, mf := range mfs {
		got[mf.GetName()] = true
	}
	for name, want := range map[string]bool{
		"sesmime_milter_messages_total":      true,
		"sesmime_milter_rule_hits_total":     true,
		"sesmime_milter_message_bytes_total": false,
		"sesmime_milter_upstream_seconds":    false,
		"sesmime_milter_in_flight":           false,
		"sesmime_milter_throttles_total":     false,
	} {
		if got[name] != want {
			t.Errorf("%s exported: %v, want %v", name, got[name], want)
		}
	}
}

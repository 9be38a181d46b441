package postfixtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configures an instance. The zero value gives a Postfix that
// accepts mail from 127.0.0.0/8 and has nowhere to relay it (mail is
// deferred).
type Options struct {
	// RelayHost is the HOST:PORT every message is relayed to
	// (relayhost = [HOST]:PORT), usually an smtpsink.Sink's Addr.
	RelayHost string
	// SMTPDMilters and NonSMTPDMilters set smtpd_milters and
	// non_smtpd_milters (e.g. "inet:127.0.0.1:10025").
	SMTPDMilters    string
	NonSMTPDMilters string
	// Main sets further main.cf parameters; it overrides the defaults
	// written by Start (see [Defaults]).
	Main map[string]string
	// Log, when set, also receives the mail log as it is written.
	Log io.Writer
}

// Defaults are the main.cf parameters Start writes besides the
// directories, the listener and the Options fields: short retry times,
// no TLS, no local delivery, 50 MB messages.
var Defaults = map[string]string{
	"compatibility_level":             "3.6",
	"inet_protocols":                  "ipv4",
	"myhostname":                      "postfix.test",
	"mydomain":                        "postfix.test",
	"myorigin":                        "postfix.test",
	"mydestination":                   "",
	"mynetworks":                      "127.0.0.0/8",
	"alias_maps":                      "",
	"alias_database":                  "",
	"local_recipient_maps":            "",
	"smtp_dns_support_level":          "disabled",
	"smtp_tls_security_level":         "none",
	"smtpd_tls_security_level":        "none",
	"biff":                            "no",
	"append_dot_mydomain":             "no",
	"message_size_limit":              "52428800",
	"queue_run_delay":                 "1s",
	"minimal_backoff_time":            "1s",
	"maximal_backoff_time":            "2s",
	"smtpd_relay_restrictions":        "permit_mynetworks, reject_unauth_destination",
	"smtp_connection_cache_on_demand": "no",
}

// A Postfix is a running private instance.
type Postfix struct {
	Addr      string // smtpd's address, 127.0.0.1:PORT
	Dir       string // the instance's root: etc/, spool/, data/
	ConfigDir string // config_directory (pass to postfix -c, sendmail -C)

	bin  binaries
	cmd  *exec.Cmd
	done chan struct{} // closed when the master has exited
	log  syncBuffer

	stopOnce sync.Once
	stopErr  error
}

type binaries struct{ postfix, postqueue, sendmail string }

// Available reports why Postfix cannot run here (nil when it can): not
// root, or the postfix, postqueue and sendmail commands are missing.
func Available() error {
	_, err := findBinaries()
	return err
}

func findBinaries() (binaries, error) {
	if os.Geteuid() != 0 {
		return binaries{}, errors.New("a private Postfix needs root (its master refuses to run otherwise)")
	}
	var b binaries
	for _, x := range []struct {
		name string
		dst  *string
	}{{"postfix", &b.postfix}, {"postqueue", &b.postqueue}, {"sendmail", &b.sendmail}} {
		p, err := exec.LookPath(x.name)
		if err != nil {
			p = "/usr/sbin/" + x.name
			if _, err := os.Stat(p); err != nil {
				return binaries{}, fmt.Errorf("postfix is not installed: no %s in PATH or /usr/sbin (apt-get install postfix)", x.name)
			}
		}
		*x.dst = p
	}
	if _, err := user.Lookup("postfix"); err != nil {
		return binaries{}, errors.New("postfix is not installed: no user postfix")
	}
	return b, nil
}

// Start starts an instance, skipping the test when [Available] reports a
// reason, and stops it and removes its directories when the test ends. On
// test failure the mail log is logged.
func Start(t testing.TB, opts *Options) *Postfix {
	t.Helper()
	bin, err := findBinaries()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if opts == nil {
		opts = &Options{}
	}
	var p *Postfix
	for try := 0; ; try++ {
		p, err = start(bin, opts)
		if err == nil || try == 2 || !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("postfixtest: %v", err)
		}
		if t.Failed() {
			t.Logf("postfix mail log:\n%s", p.Log())
		}
		os.RemoveAll(p.Dir)
	})
	return p
}

var errPortTaken = errors.New("port taken")

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin binaries, opts *Options) (*Postfix, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "postfixtest-")
	if err != nil {
		return nil, err
	}
	p := &Postfix{
		Addr:      "127.0.0.1:" + strconv.Itoa(port),
		Dir:       dir,
		ConfigDir: filepath.Join(dir, "etc"),
		bin:       bin,
		done:      make(chan struct{}),
	}
	if err := p.setup(opts); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var out io.Writer = &p.log
	if opts.Log != nil {
		out = io.MultiWriter(&p.log, opts.Log)
	}
	p.cmd = exec.Command(bin.postfix, "-c", p.ConfigDir, "start-fg")
	p.cmd.Stdout, p.cmd.Stderr = out, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A process of the instance that outlives the master holds the log
	// pipe open, and Wait would wait for it forever: after the master
	// exits, Wait closes the pipe once this has passed.
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	if err := p.waitListening(30 * time.Second); err != nil {
		p.Stop()
		log := p.Log()
		os.RemoveAll(dir)
		if strings.Contains(log, "in use") {
			return nil, fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return nil, fmt.Errorf("%v; mail log:\n%s", err, log)
	}
	return p, nil
}

// setup writes the directories, main.cf and master.cf.
func (p *Postfix) setup(opts *Options) error {
	// The postfix user must reach data/ and spool/.
	if err := os.Chmod(p.Dir, 0o755); err != nil {
		return err
	}
	if err := searchable(filepath.Dir(p.Dir)); err != nil {
		return err
	}
	for _, d := range []string{"etc", "spool", "data"} {
		if err := os.Mkdir(filepath.Join(p.Dir, d), 0o755); err != nil {
			return err
		}
	}
	u, err := user.Lookup("postfix")
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(filepath.Join(p.Dir, "data"), uid, gid); err != nil {
		return err
	}
	if err := makeQueue(filepath.Join(p.Dir, "spool"), uid); err != nil {
		return err
	}
	mainCF := maps.Clone(Defaults)
	mainCF["config_directory"] = p.ConfigDir
	mainCF["queue_directory"] = filepath.Join(p.Dir, "spool")
	mainCF["data_directory"] = filepath.Join(p.Dir, "data")
	mainCF["inet_interfaces"] = "127.0.0.1"
	mainCF["maillog_file"] = "/dev/stdout"
	if opts.RelayHost != "" {
		host, port, err := net.SplitHostPort(opts.RelayHost)
		if err != nil {
			return fmt.Errorf("relay host %q: %w", opts.RelayHost, err)
		}
		mainCF["relayhost"] = "[" + host + "]:" + port
	}
	if opts.SMTPDMilters != "" {
		mainCF["smtpd_milters"] = opts.SMTPDMilters
	}
	if opts.NonSMTPDMilters != "" {
		mainCF["non_smtpd_milters"] = opts.NonSMTPDMilters
	}
	maps.Copy(mainCF, opts.Main)
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(mainCF)) {
		v := mainCF[k]
		if strings.ContainsAny(k+v, "\n\r") {
			return fmt.Errorf("main.cf parameter %q: line break in name or value", k)
		}
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	if err := os.WriteFile(filepath.Join(p.ConfigDir, "main.cf"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(p.Addr)
	master := fmt.Sprintf(masterCF, "127.0.0.1:"+port)
	return os.WriteFile(filepath.Join(p.ConfigDir, "master.cf"), []byte(master), 0o644)
}

// makeQueue creates the queue directories as post-install create-missing
// would, and the quick-start file that lets postfix start skip its
// integrity checks (which take seconds, mostly in post-install).
func makeQueue(spool string, uid int) error {
	g, err := user.LookupGroup("postdrop")
	if err != nil {
		return err
	}
	postdrop, _ := strconv.Atoi(g.Gid)
	for _, d := range []struct {
		name string
		mode os.FileMode
		uid  int
		gid  int
	}{
		{"active", 0o700, uid, 0}, {"bounce", 0o700, uid, 0}, {"corrupt", 0o700, uid, 0},
		{"defer", 0o700, uid, 0}, {"deferred", 0o700, uid, 0}, {"flush", 0o700, uid, 0},
		{"hold", 0o700, uid, 0}, {"incoming", 0o700, uid, 0}, {"private", 0o700, uid, 0},
		{"saved", 0o700, uid, 0}, {"trace", 0o700, uid, 0},
		{"maildrop", 0o730, uid, postdrop}, {"public", 0o710, uid, postdrop},
		{"pid", 0o755, 0, 0},
	} {
		path := filepath.Join(spool, d.name)
		if err := os.Mkdir(path, d.mode); err != nil {
			return err
		}
		if err := os.Chmod(path, d.mode); err != nil { // past the umask
			return err
		}
		if err := os.Chown(path, d.uid, d.gid); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(spool, "quick-start"), nil, 0o644)
}

// masterCF is Debian's master.cf with chroot off and the local delivery
// and pipe transports left out; %s is smtpd's address.
const masterCF = `%s inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
`

// searchable checks that user postfix can reach dir: every ancestor must
// be searchable by others.
func searchable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("temporary directory %s: %s is not searchable by user postfix (set TMPDIR to e.g. /tmp)", dir, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (p *Postfix) waitListening(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("postfix -c %s start-fg exited: %v", p.ConfigDir, p.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postfix did not listen on %s within %v", p.Addr, timeout)
		}
	}
}

// Log returns the mail log written so far.
func (p *Postfix) Log() string { return p.log.String() }

// Sendmail submits msg through Postfix's sendmail command (the pickup
// path, which non_smtpd_milters see) with envelope sender from and the
// given recipients.
func (p *Postfix) Sendmail(from string, to []string, msg []byte) error {
	args := append([]string{"-C", p.ConfigDir, "-i", "-f", from, "--"}, to...)
	cmd := exec.Command(p.bin.sendmail, args...)
	cmd.Stdin = bytes.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("sendmail: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Flush asks Postfix to retry every deferred message now (postqueue -f).
func (p *Postfix) Flush() error {
	out, err := exec.Command(p.bin.postqueue, "-c", p.ConfigDir, "-f").CombinedOutput()
	if err != nil {
		return fmt.Errorf("postqueue -f: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// Queue returns postqueue -j's output: one JSON object per queued
// message (queue_name, queue_id, recipients with delay_reason, ...).
func (p *Postfix) Queue() ([]byte, error) {
	out, err := exec.Command(p.bin.postqueue, "-c", p.ConfigDir, "-j").Output()
	if err != nil {
		return nil, fmt.Errorf("postqueue -j: %v", err)
	}
	return out, nil
}

// WaitEmpty polls until the queue is empty (every message delivered or
// bounced) or ctx is done.
func (p *Postfix) WaitEmpty(ctx context.Context) error {
	for {
		q, err := p.Queue()
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(q)) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("postfix queue not empty: %w:\n%s", ctx.Err(), q)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop stops the instance (postfix -c DIR stop) and waits for its master
// to exit, killing it after 20 seconds. It is safe to call more than once.
// The directories are left for the caller (Start's cleanup removes them).
func (p *Postfix) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		out, err := exec.Command(p.bin.postfix, "-c", p.ConfigDir, "stop").CombinedOutput()
		if err != nil {
			p.stopErr = fmt.Errorf("postfix stop: %v: %s", err, bytes.TrimSpace(out))
		}
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			if p.stopErr == nil {
				p.stopErr = errors.New("postfix master did not exit within 20s of postfix stop; killed")
			}
		}
	})
	return p.stopErr
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

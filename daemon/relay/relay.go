package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/awsses"
	"github.com/sesmime/sesmime/daemon/internal/ops"
	replytext "github.com/sesmime/sesmime/daemon/internal/reply"
	"github.com/sesmime/sesmime/rules"
)

// Deps are what New takes besides the Config; the zero value is the
// production setting.
type Deps struct {
	Log         *ops.Log                // nil: no log lines
	Metrics     *ops.Metrics            // nil: a new set
	Credentials aws.CredentialsProvider // nil: the SDK's default chain
}

// A Relay accepts mail on its listeners and sends it upstream.
type Relay struct {
	cfg      *Config
	up       upstreamURL
	upstream upstream
	Rules    *ops.Rules
	rewriter *rules.Rewriter       // one inject.Rewriter per decision, kept
	users    atomic.Pointer[Users] // nil without a users file; replaced by ReloadAll
	limiter  *rate.Limiter
	mem      *budget
	Metrics  *ops.Metrics
	Health   ops.Health
	log      *ops.Log

	ctx    context.Context // cancelled when the shutdown deadline passes
	cancel context.CancelFunc

	draining  atomic.Bool
	conns     chan struct{}
	mu        sync.Mutex
	servers   []*smtp.Server
	addrs     []string
	open      map[*countedConn]struct{} // every accepted connection, for Shutdown
	listeners []*listener
}

type listener struct {
	cfg   Listener
	allow []netip.Prefix
	cert  *keyPair // nil without TLS
}

// New checks cfg and prepares a relay; Start begins serving.
func New(ctx context.Context, cfg *Config, deps Deps) (*Relay, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Relay{cfg: c, Metrics: deps.Metrics, log: deps.Log, open: map[*countedConn]struct{}{}}
	if r.Metrics == nil {
		r.Metrics = ops.NewMetrics("sesmime_relay")
	}
	r.up, _ = parseUpstream(c.Upstream)
	if c.Users != "" {
		u, err := LoadUsers(c.Users)
		if err != nil {
			return nil, err
		}
		r.users.Store(u)
	}
	for _, l := range c.Listeners {
		allow, kp, err := checkListener(&l, c.Users != "")
		if err != nil {
			return nil, err
		}
		r.listeners = append(r.listeners, &listener{cfg: l, allow: allow, cert: kp})
		r.noteExpiry(r.listeners[len(r.listeners)-1])
	}
	tags, err := parseTags(c.Tags)
	if err != nil {
		return nil, err
	}
	r.Rules, err = ops.LoadRules(c.Rules, ops.Defaults(c.ConfigSet, tags))
	if err != nil {
		return nil, err
	}
	rateLimit := c.Rate
	switch r.up.kind {
	case upSESv1, upSESv2:
		api, err := newAPIUpstream(ctx, r.up.kind, r.up.host, c.EndpointURL, c.MaxConnections, deps.Credentials)
		if err != nil {
			return nil, err
		}
		if rateLimit == 0 {
			qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			rateLimit, err = api.sendRate(qctx)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("asking SES for the send rate (set rate to skip): %w", err)
			}
		}
		r.upstream = api
	default:
		ca, err := loadCA(c.UpstreamCA)
		if err != nil {
			return nil, err
		}
		r.upstream = newSMTPUpstream(r.up.kind, r.up.host, c.UpstreamUser, c.UpstreamPassword, ca, c.UpstreamTimeout.Duration, c.UpstreamIdle.Duration)
	}
	if rateLimit > 0 {
		burst := c.Burst
		if burst <= 0 {
			burst = max(1, int(rateLimit))
		}
		r.limiter = rate.NewLimiter(rate.Limit(rateLimit), burst)
	}
	r.mem = &budget{limit: c.MemoryLimit}
	r.rewriter = rules.NewRewriter(nil)
	r.conns = make(chan struct{}, c.MaxConnections)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// parseTags reads --tag NAME=VALUE values; nil when there are none, so
// the rules' own default tags stay.
func parseTags(ts []string) ([]sesmime.Tag, error) {
	var tags []sesmime.Tag
	for _, t := range ts {
		n, v, ok := strings.Cut(t, "=")
		if !ok {
			return nil, fmt.Errorf("tag %q: want NAME=VALUE", t)
		}
		tags = append(tags, sesmime.Tag{Name: n, Value: v})
	}
	return tags, nil
}

// Start listens on every listener and serves in the background.
func (r *Relay) Start() error {
	for _, l := range r.listeners {
		// No TCP keepalive on clients (four setsockopt calls a
		// connection): read_timeout already ends a silent one.
		lc := net.ListenConfig{KeepAlive: -1}
		nl, err := lc.Listen(context.Background(), "tcp", l.cfg.Addr)
		if err != nil {
			r.Close()
			return err
		}
		if l.cfg.TLS == "implicit" {
			nl = tls.NewListener(nl, l.cert.tlsConfig())
		}
		s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			return r.newSession(l, c)
		}))
		s.Domain = localName()
		s.LMTP = l.cfg.LMTP
		if l.cfg.TLS == "starttls" {
			// Once STARTTLS begins, a reply written to the countedConn
			// would break the TLS stream: Shutdown only closes it. The
			// handshake goes on with this config (nil), so with the
			// certificate in use (GetCertificate).
			s.TLSConfig = l.cert.tlsConfig()
			s.TLSConfig.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				if cc, ok := h.Conn.(*countedConn); ok {
					cc.starttls.Store(true)
				}
				return nil, nil
			}
		}
		s.MaxMessageBytes = r.cfg.MaxMessageBytes
		s.MaxRecipients = r.cfg.MaxRecipients
		s.MaxLineLength = r.cfg.MaxLineLength
		s.ReadTimeout = r.cfg.ReadTimeout.Duration
		s.WriteTimeout = r.cfg.ReadTimeout.Duration
		host, _, _ := net.SplitHostPort(l.cfg.Addr)
		s.AllowInsecureAuth = l.cfg.InsecureAuth || l.cfg.TLS == "implicit" || (l.cfg.TLS == "none" && isLoopback(host))
		s.ErrorLog = discardLogger{}
		s.EnableSMTPUTF8 = false
		r.mu.Lock()
		r.servers = append(r.servers, s)
		r.addrs = append(r.addrs, nl.Addr().String())
		r.mu.Unlock()
		go s.Serve(&guardListener{Listener: nl, r: r, l: l})
	}
	r.Health.SetReady(true)
	return nil
}

// noteExpiry sets the certificate expiry gauge of l, a TLS listener.
func (r *Relay) noteExpiry(l *listener) {
	if l.cert == nil {
		return
	}
	if c := l.cert.cur.Load(); c != nil && c.Leaf != nil {
		r.Metrics.CertExpiry.WithLabelValues(l.cfg.Name).Set(float64(c.Leaf.NotAfter.Unix()))
	}
}

// ReloadAll reloads, each on its own, the rules, the certificate and key
// of every TLS listener and the users file: each is loaded completely and
// checked before it replaces the one in use, and one that fails keeps the
// old one without stopping the others. New TLS handshakes take the new
// certificate and new AUTH attempts the new users; open connections keep
// their certificate and authenticated sessions stay authenticated. It is
// what SIGHUP runs (ops.Signals.Run, through ops.Reload).
func (r *Relay) ReloadAll() []ops.Reloaded {
	out := r.Rules.ReloadAll()
	for _, l := range r.listeners {
		if l.cert == nil {
			continue
		}
		rl := ops.Reloaded{What: ops.ReloadCert, Listener: l.cfg.Name}
		if rl.Err = l.cert.reload(); rl.Err != nil {
			rl.Msg = fmt.Sprintf("listener %s certificate not reloaded, the old one stays: %v", l.cfg.Name, rl.Err)
		} else {
			rl.Msg = fmt.Sprintf("listener %s certificate reloaded from %s", l.cfg.Name, l.cert.describe())
			r.noteExpiry(l)
		}
		out = append(out, rl)
	}
	if r.cfg.Users != "" {
		rl := ops.Reloaded{What: ops.ReloadUsers}
		u, err := LoadUsers(r.cfg.Users)
		if rl.Err = err; err != nil {
			rl.Msg = fmt.Sprintf("users not reloaded, the old users stay: %v", err)
		} else {
			r.users.Store(u)
			rl.Msg = fmt.Sprintf("users reloaded from %s: %d users", r.cfg.Users, len(u.hash))
		}
		out = append(out, rl)
	}
	return out
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// Addrs returns the listening addresses, in the order of the listeners.
func (r *Relay) Addrs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.addrs...)
}

// Shutdown stops accepting connections and new transactions, answers 421
// and closes every connection not in a transaction (before EHLO, between
// messages), and lets the messages in flight finish, closing each
// connection the same way when its transaction ends. Shortly before ctx's
// deadline it cancels the upstream calls still running, so that their
// clients get a 4xx, and at the deadline it closes every connection left.
// Its "shutdown" log line comes once no new transaction can start.
func (r *Relay) Shutdown(ctx context.Context) error {
	r.draining.Store(true)
	r.Health.SetReady(false)
	within := "no deadline"
	if dl, ok := ctx.Deadline(); ok {
		within = "up to " + time.Until(dl).Round(time.Millisecond).String()
	}
	r.log.Event("shutdown", "finishing messages in flight ("+within+")")
	r.mu.Lock()
	servers := append([]*smtp.Server(nil), r.servers...)
	var sessions []*session
	var bare []*countedConn // no session yet: no EHLO, or none since STARTTLS
	for c := range r.open {
		if c.sess != nil {
			sessions = append(sessions, c.sess)
		} else {
			bare = append(bare, c)
		}
	}
	r.mu.Unlock()
	for _, s := range sessions {
		s.closeIfIdle()
	}
	for _, c := range bare {
		go bye(c)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(servers))
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// It waits for every connection: the deadline is kept below
			// (after a Shutdown, go-smtp's Close closes no connection).
			errs <- s.Shutdown(context.Background())
		}()
	}
	// Sessions that go idle while draining are closed as they finish.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var early <-chan time.Time
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		t := time.NewTimer(left - min(time.Second, left/10))
		defer t.Stop()
		early = t.C
	}
	select {
	case <-done:
	case <-early:
		r.cancel()
		select {
		case <-done:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	r.cancel()
	r.mu.Lock()
	for c := range r.open {
		c.Conn.Close()
	}
	r.mu.Unlock()
	<-done
	r.upstream.closeIdle()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			return err
		}
	}
	return nil
}

// Close stops at once.
func (r *Relay) Close() {
	r.draining.Store(true)
	r.cancel()
	r.mu.Lock()
	servers := append([]*smtp.Server(nil), r.servers...)
	r.mu.Unlock()
	for _, s := range servers {
		s.Close()
	}
	r.upstream.closeIdle()
}

// guardListener refuses clients outside the allow list and connections
// beyond MaxConnections before the greeting.
type guardListener struct {
	net.Listener
	r *Relay
	l *listener
}

func (g *guardListener) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if len(g.l.allow) > 0 {
			ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
			ok := false
			for _, p := range g.l.allow {
				ok = ok || p.Contains(ap.Addr().Unmap())
			}
			if !ok {
				go refuse(c, "554 5.7.1 Client not allowed\r\n")
				continue
			}
		}
		select {
		case g.r.conns <- struct{}{}:
			cc := &countedConn{Conn: c}
			cc.release = func() {
				<-g.r.conns
				g.r.mu.Lock()
				delete(g.r.open, cc)
				g.r.mu.Unlock()
			}
			g.r.mu.Lock()
			g.r.open[cc] = struct{}{}
			g.r.mu.Unlock()
			return cc, nil
		default:
			go refuse(c, "421 4.7.0 Too many connections, try again later\r\n")
		}
	}
}

func refuse(c net.Conn, reply string) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if tc, ok := c.(*tls.Conn); ok {
		tc.Handshake()
	}
	io.WriteString(c, reply)
	c.Close()
}

type countedConn struct {
	net.Conn
	once     sync.Once
	release  func()
	sess     *session    // the session on it, from EHLO to Logout; guarded by Relay.mu
	starttls atomic.Bool // a TLS handshake began on it: go-smtp's TLS conn carries the replies
}

// shuttingDown is errShuttingDown as a reply line.
var shuttingDown = fmt.Sprintf("%d %d.%d.%d %s\r\n", errShuttingDown.Code, errShuttingDown.EnhancedCode[0],
	errShuttingDown.EnhancedCode[1], errShuttingDown.EnhancedCode[2], errShuttingDown.Message)

// bye answers 421 on a connection not in a transaction and closes it
// (RFC 5321 3.8: a server being shut down should send 421 first). A plain
// connection under STARTTLS can only be closed. The write goes beside
// go-smtp's own: each reply is one Write, so lines do not interleave.
func bye(c net.Conn) {
	if cc, ok := c.(*countedConn); ok && cc.starttls.Load() {
		cc.Close()
		return
	}
	refuse(c, shuttingDown)
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// budget bounds the message bytes held in memory by all sessions.
type budget struct {
	limit int64
	used  atomic.Int64
	peak  atomic.Int64 // the most used at once
}

func (b *budget) take(n int64) bool {
	for {
		u := b.used.Load()
		if u+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			for p := b.peak.Load(); u+n > p && !b.peak.CompareAndSwap(p, u+n); p = b.peak.Load() {
			}
			return true
		}
	}
}

func (b *budget) give(n int64) { b.used.Add(-n) }

// MemoryInUse returns the bytes of messages held now.
func (r *Relay) MemoryInUse() int64 { return r.mem.used.Load() }

// MemoryPeak returns the most bytes of messages held at once so far.
func (r *Relay) MemoryPeak() int64 { return r.mem.peak.Load() }

var (
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down, try again later"}
	errNeedTLS      = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	errNeedAuth     = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errNoMemory     = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "Insufficient system storage, try again later"}
	errRateLimit    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Local send rate exceeded, try again later"}
	errTooMany      = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "Too many recipients"}
	errOtherClass   = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "Recipient gets another configuration set or tags: send it in a separate transaction"}
	errUpstreamDown = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 1}, Message: "Upstream unavailable, try again later"}
	errReadFailed   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Error reading the message"}
	errLineTooLong  = &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Line too long"}
)

type session struct {
	r      *Relay
	l      *listener
	c      *smtp.Conn
	nc     net.Conn     // c.Conn() at EHLO: the connection its replies go to
	cc     *countedConn // the accepted connection under nc
	client netip.Addr

	authUser string
	up       conn

	mu    sync.Mutex
	busy  bool // in a transaction or DATA: not closed when draining
	gone  bool // told 421 and closed while draining
	set   *rules.Set
	from  string
	rcpts []string
	class rules.Class
	size  int64
	buf   *[]byte // from chunkPool, while a message is read into it
}

func (r *Relay) newSession(l *listener, c *smtp.Conn) (smtp.Session, error) {
	if r.draining.Load() {
		return nil, errShuttingDown
	}
	// nc is the connection replies go to (go-smtp's TLS one after
	// STARTTLS), cc the accepted one under it.
	nc := c.Conn()
	cc, _ := nc.(*countedConn)
	if tc, ok := nc.(*tls.Conn); ok {
		cc, _ = tc.NetConn().(*countedConn)
	}
	ap, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	s := &session{r: r, l: l, c: c, nc: nc, cc: cc, client: ap.Addr().Unmap(), up: r.upstream.newConn()}
	if cc != nil {
		r.mu.Lock()
		cc.sess = s
		r.mu.Unlock()
	}
	return s, nil
}

// closeIfIdle says bye to a session not in a transaction, once.
func (s *session) closeIfIdle() {
	s.mu.Lock()
	idle := !s.busy && !s.gone
	s.gone = s.gone || idle
	s.mu.Unlock()
	if idle {
		go bye(s.nc)
	}
}

// setBusy marks the start (false when draining: no transaction starts
// then) or the end of a transaction; one that ends while draining closes
// the session, after its last reply.
func (s *session) setBusy(b bool) bool {
	s.mu.Lock()
	if b && s.r.draining.Load() {
		s.mu.Unlock()
		return false
	}
	s.busy = b
	s.mu.Unlock()
	if !b && s.r.draining.Load() {
		s.closeIfIdle()
	}
	return true
}

// overTLS reports whether the session is encrypted: after STARTTLS, or on
// an implicit TLS listener (whose connections go-smtp sees wrapped in a
// countedConn, so its TLSConnectionState says no).
func (s *session) overTLS() bool {
	_, ok := s.c.TLSConnectionState()
	return ok || s.l.cfg.TLS == "implicit"
}

func (s *session) AuthMechanisms() []string {
	if s.r.users.Load() == nil {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if s.r.users.Load() == nil {
		return nil, smtp.ErrAuthUnsupported
	}
	if s.l.cfg.RequireTLS && !s.overTLS() {
		return nil, errNeedTLS
	}
	check := func(user, password string) error {
		// The users in use when the password arrives: a reload since
		// AUTH began applies.
		if !s.r.users.Load().Check(user, password) {
			return errAuthFailed
		}
		s.authUser = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return plainServer(check), nil
	case sasl.Login:
		return &loginServer{authFunc: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) env() *rules.Envelope {
	return &rules.Envelope{MailFrom: s.from, RcptTo: s.rcpts, AuthUser: s.authUser, Client: s.client, Listener: s.l.cfg.Name}
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.r.draining.Load() {
		return errShuttingDown
	}
	if s.l.cfg.RequireTLS && !s.overTLS() {
		return errNeedTLS
	}
	if s.l.cfg.Auth && s.authUser == "" {
		return errNeedAuth
	}
	if !s.setBusy(true) {
		return errShuttingDown
	}
	s.set = s.r.Rules.Get()
	s.from, s.rcpts, s.class, s.size = from, nil, "", 0
	var upOpts smtp.MailOptions
	if opts != nil {
		s.size = opts.Size
		upOpts.Size = opts.Size
		if opts.Body == smtp.Body8BitMIME {
			upOpts.Body = opts.Body
		}
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, s.r.cfg.UpstreamTimeout.Duration)
	defer cancel()
	if err := s.up.mail(ctx, from, &upOpts); err != nil {
		s.setBusy(false)
		return s.refused("MAIL", "", err)
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if len(s.rcpts) >= s.r.cfg.MaxRecipients {
		return errTooMany
	}
	class := s.set.Class(s.env(), to)
	if len(s.rcpts) > 0 && class != s.class {
		return errOtherClass
	}
	if s.r.limiter != nil && !s.r.limiter.Allow() {
		s.r.Metrics.Throttles.WithLabelValues("local").Inc()
		return errRateLimit
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, s.r.cfg.UpstreamTimeout.Duration)
	defer cancel()
	if err := s.up.rcpt(ctx, to); err != nil {
		return s.refused("RCPT", to, err)
	}
	s.class = class
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Reset() {
	s.up.reset()
	s.from, s.rcpts, s.class = "", nil, ""
	s.setBusy(false)
}

func (s *session) Logout() error {
	s.up.close()
	if s.cc != nil {
		s.r.mu.Lock()
		if s.cc.sess == s {
			s.cc.sess = nil
		}
		s.r.mu.Unlock()
	}
	return nil
}

// refused answers a stage command the upstream failed (replyFor) and logs
// it with the cause, which the client's reply may not carry.
func (s *session) refused(stage, to string, err error) *smtp.SMTPError {
	reply := s.replyFor(err)
	rec := s.record()
	rec.To, rec.Error = to, err.Error()
	rec.SetReply(reply.Code, reply.Message)
	s.r.log.Refused(stage, rec)
	return reply
}

// record starts the log record of the session's transaction.
func (s *session) record() *ops.Record {
	return &ops.Record{From: s.from, Rcpts: len(s.rcpts), Client: s.client.String(), AuthUser: s.authUser, Listener: s.l.cfg.Name}
}

// replyFor turns an upstream failure into the client's reply: an SMTP
// reply passes through, everything else is 451 4.4.1.
func (s *session) replyFor(err error) *smtp.SMTPError {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code == 421 {
			// 421 closes a connection; to our client it is a transient
			// failure of this command, the connection stays.
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Upstream: " + se.Message}
		}
		return se
	}
	return errUpstreamDown
}

// Data reads the message, applies the rules, sends it upstream and answers
// 250 with the upstream's message ID only when the upstream accepted it.
// Every reply is an *smtp.SMTPError (a plain error would become a 554).
func (s *session) Data(r io.Reader) error {
	rec := s.record()
	s.r.Metrics.InFlight.Inc()
	reply := s.data(r, rec)
	s.r.Metrics.InFlight.Dec()
	rec.SetReply(reply.Code, reply.Message)
	if reply.Code == 454 {
		s.r.Metrics.Throttles.WithLabelValues("upstream").Inc()
	}
	s.r.Metrics.Observe(rec)
	s.r.log.Message(rec)
	return reply
}

func (s *session) data(r io.Reader, rec *ops.Record) *smtp.SMTPError {
	msg, held, reply := s.read(r)
	defer func() {
		s.r.mem.give(held) // held grows below: read it at return
		if s.buf != nil {
			chunkPool.Put(s.buf) // nothing holds msg once the upstream has it
			s.buf = nil
		}
	}()
	if reply != nil {
		s.up.reset()
		return reply
	}
	rec.Bytes = int64(len(msg))
	smtpUp := s.r.up.kind == upSMTP || s.r.up.kind == upSMTPS || s.r.up.kind == upSMTPPlain
	if smtpUp && s.r.cfg.NormalizeLineEndings {
		msg = normalizeLineEndings(msg)
	}
	var d *rules.Decision
	decided := false
	out, _, err := s.r.rewriter.Bytes(msg, func(h rules.Header) (*rules.Decision, error) {
		decided = true
		var err error
		d, err = s.set.Evaluate(s.env(), h)
		return d, err
	})
	if d != nil {
		rec.Rule, rec.ConfigSet = d.Rule, d.ConfigurationSet
		for _, t := range d.Tags {
			rec.Tags = append(rec.Tags, t.String())
		}
	}
	switch {
	case err == nil:
	case d != nil && d.Reject != "":
		s.up.reset()
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: d.Reject}
	default:
		s.up.reset()
		rec.Error = err.Error()
		what := "Message refused: " // by the rewrite
		if !decided {
			what = "Message header refused: "
		} else if d == nil {
			what = "" // the rules' own error says what
		}
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: what + replytext.Line(err.Error())}
	}
	if s.r.mem.take(int64(len(out))) {
		held += int64(len(out))
	} else {
		s.up.reset()
		return errNoMemory
	}
	if smtpUp {
		if i, ok := checkLineEndings(out); !ok {
			s.up.reset()
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: fmt.Sprintf(
				"Message has a bare LF or CR CR LF at byte %d, which the SMTP upstream cannot pass unchanged (see normalize_line_endings)", i)}
		}
	}
	ctx, cancel := context.WithTimeout(s.r.ctx, s.r.cfg.UpstreamTimeout.Duration)
	defer cancel()
	t0 := time.Now()
	id, err := s.up.send(ctx, out, sendOptions{from: s.from, rcpts: s.rcpts})
	rec.Upstream = time.Since(t0)
	if err != nil {
		rec.Error = err.Error()
		if errors.Is(err, awsses.ErrTooLarge) {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too big for the upstream: " + replytext.Line(err.Error())}
		}
		return s.replyFor(err)
	}
	rec.MessageID = id
	msgText := "Ok"
	if id != "" {
		msgText = "Ok " + id
	}
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: msgText}
}

// firstChunk is the buffer a message is read into first, from chunkPool
// (most messages fit), unless MAIL's SIZE= says it is larger.
const firstChunk = 32 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, firstChunk); return &b }}

// read takes the whole message into memory within the memory budget,
// refreshing the read deadline as data arrives (go-smtp's ReadTimeout
// counts from the DATA command) and bounding the whole transfer by
// DataTimeout.
func (s *session) read(r io.Reader) ([]byte, int64, *smtp.SMTPError) {
	nc := s.c.Conn()
	idle, total := s.r.cfg.ReadTimeout.Duration, s.r.cfg.DataTimeout.Duration
	end := time.Now().Add(total)
	var held int64
	chunk := int64(firstChunk)
	if s.size >= firstChunk && s.size < s.r.cfg.MaxMessageBytes {
		chunk = s.size + 1
	}
	if !s.r.mem.take(chunk) {
		return nil, 0, errNoMemory
	}
	held = chunk
	var buf []byte
	if chunk == firstChunk {
		s.buf = chunkPool.Get().(*[]byte)
		buf = (*s.buf)[:0]
	} else {
		buf = make([]byte, 0, chunk)
	}
	for {
		dl := time.Now().Add(idle)
		if dl.After(end) {
			dl = end
		}
		nc.SetReadDeadline(dl)
		if len(buf) == cap(buf) {
			// Copying into a buffer twice the size holds both for a moment.
			next := 2 * int64(cap(buf))
			if !s.r.mem.take(next) {
				return nil, held, errNoMemory
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
			s.r.mem.give(held)
			held = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, held, nil
		}
		if err != nil {
			var se *smtp.SMTPError
			switch {
			case errors.As(err, &se):
				return nil, held, se // 552 message too large
			case errors.Is(err, smtp.ErrTooLongLine):
				return nil, held, errLineTooLong
			}
			return nil, held, errReadFailed
		}
	}
}

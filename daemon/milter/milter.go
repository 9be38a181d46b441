package milter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	replytext "github.com/sesmime/sesmime/daemon/internal/reply"

	dj "github.com/d--j/go-milter"

	"github.com/sesmime/sesmime"
	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/rules"
)

// Mixed says what happens to a message whose recipients the rules give
// different decisions (configuration set, tags, headers, reject): one
// message carries one set of SES fields.
type Mixed int

const (
	// RejectMixed refuses the message with 550 5.7.1 and a reply naming
	// the rules that disagree, so the sender can send one message per
	// group of recipients. It is the default: SES never sees a set that was
	// not meant for a recipient.
	RejectMixed Mixed = iota
	// FirstMixed applies the decision of the first recipient to the whole
	// message, and logs the others.
	FirstMixed
)

// ParseMixed returns the Mixed policy named s: "reject" or "first".
func ParseMixed(s string) (Mixed, error) {
	switch s {
	case "reject":
		return RejectMixed, nil
	case "first":
		return FirstMixed, nil
	}
	return 0, fmt.Errorf("mixed recipients policy %q: want reject or first", s)
}

// OnError says what the milter answers when it cannot decide or rewrite
// a message: a tag_from_header value SES would refuse, existing tags that
// cannot be merged, a header the library reads differently from the MTA,
// a header over the limits, a timeout, an internal error.
type OnError int

const (
	// TempFail answers 451 4.3.0 with the reason: the client (or
	// Postfix's pickup) keeps the message and retries, so nothing is
	// lost and nothing leaves without its SES fields. The default.
	TempFail OnError = iota
	// Reject answers 550 5.7.1 with the reason.
	Reject
	// Accept lets the message through unchanged: SES then sees only the
	// X-SES-* fields the client sent, if any.
	Accept
)

// ParseOnError returns the OnError policy named s: "tempfail", "reject" or "accept".
func ParseOnError(s string) (OnError, error) {
	switch s {
	case "tempfail":
		return TempFail, nil
	case "reject":
		return Reject, nil
	case "accept":
		return Accept, nil
	}
	return 0, fmt.Errorf("error policy %q: want tempfail, reject or accept", s)
}

// Config configures a Server. Rules is required; the zero value of every
// other field is a safe default.
type Config struct {
	// Rules returns the rule set for the next message (it may change
	// between messages, e.g. on SIGHUP).
	Rules func() *rules.Set
	// Mixed: RejectMixed (default) or FirstMixed.
	Mixed Mixed
	// OnError: TempFail (default), Reject or Accept.
	OnError OnError
	// Timeout bounds the work at end of message; past it OnError
	// applies. 0 means 10 s, a third of Postfix's milter_command_timeout.
	Timeout time.Duration
	// ReadTimeout bounds the wait for the MTA's next command; 0 means
	// 15 minutes, beyond Postfix's smtpd_timeout between commands.
	ReadTimeout time.Duration
	// WriteTimeout bounds a write to the MTA; 0 means 10 s.
	WriteTimeout time.Duration
	// Limits bound the header (mimeheaders defaults when zero).
	Limits mimeheaders.Limits
	// Observe, if set, is called once for each message that reached end
	// of message (or was refused on the way), after the reply is chosen.
	Observe func(*Outcome)
}

// Results of a message, as in Outcome.Result.
const (
	Accepted = "accepted" // the MTA goes on with the message (with the edits)
	Rejected = "rejected" // refused for good (5xx)
	Deferred = "deferred" // refused for now (4xx)
)

// An Outcome is what happened to one message.
type Outcome struct {
	QueueID  string // Postfix's queue ID (macro i), when sent
	From     string
	Rcpts    []string
	Client   string // the client's address, when known
	AuthUser string
	Listener string // Postfix's {daemon_name} (sendmail: the daemon name)

	Result    string // Accepted, Rejected or Deferred
	Code      int    // 0 when accepted, else the SMTP reply code
	Reply     string // the reply text sent, when refused
	Rule      string // the rule that decided, "default" when none matched
	ConfigSet string // X-SES-CONFIGURATION-SET written, "" when unchanged
	Tags      []sesmime.Tag
	Edits     []Edit
	Err       error // what went wrong, when OnError applied
	Elapsed   time.Duration
}

// A Server is a milter server applying the rules to every message.
type Server struct {
	cfg Config
	rw  *rules.Rewriter // the rewriter of each decision, shared by sessions
	srv *dj.Server
}

// NewServer returns a Server for cfg.
func NewServer(cfg *Config) (*Server, error) {
	if cfg == nil || cfg.Rules == nil {
		return nil, errors.New("milter: Config.Rules is required")
	}
	s := &Server{cfg: *cfg, rw: rules.NewRewriter(&inject.Options{Limits: cfg.Limits})}
	if s.cfg.Timeout <= 0 {
		s.cfg.Timeout = 10 * time.Second
	}
	if s.cfg.ReadTimeout <= 0 {
		s.cfg.ReadTimeout = 15 * time.Minute
	}
	if s.cfg.WriteTimeout <= 0 {
		s.cfg.WriteTimeout = 10 * time.Second
	}
	s.srv = dj.NewServer(
		dj.WithMilter(func() dj.Milter { return &session{s: s} }),
		dj.WithActions(dj.OptAddHeader|dj.OptChangeHeader),
		// Values with their leading space (SMFIP_HDR_LEADSPC); no body,
		// HELO, DATA, end-of-header or unknown-command events; no replies
		// the MTA would wait for before end of message.
		dj.WithProtocols(dj.OptHeaderLeadingSpace|dj.OptNoBody|dj.OptNoHelo|dj.OptNoData|dj.OptNoEOH|dj.OptNoUnknown|
			dj.OptNoConnReply|dj.OptNoMailReply|dj.OptNoRcptReply|dj.OptNoHeaderReply),
		dj.WithMacroRequest(dj.StageConnect, []string{dj.MacroDaemonName, dj.MacroClientAddr}),
		dj.WithMacroRequest(dj.StageMail, []string{dj.MacroQueueId, dj.MacroAuthAuthen, dj.MacroDaemonName, dj.MacroClientAddr}),
		dj.WithMacroRequest(dj.StageEOM, []string{dj.MacroQueueId}),
		dj.WithNegotiationCallback(negotiate),
		dj.WithReadTimeout(s.cfg.ReadTimeout),
		dj.WithWriteTimeout(s.cfg.WriteTimeout),
	)
	return s, nil
}

// negotiate takes the protocol steps the MTA offers of those asked for
// (without leading-space mode, values are rebuilt with the one space the
// MTA dropped) but requires the header actions.
func negotiate(mtaVersion, milterVersion uint32, mtaActions, milterActions dj.OptAction, mtaProtocol, milterProtocol dj.OptProtocol, offered dj.DataSize) (uint32, dj.OptAction, dj.OptProtocol, dj.DataSize, error) {
	v := min(mtaVersion, milterVersion)
	if v < 2 {
		return 0, 0, 0, 0, fmt.Errorf("milter: MTA speaks milter protocol version %d, want 2 or later", mtaVersion)
	}
	need := dj.OptAddHeader | dj.OptChangeHeader
	if mtaActions&need != need {
		return 0, 0, 0, 0, fmt.Errorf("milter: MTA does not allow adding and changing header fields (offers %v)", mtaActions)
	}
	return v, milterActions & mtaActions, milterProtocol & mtaProtocol, offered, nil
}

// Serve accepts MTA connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, dj.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for open ones to end
// (the MTA closes them after its current SMTP session), or for ctx; then
// it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, dj.ErrServerClosed) {
		return nil
	}
	return err
}

// Close closes the listeners and every open connection at once.
func (s *Server) Close() error { return s.srv.Close() }

// Listen opens a listener for spec: inet:HOST:PORT, inet6:[HOST]:PORT
// or unix:PATH (also local:PATH), as Postfix's smtpd_milters writes
// them. A stale unix socket at PATH is removed first; the socket is made
// mode perm.
func Listen(spec string, perm os.FileMode) (net.Listener, error) {
	kind, addr, ok := strings.Cut(spec, ":")
	if !ok || addr == "" {
		return nil, fmt.Errorf("listen address %q: want inet:HOST:PORT or unix:PATH", spec)
	}
	switch kind {
	case "inet", "inet6", "tcp":
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("listen address %q: %w", spec, err)
		}
		return net.Listen("tcp", addr)
	case "unix", "local":
		if fi, err := os.Lstat(addr); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.Dial("unix", addr); err == nil {
				c.Close()
				return nil, fmt.Errorf("listen address %q: another process listens there", spec)
			}
			os.Remove(addr)
		}
		l, err := net.Listen("unix", addr)
		if err != nil {
			return nil, err
		}
		if err := os.Chmod(addr, perm); err != nil {
			l.Close()
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("listen address %q: unknown kind %q (want inet or unix)", spec, kind)
}

// defaultMaxHeaderBytes bounds the header kept per message when Limits
// has no MaxHeaderBytes.
const defaultMaxHeaderBytes = 1 << 20

// MaxFieldBytes is the longest field (name, colon, value) the milter
// takes. Postfix 3.7 cuts a field of more than about 60 KB when a milter
// is attached (even one that edits nothing; without a milter the limit is
// header_size_limit, 100 KB): the milter is shown the cut field and the
// message leaves with it, so such a field is refused, not passed on
// changed.
const MaxFieldBytes = 50 << 10

// ErrFieldTooLong is returned (under the OnError policy) for a field over
// MaxFieldBytes.
var ErrFieldTooLong = errors.New("header field over 50 KB, which Postfix may cut when a milter is attached")

// session is one MTA connection; the library calls it from one goroutine.
type session struct {
	dj.NoOpMilter
	s *Server

	client, listener string
	clientAddr       netip.Addr

	// the current message
	started  time.Time
	queueID  string
	from     string
	authUser string
	rcpts    []string
	fields   []Field
	size     int
	tooBig   bool
	long     string // the first field over MaxFieldBytes
}

func (c *session) Connect(host, family string, port uint16, addr string, m dj.Modifier) (*dj.Response, error) {
	c.client, c.listener = "", ""
	if a, err := netip.ParseAddr(addr); err == nil && (family == "tcp4" || family == "tcp6") {
		c.clientAddr = a.Unmap()
		c.client = c.clientAddr.String()
	}
	c.copyMacros(m)
	return dj.RespContinue, nil
}

// copyMacros keeps the macros the rules need as they arrive.
func (c *session) copyMacros(m dj.Modifier) {
	if v := m.Get(dj.MacroDaemonName); v != "" {
		c.listener = v
	}
	if v := m.Get(dj.MacroClientAddr); v != "" && c.client == "" {
		if a, err := netip.ParseAddr(v); err == nil {
			c.clientAddr = a.Unmap()
			c.client = c.clientAddr.String()
		}
	}
	if v := m.Get(dj.MacroQueueId); v != "" {
		c.queueID = v
	}
	if v := m.Get(dj.MacroAuthAuthen); v != "" {
		c.authUser = v
	}
}

func (c *session) reset() {
	c.started = time.Time{}
	c.queueID, c.from, c.authUser = "", "", ""
	c.rcpts, c.fields, c.size, c.tooBig, c.long = nil, nil, 0, false, ""
}

func (c *session) MailFrom(from, _ string, m dj.Modifier) (*dj.Response, error) {
	c.reset()
	c.started = time.Now()
	c.from = from
	c.copyMacros(m)
	return dj.RespContinue, nil
}

func (c *session) RcptTo(rcpt, _ string, m dj.Modifier) (*dj.Response, error) {
	c.rcpts = append(c.rcpts, rcpt)
	return dj.RespContinue, nil
}

func (c *session) Header(name, value string, m dj.Modifier) (*dj.Response, error) {
	limit := c.s.cfg.Limits.MaxHeaderBytes
	if limit == 0 {
		limit = defaultMaxHeaderBytes
	}
	c.size += len(name) + len(value) + 3
	if limit > 0 && c.size > limit || c.tooBig {
		c.tooBig, c.fields = true, nil
		return dj.RespContinue, nil
	}
	if len(name)+1+len(value) > MaxFieldBytes && c.long == "" {
		c.long = cut(name)
	}
	c.fields = append(c.fields, Field{Name: name, Value: value})
	return dj.RespContinue, nil
}

func (c *session) Abort(m dj.Modifier) error {
	c.reset()
	return nil
}

func (c *session) EndOfMessage(m dj.Modifier) (*dj.Response, error) {
	c.copyMacros(m)
	o := &Outcome{
		QueueID: c.queueID, From: c.from, Rcpts: c.rcpts, Client: c.client,
		AuthUser: c.authUser, Listener: c.listener,
	}
	leading := m.Protocol()&dj.OptHeaderLeadingSpace != 0
	resp := c.s.end(c, o, leading, m)
	if !c.started.IsZero() {
		o.Elapsed = time.Since(c.started)
	}
	if f := c.s.cfg.Observe; f != nil {
		f(o)
	}
	c.reset()
	return resp, nil
}

// decision is what end computes off the library's goroutine.
type decision struct {
	d     *rules.Decision
	edits []Edit
	code  int    // a refusal by the rules or the mixed policy
	reply string // its text
	err   error
}

// end decides the message and sends the edits, filling o.
func (s *Server) end(c *session, o *Outcome, leading bool, m dj.Modifier) *dj.Response {
	ch := make(chan decision, 1)
	env := &rules.Envelope{
		MailFrom: c.from, RcptTo: c.rcpts, AuthUser: c.authUser,
		Client: c.clientAddr, Listener: c.listener,
	}
	fields, tooBig, long := c.fields, c.tooBig, c.long
	go func() {
		if long != "" {
			ch <- decision{err: fmt.Errorf("%s: %w", long, ErrFieldTooLong)}
			return
		}
		ch <- s.decide(env, fields, tooBig, leading)
	}()
	var dec decision
	select {
	case dec = <-ch:
	case <-time.After(s.cfg.Timeout):
		dec.err = fmt.Errorf("no decision within %v", s.cfg.Timeout)
	}
	if dec.d != nil {
		o.Rule = dec.d.Rule
		o.ConfigSet = dec.d.ConfigurationSet
		o.Tags = dec.d.Tags
	}
	if dec.err != nil {
		return s.failure(o, dec.err)
	}
	if dec.code != 0 {
		return refuse(o, dec.code, dec.reply)
	}
	for _, e := range dec.edits {
		var err error
		switch e.Op {
		case Insert:
			err = m.InsertHeader(e.Index, e.Name, e.Value)
		case Change:
			err = m.ChangeHeader(e.Index, e.Name, e.Value)
		case Delete:
			err = m.ChangeHeader(e.Index, e.Name, "")
		}
		if err != nil {
			// Edits already sent cannot be taken back; refusing the
			// message drops them with it.
			return s.failure(o, fmt.Errorf("sending %v: %w", e, err))
		}
	}
	o.Edits = dec.edits
	o.Result = Accepted
	return dj.RespAccept
}

// decide evaluates the rules and plans the edits.
func (s *Server) decide(env *rules.Envelope, fields []Field, tooBig, leading bool) (dec decision) {
	defer func() {
		if r := recover(); r != nil {
			dec.err = fmt.Errorf("internal error: %v", r)
		}
	}()
	if tooBig {
		limit := s.cfg.Limits.MaxHeaderBytes
		if limit == 0 {
			limit = defaultMaxHeaderBytes
		}
		return decision{err: fmt.Errorf("%w (%d bytes)", mimeheaders.ErrHeaderTooLarge, limit)}
	}
	hd, err := readHeader(fields, leading, s.cfg.Limits)
	if err != nil {
		return decision{err: err}
	}
	d, groups, err := s.cfg.Rules().Decide(env, hd)
	switch {
	case err != nil:
		return decision{err: err}
	case d == nil && s.cfg.Mixed == RejectMixed:
		return decision{d: groups[0].Decision, code: 550, reply: mixedReply(groups)}
	case d == nil:
		d = groups[0].Decision
	}
	if d.Reject != "" {
		return decision{d: d, code: 550, reply: "5.7.1 " + d.Reject}
	}
	rw, err := s.rw.For(d)
	if err != nil {
		return decision{d: d, err: err}
	}
	edits, _, err := hd.plan(rw)
	return decision{d: d, edits: edits, err: err}
}

// mixedReply names the decisions that disagree, in the words
// rules.Summary gives sesmime inject --rules. The rules file's name stays
// out of a reply to the sender.
func mixedReply(groups []rules.Group) string {
	return "5.7.1 the recipients of this message need different rewrites (" + rules.Summary(groups, "") + "); send one message per group"
}

// failure applies the OnError policy.
func (s *Server) failure(o *Outcome, err error) *dj.Response {
	o.Err = err
	switch s.cfg.OnError {
	case Accept:
		o.Result = Accepted
		return dj.RespAccept
	case Reject:
		return refuse(o, 550, "5.7.1 sesmime-milter: "+err.Error())
	}
	return refuse(o, 451, "4.3.0 sesmime-milter: "+err.Error())
}

// refuse answers code with reply (one line, at most 400 bytes).
func refuse(o *Outcome, code int, reply string) *dj.Response {
	reply = replytext.Line(reply)
	o.Code, o.Reply = code, reply
	o.Result = Rejected
	if code < 500 {
		o.Result = Deferred
	}
	resp, err := dj.RejectWithCodeAndReason(uint16(code), reply)
	if err != nil {
		if code < 500 {
			return dj.RespTempFail
		}
		return dj.RespReject
	}
	return resp
}

package relay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is everything the relay is told, from its config file and flags.
// The zero value of each field is a safe default.
type Config struct {
	Listeners []Listener `toml:"listener"`

	// Upstream is where messages go: ses+v2://REGION (the default),
	// ses+v1://REGION, smtp://HOST:PORT (STARTTLS required), smtps://HOST:PORT
	// (implicit TLS) or smtp+plain://HOST:PORT (no TLS, loopback only).
	Upstream    string `toml:"upstream"`
	EndpointURL string `toml:"endpoint_url"` // the SES API endpoint, for tests and VPC endpoints
	// UpstreamUser and UpstreamPassword are the SES SMTP credentials (also
	// from $SESMIME_SMTP_USER, $SESMIME_SMTP_PASSWORD).
	UpstreamUser     string `toml:"upstream_user"`
	UpstreamPassword string `toml:"upstream_password"`
	UpstreamCA       string `toml:"upstream_ca"` // PEM file of CAs trusted for the SMTP upstream instead of the system's
	// NormalizeLineEndings lets the relay rewrite bare LF and CR CR LF into
	// CRLF for an SMTP upstream instead of refusing the message (see
	// README: the SMTP client cannot send them byte for byte).
	NormalizeLineEndings bool `toml:"normalize_line_endings"`

	Rules     string   `toml:"rules"`      // rules file; reloaded on SIGHUP
	ConfigSet string   `toml:"config_set"` // default configuration set (rules' [default] otherwise)
	Tags      []string `toml:"tags"`       // default tags, NAME=VALUE

	MaxMessageBytes int64   `toml:"max_message_bytes"` // 0: what the upstream takes
	MaxRecipients   int     `toml:"max_recipients"`    // 0: 50 for ses+v1, 100 otherwise
	MaxLineLength   int     `toml:"max_line_length"`   // 0: 2000 (at least 1000)
	MaxConnections  int     `toml:"max_connections"`   // 0: 200
	MemoryLimit     int64   `toml:"memory_limit"`      // bytes of messages held at once; 0: 512 MiB
	Rate            float64 `toml:"rate"`              // recipients per second; 0: the account's send quota (API) or none (SMTP)
	Burst           int     `toml:"burst"`             // 0: the rate, at least 1

	ReadTimeout     Duration `toml:"read_timeout"`     // idle time while reading a command or data; 0: 5m
	DataTimeout     Duration `toml:"data_timeout"`     // whole DATA transfer; 0: 10m
	UpstreamTimeout Duration `toml:"upstream_timeout"` // one upstream call; 0: 2m (Postfix waits 10m after DATA)
	// UpstreamIdle is how long an SMTP upstream connection a session has
	// finished with is kept for later sessions; 0: 30s, negative: none is
	// kept (one connection per session).
	UpstreamIdle    Duration `toml:"upstream_idle"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"` // SIGTERM: time to finish what is in flight; 0: 30s

	Metrics string `toml:"metrics"` // address for /metrics, /healthz, /readyz; "" for none
	Users   string `toml:"users"`   // bcrypt users file for AUTH (name:hash lines); reloaded on SIGHUP
}

// A Listener is one address the relay accepts mail on.
type Listener struct {
	Name string `toml:"name"` // what rules see as listener; default "smtp"
	Addr string `toml:"addr"`
	// TLS is "none", "starttls" or "implicit"; "" is starttls with a
	// certificate, none without.
	TLS string `toml:"tls"`
	// Cert and Key are PEM files, reloaded on SIGHUP.
	Cert string `toml:"cert"`
	Key  string `toml:"key"`
	// RequireTLS refuses MAIL and AUTH before STARTTLS.
	RequireTLS bool `toml:"require_tls"`
	// Auth requires SMTP AUTH before MAIL.
	Auth bool `toml:"auth"`
	// Allow lists the clients that may connect; empty: any.
	Allow []string `toml:"allow"`
	// InsecureAuth allows AUTH without TLS (for loopback tests).
	InsecureAuth bool `toml:"insecure_auth"`
	// LMTP speaks LMTP instead of SMTP (for Postfix transport_maps).
	LMTP bool `toml:"lmtp"`
}

// Duration is a time.Duration read as a Go duration string ("30s").
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

// LoadConfig reads a TOML config file; unknown keys are errors.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var c Config
	dec := toml.NewDecoder(f).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, fmt.Errorf("%s:%d:%d: %v", path, line, col, de)
		}
		var se *toml.StrictMissingError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: %v", path, se.String())
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &c, nil
}

// upstreamURL is a parsed Config.Upstream.
type upstreamURL struct {
	kind string // "ses+v2", "ses+v1", "smtp", "smtps", "smtp+plain"
	host string // region for ses, host:port for smtp
}

// Upstream kinds.
const (
	upSESv2     = "ses+v2"
	upSESv1     = "ses+v1"
	upSMTP      = "smtp"
	upSMTPS     = "smtps"
	upSMTPPlain = "smtp+plain"
)

func parseUpstream(s string) (upstreamURL, error) {
	if s == "" {
		return upstreamURL{}, fmt.Errorf("upstream: none given (want ses+v2://REGION, ses+v1://REGION, smtp://HOST:PORT, smtps://HOST:PORT or smtp+plain://HOST:PORT)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return upstreamURL{}, fmt.Errorf("upstream %q: %v", s, err)
	}
	if u.User != nil {
		return upstreamURL{}, fmt.Errorf("upstream %q: credentials do not go into the URL (upstream_user, upstream_password or $SESMIME_SMTP_USER, $SESMIME_SMTP_PASSWORD)", s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return upstreamURL{}, fmt.Errorf("upstream %q: unexpected path or query", s)
	}
	up := upstreamURL{kind: u.Scheme, host: u.Host}
	switch up.kind {
	case upSESv2, upSESv1:
		if up.host == "" || strings.ContainsAny(up.host, ":/") {
			return up, fmt.Errorf("upstream %q: want %s://REGION", s, up.kind)
		}
	case upSMTP, upSMTPS, upSMTPPlain:
		host, _, err := net.SplitHostPort(up.host)
		if err != nil {
			return up, fmt.Errorf("upstream %q: want %s://HOST:PORT", s, up.kind)
		}
		if up.kind == upSMTPPlain && !isLoopback(host) {
			return up, fmt.Errorf("upstream %q: smtp+plain sends credentials and mail in clear text and is allowed only to a loopback address", s)
		}
	default:
		return up, fmt.Errorf("upstream %q: unknown scheme %q (want ses+v2, ses+v1, smtp, smtps or smtp+plain)", s, u.Scheme)
	}
	return up, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// maxSize is what an upstream takes, in raw bytes: SES counts size after
// base64 (40 MB for SMTP and SESv2, 10 MB for v1), about 3/4 of it raw.
func (u upstreamURL) maxSize() int64 {
	if u.kind == upSESv1 {
		return 10 * 1024 * 1024 / 4 * 3
	}
	return 40 * 1024 * 1024 / 4 * 3
}

func (c *Config) withDefaults() (*Config, error) {
	d := *c
	if d.Upstream == "" {
		return nil, fmt.Errorf("upstream: none given")
	}
	up, err := parseUpstream(d.Upstream)
	if err != nil {
		return nil, err
	}
	if d.MaxMessageBytes <= 0 || d.MaxMessageBytes > up.maxSize() {
		d.MaxMessageBytes = up.maxSize()
	}
	if d.MaxRecipients <= 0 {
		d.MaxRecipients = 100
	}
	if up.kind == upSESv1 && d.MaxRecipients > 50 {
		d.MaxRecipients = 50 // SendRawEmail takes at most 50 destinations
	}
	if d.MaxLineLength == 0 {
		d.MaxLineLength = 2000
	}
	if d.MaxLineLength < 1000 {
		return nil, fmt.Errorf("max_line_length %d: RFC 5321 lines are up to 1000 bytes; want at least 1000", d.MaxLineLength)
	}
	if d.MaxConnections <= 0 {
		d.MaxConnections = 200
	}
	if d.MemoryLimit <= 0 {
		d.MemoryLimit = 512 << 20
	}
	def := func(p *Duration, v time.Duration) {
		if p.Duration <= 0 {
			p.Duration = v
		}
	}
	def(&d.ReadTimeout, 5*time.Minute)
	def(&d.DataTimeout, 10*time.Minute)
	def(&d.UpstreamTimeout, 2*time.Minute)
	def(&d.ShutdownTimeout, 30*time.Second)
	if d.UpstreamIdle.Duration == 0 {
		d.UpstreamIdle.Duration = 30 * time.Second
	}
	if d.UpstreamUser == "" {
		d.UpstreamUser = os.Getenv("SESMIME_SMTP_USER")
	}
	if d.UpstreamPassword == "" {
		d.UpstreamPassword = os.Getenv("SESMIME_SMTP_PASSWORD")
	}
	if len(d.Listeners) == 0 {
		return nil, fmt.Errorf("listen: no listener given")
	}
	for i := range d.Listeners {
		l := &d.Listeners[i]
		if l.Name == "" {
			l.Name = "smtp"
		}
		if l.TLS == "" {
			l.TLS = "none"
			if l.Cert != "" {
				l.TLS = "starttls"
			}
		}
	}
	return &d, nil
}

// checkListener refuses a listener that would be an open relay or cannot
// work, and returns its allow list and its certificate (nil without TLS).
func checkListener(l *Listener, haveUsers bool) ([]netip.Prefix, *keyPair, error) {
	host, _, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listener %s: address %q: %v", l.Name, l.Addr, err)
	}
	var allow []netip.Prefix
	for _, a := range l.Allow {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			ip, err2 := netip.ParseAddr(a)
			if err2 != nil {
				return nil, nil, fmt.Errorf("listener %s: allow %q: %v", l.Name, a, err)
			}
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		allow = append(allow, p.Masked())
	}
	if !isLoopback(host) && !l.Auth && len(allow) == 0 {
		return nil, nil, fmt.Errorf("listener %s: %s is not a loopback address and has neither auth nor an allow list: that is an open relay", l.Name, l.Addr)
	}
	if l.Auth && !haveUsers {
		return nil, nil, fmt.Errorf("listener %s: auth = true needs a users file", l.Name)
	}
	var kp *keyPair
	switch l.TLS {
	case "none":
		if l.RequireTLS {
			return nil, nil, fmt.Errorf("listener %s: require_tls without a certificate", l.Name)
		}
		if l.Auth && !l.InsecureAuth && !isLoopback(host) {
			return nil, nil, fmt.Errorf("listener %s: auth without TLS sends passwords in clear text; give a certificate (or insecure_auth = true)", l.Name)
		}
	case "starttls", "implicit":
		if l.Cert == "" || l.Key == "" {
			return nil, nil, fmt.Errorf("listener %s: tls = %q needs cert and key", l.Name, l.TLS)
		}
		kp = &keyPair{certFile: l.Cert, keyFile: l.Key}
		if err := kp.reload(); err != nil {
			return nil, nil, fmt.Errorf("listener %s: %v", l.Name, err)
		}
	default:
		return nil, nil, fmt.Errorf("listener %s: tls %q (want none, starttls or implicit)", l.Name, l.TLS)
	}
	return allow, kp, nil
}

// A keyPair is a listener's certificate and key files and the pair last
// loaded from them. Its tlsConfig gives each handshake the pair in use
// when it starts, so a reload changes the certificate of new connections
// only.
type keyPair struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// reload loads the pair from the files and puts it in use; on an error
// (a file missing, no PEM block, a key that is not the certificate's) the
// pair in use stays.
func (k *keyPair) reload() error {
	c, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return fmt.Errorf("certificate %s, key %s: %w", k.certFile, k.keyFile, err)
	}
	k.cur.Store(&c)
	return nil
}

// describe names the certificate in use, for the reload line.
func (k *keyPair) describe() string {
	c := k.cur.Load()
	if c == nil || c.Leaf == nil {
		return k.certFile
	}
	names := strings.Join(c.Leaf.DNSNames, ", ")
	if names == "" {
		names = c.Leaf.Subject.CommonName
	}
	return fmt.Sprintf("%s (%s, valid until %s)", k.certFile, names, c.Leaf.NotAfter.UTC().Format(time.RFC3339))
}

func (k *keyPair) tlsConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return k.cur.Load(), nil },
		MinVersion:     tls.VersionTLS12,
	}
}

func loadCA(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("upstream_ca %s: no PEM certificates", path)
	}
	return p, nil
}

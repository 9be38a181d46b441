// Package fakeses is a local stand-in for the Amazon SES endpoints that
// send raw email, for tests only. It decodes what the real aws-sdk-go-v2
// clients send — SES v1 SendRawEmail in the Query protocol (form fields),
// SESv2 SendEmail in REST-JSON — records each request, and answers as SES
// does: a MessageId on success, Throttling / TooManyRequestsException and
// InvalidParameterValue / BadRequestException errors in each protocol's own
// error format. It also answers the send-quota calls (SES v1 GetSendQuota,
// SESv2 GetAccount). It listens on the loopback interface only.
//
// It is exported for the tests of other modules of this repository (the
// relay's); it is not part of the awsses API and may change at any time.
package fakeses

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Tag is a message tag as decoded from a request.
type Tag struct{ Name, Value string }

// A Request is one decoded send request.
type Request struct {
	API    string // "ses" (v1 Query) or "sesv2" (REST-JSON)
	Action string // "SendRawEmail" or "SendEmail"
	Raw    []byte // the decoded raw message (RawMessage.Data, Content.Raw.Data)

	ConfigurationSetName string
	Tags                 []Tag // v1 Tags.member.N, v2 EmailTags

	Source, SourceArn, FromArn, ReturnPathArn string   // v1
	Destinations                              []string // v1 Destinations, v2 Destination.ToAddresses

	FromEmailAddress, FromEmailAddressIdentityArn, TenantName string // v2

	// Params are the names of every parameter sent, sorted: form keys
	// (without Action and Version) for v1, top-level JSON keys for v2.
	Params []string
	// SESFields are the X-SES-* fields of the raw message's header, names
	// upper-cased, values unfolded and trimmed, found by a plain scan
	// independent of package sesmime.
	SESFields map[string][]string

	// Region, Service and AccessKey come from the SigV4 Authorization
	// header's credential scope.
	Region, Service, AccessKey string
}

// HasParam reports whether a parameter of that name (or, for v1, with
// that prefix before a '.') was sent.
func (r Request) HasParam(name string) bool {
	return slices.ContainsFunc(r.Params, func(p string) bool {
		return p == name || strings.HasPrefix(p, name+".")
	})
}

// A Fault is what the server answers a request with.
type Fault int

const (
	OK          Fault = iota // success with a MessageId
	Throttle                 // Throttling (v1) / TooManyRequestsException (v2)
	Invalid                  // InvalidParameterValue (v1) / BadRequestException (v2)
	Malformed                // an HTTP 200 that is not a valid SES answer
	Rejected                 // MessageRejected (both APIs): a permanent refusal
	NoConfigSet              // ConfigurationSetDoesNotExist (v1) / NotFoundException (v2)
	Unavailable              // HTTP 503 ServiceUnavailable: a transient server error
)

// Server is a running fake SES endpoint. URL is its base endpoint, for
// the clients' BaseEndpoint.
type Server struct {
	URL string
	// Respond, if set, chooses the answer to the n-th request (1-based,
	// counted over both APIs) after the server's own validation passed.
	// It may block, to play a slow SES.
	Respond func(n int, r Request) Fault
	// MaxSendRate and Max24HourSend are the send quota GetSendQuota and
	// GetAccount report; 0 means 14 and 50000.
	MaxSendRate, Max24HourSend float64
	// Discard, if set, keeps no request (Requests returns none): only
	// Sent counts them, so a long benchmark run holds no messages.
	Discard bool

	srv  *httptest.Server
	mu   sync.Mutex
	req  []Request
	n    int
	sent map[string]int
	bad  []string
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{}
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests returns the requests decoded so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.req)
}

// Sent returns how many send requests were answered with a MessageId,
// per access key of their signature, so that several clients of one
// server (say, the relays of a benchmark) are counted apart.
func (s *Server) Sent() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.sent))
	for k, v := range s.sent {
		out[k] = v
	}
	return out
}

// Problems returns what the server found wrong with requests that do not
// look like the SDK's (bad path, protocol, signature scope), in order.
func (s *Server) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bad)
}

func (s *Server) problem(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.bad = append(s.bad, msg)
	s.mu.Unlock()
	http.Error(w, msg, http.StatusNotFound)
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$`)

// ServeHTTP answers one request as the endpoint at URL does, for serving
// the fake from another listener (a TLS one, say).
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	var r Request
	m := authRE.FindStringSubmatch(hr.Header.Get("Authorization"))
	if m == nil {
		s.problem(w, "no SigV4 Authorization header: %q", hr.Header.Get("Authorization"))
		return
	}
	r.AccessKey, r.Region, r.Service = m[1], m[3], m[4]
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		s.problem(w, "read body: %v", err)
		return
	}
	if s.quota(w, hr, body) {
		return
	}
	var invalid string
	switch {
	case hr.Method == http.MethodPost && hr.URL.Path == "/" &&
		strings.HasPrefix(hr.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		invalid, err = decodeQuery(&r, body)
	case hr.Method == http.MethodPost && hr.URL.Path == "/v2/email/outbound-emails" &&
		strings.HasPrefix(hr.Header.Get("Content-Type"), "application/json"):
		invalid, err = decodeJSON(&r, body)
	default:
		s.problem(w, "unexpected %s %s (%s)", hr.Method, hr.URL.Path, hr.Header.Get("Content-Type"))
		return
	}
	if err != nil {
		s.problem(w, "%v", err)
		return
	}
	r.SESFields = sesFields(r.Raw)

	s.mu.Lock()
	s.n++
	n := s.n
	if !s.Discard {
		s.req = append(s.req, r)
	}
	respond := s.Respond
	s.mu.Unlock()

	fault := OK
	if invalid == "" && respond != nil {
		fault = respond(n, r)
		if fault == Invalid {
			invalid = "Rejected by the test."
		}
	}
	if invalid != "" {
		fault = Invalid
	}
	if fault == OK {
		s.mu.Lock()
		if s.sent == nil {
			s.sent = map[string]int{}
		}
		s.sent[r.AccessKey]++
		s.mu.Unlock()
	}
	id := fmt.Sprintf("0100019a-fake-%06d", n)
	reqID := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	if r.API == "ses" {
		answerQuery(w, fault, id, reqID, invalid)
	} else {
		answerJSON(w, fault, id, reqID, invalid)
	}
}

// quota answers GetSendQuota and GetAccount; it reports whether hr was one.
func (s *Server) quota(w http.ResponseWriter, hr *http.Request, body []byte) bool {
	rate, max := s.MaxSendRate, s.Max24HourSend
	if rate == 0 {
		rate = 14
	}
	if max == 0 {
		max = 50000
	}
	switch {
	case hr.Method == http.MethodGet && hr.URL.Path == "/v2/email/account":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ProductionAccessEnabled":true,"SendingEnabled":true,"SendQuota":{"Max24HourSend":%g,"MaxSendRate":%g,"SentLast24Hours":0}}`, max, rate)
		return true
	case hr.Method == http.MethodPost && hr.URL.Path == "/" && bytes.Contains(body, []byte("Action=GetSendQuota")):
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<GetSendQuotaResponse xmlns="%s">
  <GetSendQuotaResult>
    <Max24HourSend>%g</Max24HourSend>
    <MaxSendRate>%g</MaxSendRate>
    <SentLast24Hours>0</SentLast24Hours>
  </GetSendQuotaResult>
  <ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata>
</GetSendQuotaResponse>
`, xmlns, max, rate)
		return true
	}
	return false
}

const xmlns = "http://ses.amazonaws.com/doc/2010-12-01/"

func answerQuery(w http.ResponseWriter, f Fault, id, reqID, invalid string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	errXML := func(code, msg string) {
		if code == "ServiceUnavailable" {
			w.WriteHeader(http.StatusServiceUnavailable)
		} else {
			w.WriteHeader(http.StatusBadRequest)
		}
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s">
  <Error>
    <Type>Sender</Type>
    <Code>%s</Code>
    <Message>%s</Message>
  </Error>
  <RequestId>%s</RequestId>
</ErrorResponse>
`, xmlns, code, xmlEscape(msg), reqID)
	}
	switch f {
	case Throttle:
		errXML("Throttling", "Maximum sending rate exceeded.")
	case Invalid:
		errXML("InvalidParameterValue", invalid)
	case Rejected:
		errXML("MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: nobody@example.com")
	case NoConfigSet:
		errXML("ConfigurationSetDoesNotExist", "Configuration set <x> does not exist.")
	case Unavailable:
		errXML("ServiceUnavailable", "Service is unavailable.")
	case Malformed:
		fmt.Fprint(w, `<SendRawEmailResponse><SendRawEmailResult><MessageId>`)
	default:
		fmt.Fprintf(w, `<SendRawEmailResponse xmlns="%s">
  <SendRawEmailResult>
    <MessageId>%s</MessageId>
  </SendRawEmailResult>
  <ResponseMetadata>
    <RequestId>%s</RequestId>
  </ResponseMetadata>
</SendRawEmailResponse>
`, xmlns, id, reqID)
	}
}

func answerJSON(w http.ResponseWriter, f Fault, id, reqID, invalid string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", reqID)
	errJSON := func(status int, typ, msg string) {
		w.Header().Set("X-Amzn-Errortype", typ)
		w.WriteHeader(status)
		b, _ := json.Marshal(map[string]string{"message": msg})
		w.Write(b)
	}
	switch f {
	case Throttle:
		errJSON(http.StatusTooManyRequests, "TooManyRequestsException", "Maximum sending rate exceeded.")
	case Invalid:
		errJSON(http.StatusBadRequest, "BadRequestException", invalid)
	case Rejected:
		errJSON(http.StatusBadRequest, "MessageRejected", "Email address is not verified. The following identities failed the check in region US-EAST-1: nobody@example.com")
	case NoConfigSet:
		errJSON(http.StatusNotFound, "NotFoundException", "Configuration set <x> does not exist.")
	case Unavailable:
		errJSON(http.StatusServiceUnavailable, "InternalFailure", "Service is unavailable.")
	case Malformed:
		fmt.Fprint(w, `{"MessageId":`)
	default:
		fmt.Fprintf(w, `{"MessageId":%q}`, id)
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var (
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	tagRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// validate returns SES's InvalidParameterValue message for what SES would
// refuse, or "".
func validate(r *Request) string {
	if r.Raw == nil {
		return "Raw message data is required."
	}
	if len(r.Raw) == 0 {
		return "Empty raw message."
	}
	if r.ConfigurationSetName != "" && !nameRE.MatchString(r.ConfigurationSetName) {
		return fmt.Sprintf("Configuration set <%s> does not exist.", r.ConfigurationSetName)
	}
	for _, t := range r.Tags {
		if !tagRE.MatchString(t.Name) && t.Name != "ses:feedback-id-a" && t.Name != "ses:feedback-id-b" {
			return fmt.Sprintf("Invalid tag name <%s>: only alphanumeric ASCII characters, '_', and '-' are allowed.", t.Name)
		}
		if !tagRE.MatchString(t.Value) {
			return fmt.Sprintf("Invalid tag value <%s>: only alphanumeric ASCII characters, '_', and '-' are allowed.", t.Value)
		}
	}
	return ""
}

// decodeQuery decodes a SES v1 Query protocol form.
func decodeQuery(r *Request, body []byte) (string, error) {
	r.API = "ses"
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", fmt.Errorf("form: %v", err)
	}
	for k, v := range form {
		if len(v) != 1 {
			return "", fmt.Errorf("form field %s given %d times", k, len(v))
		}
	}
	if v := form.Get("Version"); v != "2010-12-01" {
		return "", fmt.Errorf("form field Version = %q", v)
	}
	r.Action = form.Get("Action")
	if r.Action != "SendRawEmail" {
		return "", fmt.Errorf("form field Action = %q", r.Action)
	}
	for k := range form {
		if k != "Action" && k != "Version" {
			r.Params = append(r.Params, k)
		}
	}
	slices.Sort(r.Params)
	if form.Has("RawMessage.Data") {
		r.Raw, err = base64.StdEncoding.Strict().DecodeString(form.Get("RawMessage.Data"))
		if err != nil {
			return "", fmt.Errorf("RawMessage.Data: %v", err)
		}
		if r.Raw == nil {
			r.Raw = []byte{}
		}
	}
	r.ConfigurationSetName = form.Get("ConfigurationSetName")
	r.Source = form.Get("Source")
	r.SourceArn = form.Get("SourceArn")
	r.FromArn = form.Get("FromArn")
	r.ReturnPathArn = form.Get("ReturnPathArn")
	for i := 1; form.Has("Destinations.member." + strconv.Itoa(i)); i++ {
		r.Destinations = append(r.Destinations, form.Get("Destinations.member."+strconv.Itoa(i)))
	}
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i)
		if !form.Has(p+".Name") && !form.Has(p+".Value") {
			break
		}
		r.Tags = append(r.Tags, Tag{Name: form.Get(p + ".Name"), Value: form.Get(p + ".Value")})
	}
	// Every parameter must have been understood.
	for _, k := range r.Params {
		switch {
		case k == "RawMessage.Data", k == "ConfigurationSetName", k == "Source", k == "SourceArn",
			k == "FromArn", k == "ReturnPathArn",
			strings.HasPrefix(k, "Destinations.member."), strings.HasPrefix(k, "Tags.member."):
		default:
			return "", fmt.Errorf("unknown SendRawEmail parameter %q", k)
		}
	}
	return validate(r), nil
}

// decodeJSON decodes a SESv2 SendEmail REST-JSON body.
func decodeJSON(r *Request, body []byte) (string, error) {
	r.API = "sesv2"
	r.Action = "SendEmail"
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil {
		return "", fmt.Errorf("JSON body: %v", err)
	}
	for k := range keys {
		r.Params = append(r.Params, k)
	}
	slices.Sort(r.Params)
	var in struct {
		Content *struct {
			Raw *struct {
				Data *[]byte // base64 in JSON, decoded by encoding/json
			}
			Simple, Template json.RawMessage
		}
		ConfigurationSetName        string
		EmailTags                   []Tag
		FromEmailAddress            string
		FromEmailAddressIdentityArn string
		TenantName                  string
		Destination                 *struct {
			ToAddresses, CcAddresses, BccAddresses []string
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return "", fmt.Errorf("JSON body: %v", err)
	}
	for _, k := range r.Params {
		switch k {
		case "Content", "ConfigurationSetName", "EmailTags", "FromEmailAddress",
			"FromEmailAddressIdentityArn", "TenantName", "Destination":
		default:
			return "", fmt.Errorf("unexpected SendEmail parameter %q", k)
		}
	}
	if in.Content == nil {
		return "Content is required.", nil
	}
	if in.Content.Simple != nil || in.Content.Template != nil {
		return "", errors.New("sesv2 body: Content has Simple or Template besides Raw")
	}
	if in.Content.Raw != nil && in.Content.Raw.Data != nil {
		r.Raw = *in.Content.Raw.Data
		if r.Raw == nil {
			r.Raw = []byte{}
		}
	}
	r.ConfigurationSetName = in.ConfigurationSetName
	r.Tags = in.EmailTags
	r.FromEmailAddress = in.FromEmailAddress
	r.FromEmailAddressIdentityArn = in.FromEmailAddressIdentityArn
	r.TenantName = in.TenantName
	if in.Destination != nil {
		r.Destinations = in.Destination.ToAddresses
	}
	return validate(r), nil
}

// sesFields scans the header block of raw (up to the first empty line) for
// X-SES-* fields.
func sesFields(raw []byte) map[string][]string {
	out := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	var name string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name != "" {
				vs := out[name]
				vs[len(vs)-1] = strings.TrimSpace(vs[len(vs)-1] + line)
			}
			continue
		}
		n, v, ok := strings.Cut(line, ":")
		name = ""
		if ok && strings.HasPrefix(strings.ToUpper(n), "X-SES-") {
			name = strings.ToUpper(strings.TrimRight(n, " \t"))
			out[name] = append(out[name], strings.TrimSpace(v))
		}
	}
	return out
}

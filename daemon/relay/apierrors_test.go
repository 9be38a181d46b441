package relay

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/daemon/internal/ops"
)

// apiError is one error answer of the SES API, in each protocol: v1's
// Query XML (<Error><Code>) and SESv2's REST-JSON (X-Amzn-Errortype).
type apiError struct {
	status        int
	code, v2Code  string // v2Code "" means code
	message       string
	v2Status      int // 0 means status
	hang, hangUp  bool
	noCredentials bool
}

// sesErrors answers every send request with e and counts the requests.
func sesErrors(t *testing.T, e apiError) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	stop := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch {
		case e.hang:
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		case e.hangUp:
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
			return
		}
		w.Header().Set("X-Amzn-Requestid", "00000000-0000-4000-8000-000000000001")
		if r.URL.Path == "/" { // v1, Query protocol
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(e.status)
			var msg strings.Builder
			xml.EscapeText(&msg, []byte(e.message))
			fmt.Fprintf(w, `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>00000000-0000-4000-8000-000000000001</RequestId></ErrorResponse>`, e.code, msg.String())
			return
		}
		code, status := e.v2Code, e.v2Status
		if code == "" {
			code = e.code
		}
		if status == 0 {
			status = e.status
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", code+":http://internal.amazon.com/coral/com.amazonaws.sesv2/")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":%q}`, e.message)
	}))
	t.Cleanup(func() {
		close(stop)
		s.Close()
	})
	return s, &n
}

// TestAPIErrorReplies pins, one row at a time, the SMTP reply each SES API
// error becomes, through both APIs, and how often the request was sent:
// only throttling is retried (3 attempts), since SendEmail is not
// idempotent.
//
// The daily quota is a throttling error in SES (v1 Throttling "Daily
// message quota exceeded."; SES's own SMTP interface answers it with 454):
// it clears as the 24-hour window moves, so it is 454 4.7.0 and the
// client's queue retries; a 5xx would bounce mail a later attempt delivers.
func TestAPIErrorReplies(t *testing.T) {
	const rejected = "554 5.7.1"
	cases := []struct {
		name     string
		err      apiError
		want     string // code and enhanced code
		attempts int32
	}{
		{"MessageRejected", apiError{status: 400, code: "MessageRejected", message: "Illegal address"}, rejected, 1},
		{"identity not verified", apiError{status: 400, code: "MessageRejected", message: "Email address is not verified. The following identities failed the check in region US-EAST-1: a@example.com"}, rejected, 1},
		{"MailFromDomainNotVerified", apiError{status: 400, code: "MailFromDomainNotVerifiedException", message: "Mail-From domain is not verified."}, rejected, 1},
		{"ConfigurationSetDoesNotExist", apiError{status: 400, code: "ConfigurationSetDoesNotExist", v2Code: "NotFoundException", v2Status: 404, message: "Configuration set <nope> does not exist."}, rejected, 1},
		{"throttling", apiError{status: 400, code: "Throttling", v2Code: "TooManyRequestsException", v2Status: 429, message: "Maximum sending rate exceeded."}, "454 4.7.0", 3},
		{"daily quota", apiError{status: 400, code: "Throttling", v2Code: "LimitExceededException", message: "Daily message quota exceeded."}, "454 4.7.0", 3},
		{"sending paused", apiError{status: 400, code: "AccountSendingPausedException", v2Code: "SendingPausedException", message: "Sending is paused for this account."}, "451 4.7.1", 1},
		{"SES unavailable", apiError{status: 503, code: "ServiceUnavailable", v2Code: "InternalFailure", message: "Service is unavailable."}, "451 4.4.1", 1},
		{"connection dropped", apiError{hangUp: true}, "451 4.4.1", 1},
		{"timeout", apiError{hang: true}, "451 4.4.1", 1},
		{"invalid access key", apiError{status: 403, code: "InvalidClientTokenId", v2Code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}, "451 4.4.1", 1},
		{"bad signature", apiError{status: 403, code: "SignatureDoesNotMatch", v2Code: "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided."}, "451 4.4.1", 1},
		{"expired token", apiError{status: 400, code: "ExpiredToken", v2Code: "ExpiredTokenException", v2Status: 403, message: "The security token included in the request is expired"}, "451 4.4.1", 1},
		{"clock skew", apiError{status: 400, code: "RequestExpired", v2Code: "InvalidSignatureException", v2Status: 403, message: "Request has expired."}, "451 4.4.1", 1},
		{"access denied", apiError{status: 403, code: "AccessDenied", v2Code: "AccessDeniedException", message: "User is not authorized to perform ses:SendRawEmail"}, "451 4.4.1", 1},
		{"no credentials", apiError{noCredentials: true}, "451 4.4.1", 0},
	}
	for _, kind := range []string{upSESv1, upSESv2} {
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				srv, n := sesErrors(t, tc.err)
				cfg := &Config{Listeners: []Listener{{Addr: "127.0.0.1:0"}}, Upstream: kind + "://us-east-1", EndpointURL: srv.URL, Rate: 1000}
				cfg.UpstreamTimeout.Duration = 30 * time.Second // room for the throttling retries' backoff
				if tc.err.hang {
					cfg.UpstreamTimeout.Duration = time.Second
				}
				deps := Deps{Log: ops.NewLog(&logBuf{})}
				if tc.err.noCredentials {
					deps.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
						return aws.Credentials{}, errors.New("no EC2 IMDS role found")
					})
				}
				r := startRelayDeps(t, cfg, deps)
				_, err := send(t, r.Addrs()[0], "a@example.com", []string{"b@example.org"}, simple)
				var se *smtp.SMTPError
				got := "250"
				if errors.As(err, &se) {
					got = fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
				} else if err != nil {
					got = err.Error()
				}
				if got != tc.want {
					t.Errorf("reply %s (%v), want %s", got, err, tc.want)
				}
				if a := n.Load(); a != tc.attempts {
					t.Errorf("%d requests, want %d", a, tc.attempts)
				}
			})
		}
	}
}

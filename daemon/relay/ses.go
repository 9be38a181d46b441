package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	replytext "github.com/sesmime/sesmime/daemon/internal/reply"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/emersion/go-smtp"

	"github.com/sesmime/sesmime/awsses"
)

// apiUpstream sends with SESv2 SendEmail (Content.Raw) or SES v1
// SendRawEmail.
type apiUpstream struct {
	v1 *ses.Client
	v2 *sesv2.Client
}

// throttleCodes are the only errors the SDK may retry: a retry after a
// timeout or a connection error could send a message twice (SendEmail is
// not idempotent), so those go back to the client as 4xx instead.
var throttleCodes = map[string]struct{}{
	"Throttling": {}, "ThrottlingException": {}, "TooManyRequestsException": {},
	"LimitExceededException": {}, "RequestThrottled": {},
}

// apiWriteBuffer is the HTTP connection's write buffer: a request for a
// message of up to ~45 KB (base64 in JSON) leaves in one write.
const apiWriteBuffer = 64 << 10

// newAPIUpstream makes the SDK client; it keeps up to conns idle HTTP
// connections (one per session that may send at once), so that sessions
// sending together do not dial, or shake hands with TLS, for each message.
func newAPIUpstream(ctx context.Context, kind, region, endpoint string, conns int, creds aws.CredentialsProvider) (*apiUpstream, error) {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) { apiTransport(t, conns) })
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithHTTPClient(hc),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 2 * time.Second
				o.Retryables = []retry.IsErrorRetryable{retry.RetryableErrorCode{Codes: throttleCodes}}
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if creds != nil {
		opts = append(opts, config.WithCredentialsProvider(creds))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	cfg.HTTPClient = oneWrite{cfg.HTTPClient}
	u := &apiUpstream{}
	if kind == upSESv1 {
		u.v1 = ses.NewFromConfig(cfg)
	} else {
		u.v2 = sesv2.NewFromConfig(cfg)
	}
	return u, nil
}

// apiTransport keeps up to conns idle connections and buffers writes for
// oneWrite.
func apiTransport(t *http.Transport, conns int) {
	t.MaxIdleConns = max(t.MaxIdleConns, conns)
	t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, conns)
	t.WriteBufferSize = apiWriteBuffer
}

// oneWrite hands net/http each request body of up to apiWriteBuffer bytes
// as a *bytes.Reader, which it writes together with the header (it sends
// the header on its own first for a body it does not know to be in
// memory, as the SDK's is): one write a request instead of two.
type oneWrite struct{ aws.HTTPClient }

func (c oneWrite) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.ContentLength > 0 && r.ContentLength <= apiWriteBuffer {
		b := make([]byte, r.ContentLength)
		_, err := io.ReadFull(r.Body, b)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return c.HTTPClient.Do(r)
}

// sendRate asks SES for the account's maximum send rate (recipients per
// second).
func (u *apiUpstream) sendRate(ctx context.Context) (float64, error) {
	if u.v1 != nil {
		out, err := u.v1.GetSendQuota(ctx, &ses.GetSendQuotaInput{})
		if err != nil {
			return 0, err
		}
		return out.MaxSendRate, nil
	}
	out, err := u.v2.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return 0, err
	}
	if out.SendQuota == nil {
		return 0, errors.New("GetAccount: no SendQuota")
	}
	return out.SendQuota.MaxSendRate, nil
}

func (u *apiUpstream) newConn() conn { return &apiConn{u: u} }
func (u *apiUpstream) closeIdle()    {}

type apiConn struct {
	u     *apiUpstream
	from  string
	rcpts []string
}

func (a *apiConn) mail(_ context.Context, from string, _ *smtp.MailOptions) error {
	a.from, a.rcpts = from, nil
	return nil
}

func (a *apiConn) rcpt(_ context.Context, to string) error {
	a.rcpts = append(a.rcpts, to)
	return nil
}

func (a *apiConn) reset() { a.from, a.rcpts = "", nil }
func (a *apiConn) close() {}

// send builds the request with package awsses: for SESv2 the message's
// X-SES-CONFIGURATION-SET and X-SES-MESSAGE-TAGS fields (just written by
// the rules) are lifted into ConfigurationSetName and EmailTags; for v1
// they stay in the message, which SendRawEmail reads.
func (a *apiConn) send(ctx context.Context, msg []byte, o sendOptions) (string, error) {
	opts := &awsses.Options{From: o.from, Destinations: o.rcpts, MaxSize: -1}
	if a.u.v1 != nil {
		in, err := awsses.RawEmailInput(msg, opts)
		if err != nil {
			return "", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: replytext.Line(err.Error())}
		}
		out, err := a.u.v1.SendRawEmail(ctx, in)
		if err != nil {
			return "", classifyAPI(err)
		}
		return aws.ToString(out.MessageId), nil
	}
	in, err := awsses.SendEmailInput(msg, opts)
	if err != nil {
		return "", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: replytext.Line(err.Error())}
	}
	out, err := a.u.v2.SendEmail(ctx, in)
	if err != nil {
		return "", classifyAPI(err)
	}
	return aws.ToString(out.MessageId), nil
}

// classifyAPI maps an SES API error to the reply the client gets:
// throttling 454 4.7.0 (retry later), a refusal of this message or its
// configuration 554 (permanent: retrying cannot help), anything else —
// network, timeout, credentials, SES's own failures — 451 4.4.1.
func classifyAPI(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), replytext.Line(ae.ErrorMessage())
		switch code {
		case "Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceededException", "RequestThrottled":
			return &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Throttling failure: " + msg}
		case "MessageRejected", "MailFromDomainNotVerified", "MailFromDomainNotVerifiedException",
			"ConfigurationSetDoesNotExist", "ConfigurationSetDoesNotExistException", "NotFoundException",
			"BadRequestException", "InvalidParameterValue":
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: fmt.Sprintf("Message rejected: %s (%s)", msg, code)}
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired", "RequestTimeTooSkewed",
			"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
			"InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken",
			"AccessDenied", "AccessDeniedException":
			// Credentials, clock or permissions: the operator fixes them,
			// the mail waits (v1 answers some with HTTP 400, which the 4xx
			// rule below would make permanent).
			return &upstreamError{"SES " + code, err}
		case "AccountSuspendedException", "SendingPausedException", "AccountSendingPausedException", "ConfigurationSetSendingPausedException":
			// The operator can lift these; the client's queue waits.
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: fmt.Sprintf("Sending paused: %s (%s)", msg, code)}
		}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 &&
			re.HTTPStatusCode() != 408 && re.HTTPStatusCode() != 429 && re.HTTPStatusCode() != 403 {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: fmt.Sprintf("Message rejected: %s (%s)", msg, code)}
		}
		return &upstreamError{"SES " + code, err}
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &upstreamError{"SES", err}
	}
	return &upstreamError{"SES", err}
}

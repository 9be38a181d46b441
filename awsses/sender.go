package awsses

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"

	"github.com/sesmime/sesmime/parse"
)

// RawEmailClient is the part of *ses.Client a Sender uses.
type RawEmailClient interface {
	SendRawEmail(ctx context.Context, in *ses.SendRawEmailInput, optFns ...func(*ses.Options)) (*ses.SendRawEmailOutput, error)
}

// EmailClient is the part of *sesv2.Client a Sender uses.
type EmailClient interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// A Message is one message to send. Err, if set, is reported for it
// instead of sending (for example a file that could not be read).
type Message struct {
	Name string // for reports, e.g. a file path
	Data []byte // the raw message
	Err  error
}

// A Report is the outcome of sending one message.
type Report struct {
	Index     int    // 0-based position of the message in the stream
	Name      string // Message.Name
	MessageID string // SES's MessageId, when Err is nil
	Attempts  int    // HTTP attempts the client made, when Err is nil
	Err       error  // why the message was not sent
}

// A Summary counts the reports of one Send.
type Summary struct {
	Sent, Failed int
}

// DefaultConcurrency is the number of messages a Sender has in flight when
// Concurrency is 0.
const DefaultConcurrency = 4

// A Sender sends messages through exactly one of V1 and V2. Throttling and
// other transient errors are retried by the client's retryer (the SDK's
// standard retryer retries Throttling and TooManyRequestsException with
// backoff; set its attempts with config.WithRetryMaxAttempts); the Sender
// itself never retries, so a message is sent at most once per Send.
type Sender struct {
	V1 RawEmailClient // SES v1 SendRawEmail
	V2 EmailClient    // SESv2 SendEmail
	// Options apply to every message; see RawEmailInput and SendEmailInput.
	Options *Options
	// Concurrency bounds the messages in flight; 0 means DefaultConcurrency.
	Concurrency int
	// DryRun builds and checks every request but sends nothing.
	DryRun bool
}

// API returns the API s sends through (parse.V1 or parse.V2), or the zero
// API if s has no client or two.
func (s *Sender) API() parse.API {
	switch {
	case s.V1 != nil && s.V2 == nil:
		return parse.V1
	case s.V2 != nil && s.V1 == nil:
		return parse.V2
	}
	return 0
}

// Send sends each message of msgs and calls report once per message, in
// the order the sends finish, never from two goroutines at once. It reads
// msgs only as fast as sends finish, so at most Concurrency messages are
// held in memory. Options are validated before anything is read; a bad
// option is returned without a report. Send stops reading msgs when ctx is
// done and returns ctx's error once the messages in flight are reported.
func (s *Sender) Send(ctx context.Context, msgs iter.Seq[Message], report func(Report)) (Summary, error) {
	var sum Summary
	api := s.API()
	if api == 0 {
		return sum, fmt.Errorf("%w: a Sender needs exactly one of V1 and V2", ErrInvalidOption)
	}
	if err := s.Options.Validate(api); err != nil {
		return sum, err
	}
	n := s.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, n)
	)
	done := func(r Report) {
		mu.Lock()
		defer mu.Unlock()
		if r.Err != nil {
			sum.Failed++
		} else {
			sum.Sent++
		}
		if report != nil {
			report(r)
		}
	}
	i := 0
	for m := range msgs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int, m Message) {
			defer func() { <-sem; wg.Done() }()
			done(s.sendOne(ctx, api, i, m))
		}(i, m)
		i++
	}
	wg.Wait()
	return sum, ctx.Err()
}

func (s *Sender) sendOne(ctx context.Context, api parse.API, i int, m Message) Report {
	r := Report{Index: i, Name: m.Name, Err: m.Err}
	if r.Err != nil {
		return r
	}
	var (
		id  *string
		md  middleware.Metadata
		err error
	)
	switch api {
	case parse.V1:
		in, e := RawEmailInput(m.Data, s.Options)
		if e != nil || s.DryRun {
			r.Err = e
			return r
		}
		out, e := s.V1.SendRawEmail(ctx, in)
		if err = e; err == nil {
			id, md = out.MessageId, out.ResultMetadata
		}
	case parse.V2:
		in, e := SendEmailInput(m.Data, s.Options)
		if e != nil || s.DryRun {
			r.Err = e
			return r
		}
		out, e := s.V2.SendEmail(ctx, in)
		if err = e; err == nil {
			id, md = out.MessageId, out.ResultMetadata
		}
	}
	if err != nil {
		r.Err = fmt.Errorf("%s: %w", service(api), err)
		return r
	}
	r.MessageID = aws.ToString(id)
	if res, ok := retry.GetAttemptResults(md); ok {
		r.Attempts = len(res.Results)
	}
	if r.MessageID == "" {
		r.Err = fmt.Errorf("%s: answer has no MessageId", service(api))
	}
	return r
}

// service returns the name AWS gives the service of api: "ses" (v1) or
// "sesv2".
func service(api parse.API) string {
	if api == parse.V2 {
		return "sesv2"
	}
	return "ses"
}

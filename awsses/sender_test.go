package awsses_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/awsses"
	"github.com/sesmime/sesmime/awsses/fakeses"
	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/parse"
)

// clients returns real SDK clients that talk to srv with static
// credentials, a fixed region, and a retryer that waits 1ms between
// attempts instead of SES-sized backoffs.
func clients(srv *fakeses.Server, maxAttempts int) (*ses.Client, *sesv2.Client) {
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
	return ses.NewFromConfig(cfg), sesv2.NewFromConfig(cfg)
}

func newServer(t *testing.T) *fakeses.Server {
	srv := fakeses.New()
	t.Cleanup(func() {
		srv.Close()
		if p := srv.Problems(); len(p) > 0 {
			t.Errorf("requests the fake SES could not read: %q", p)
		}
	})
	return srv
}

func sender(srv *fakeses.Server, api parse.API, opts *awsses.Options) *awsses.Sender {
	v1, v2 := clients(srv, 3)
	s := &awsses.Sender{Options: opts, Concurrency: 3}
	if api == parse.V1 {
		s.V1 = v1
	} else {
		s.V2 = v2
	}
	return s
}

func msgs(bodies ...string) func(func(awsses.Message) bool) {
	return func(yield func(awsses.Message) bool) {
		for i, b := range bodies {
			if !yield(awsses.Message{Name: fmt.Sprintf("m%d", i), Data: []byte(b)}) {
				return
			}
		}
	}
}

// send runs s over ms and returns the reports in input order.
func send(t *testing.T, s *awsses.Sender, ms func(func(awsses.Message) bool)) ([]awsses.Report, awsses.Summary) {
	t.Helper()
	var reps []awsses.Report
	sum, err := s.Send(context.Background(), ms, func(r awsses.Report) { reps = append(reps, r) })
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(reps, func(a, b awsses.Report) int { return a.Index - b.Index })
	return reps, sum
}

const (
	plain  = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
	tagged = "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring, variant=b\r\nX-SES-SOURCE-ARN: arn:x\r\nX-SES-TENANT: acme\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
)

func fakeTags(kv ...string) []fakeses.Tag {
	var ts []fakeses.Tag
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, fakeses.Tag{Name: kv[i], Value: kv[i+1]})
	}
	return ts
}

// TestSendDecoded checks what SES receives, decoded from the wire.
func TestSendDecoded(t *testing.T) {
	tests := []struct {
		name       string
		api        parse.API
		msg        string
		opts       *awsses.Options
		wantParams []string
		wantCS     string
		wantTags   []fakeses.Tag
		wantTenant string
		wantSES    map[string][]string // X-SES-* fields in the raw message SES gets
	}{
		{
			name:       "v1 headers",
			api:        parse.V1,
			msg:        plain,
			opts:       &awsses.Options{ConfigurationSet: "news", Tags: []parse.Tag{{Name: "campaign", Value: "spring"}}},
			wantParams: []string{"RawMessage.Data"},
			wantSES:    map[string][]string{"X-SES-CONFIGURATION-SET": {"news"}, "X-SES-MESSAGE-TAGS": {"campaign=spring"}},
		},
		{
			name:       "v1 params lift the message's fields",
			api:        parse.V1,
			msg:        tagged,
			opts:       &awsses.Options{Placement: awsses.AsParameters, From: "f@example.com", Destinations: []string{"x@example.com"}, FromArn: "arn:f"},
			wantParams: []string{"ConfigurationSetName", "Destinations.member.1", "FromArn", "RawMessage.Data", "Source", "Tags.member.1.Name", "Tags.member.1.Value", "Tags.member.2.Name", "Tags.member.2.Value"},
			wantCS:     "news",
			wantTags:   fakeTags("campaign", "spring", "variant", "b"),
			wantSES:    map[string][]string{"X-SES-SOURCE-ARN": {"arn:x"}, "X-SES-TENANT": {"acme"}},
		},
		{
			name:       "v1 params merge",
			api:        parse.V1,
			msg:        tagged,
			opts:       &awsses.Options{Placement: awsses.AsParameters, Tags: []parse.Tag{{Name: "team", Value: "growth"}}, OnConflict: awsses.Merge},
			wantParams: []string{"ConfigurationSetName", "RawMessage.Data", "Tags.member.1.Name", "Tags.member.1.Value", "Tags.member.2.Name", "Tags.member.2.Value", "Tags.member.3.Name", "Tags.member.3.Value"},
			wantCS:     "news",
			wantTags:   fakeTags("campaign", "spring", "variant", "b", "team", "growth"),
			wantSES:    map[string][]string{"X-SES-SOURCE-ARN": {"arn:x"}, "X-SES-TENANT": {"acme"}},
		},
		{
			name:       "v2 lifts and strips",
			api:        parse.V2,
			msg:        tagged,
			opts:       &awsses.Options{FromEmailAddressIdentityArn: "arn:id", From: "f@example.com"},
			wantParams: []string{"ConfigurationSetName", "Content", "EmailTags", "FromEmailAddress", "FromEmailAddressIdentityArn", "TenantName"},
			wantCS:     "news",
			wantTags:   fakeTags("campaign", "spring", "variant", "b"),
			wantTenant: "acme",
			wantSES:    map[string][]string{"X-SES-SOURCE-ARN": {"arn:x"}},
		},
		{
			name:       "v2 options override",
			api:        parse.V2,
			msg:        tagged,
			opts:       &awsses.Options{ConfigurationSet: "other", Tags: []parse.Tag{{Name: "team", Value: "growth"}}, TenantName: "beta", OnConflict: awsses.Override, Destinations: []string{"x@example.com"}},
			wantParams: []string{"ConfigurationSetName", "Content", "Destination", "EmailTags", "TenantName"},
			wantCS:     "other",
			wantTags:   fakeTags("team", "growth"),
			wantTenant: "beta",
			wantSES:    map[string][]string{"X-SES-SOURCE-ARN": {"arn:x"}},
		},
		{
			name:       "v2 plain message, nothing to lift",
			api:        parse.V2,
			msg:        plain,
			wantParams: []string{"Content"},
			wantSES:    map[string][]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t)
			reps, sum := send(t, sender(srv, tc.api, tc.opts), msgs(tc.msg))
			if sum != (awsses.Summary{Sent: 1}) || reps[0].Err != nil {
				t.Fatalf("summary %+v, report %+v", sum, reps[0])
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if reps[0].MessageID != "0100019a-fake-000001" || reps[0].Attempts != 1 {
				t.Errorf("report %+v", reps[0])
			}
			if r.API != map[parse.API]string{parse.V1: "ses", parse.V2: "sesv2"}[tc.api] || r.Region != "us-east-1" || r.Service != "ses" || r.AccessKey != "AKIDTEST" {
				t.Errorf("API %s, scope %s/%s/%s", r.API, r.AccessKey, r.Region, r.Service)
			}
			if diff := cmp.Diff(tc.wantParams, r.Params); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
			if r.ConfigurationSetName != tc.wantCS || r.TenantName != tc.wantTenant {
				t.Errorf("ConfigurationSetName %q, TenantName %q", r.ConfigurationSetName, r.TenantName)
			}
			if diff := cmp.Diff(tc.wantTags, r.Tags); diff != "" {
				t.Errorf("API tags (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantSES, r.SESFields); diff != "" {
				t.Errorf("X-SES fields in the raw message (-want +got):\n%s", diff)
			}
			// Never both, never unannounced: tags travel either in the
			// header or as API parameters.
			if len(r.Tags) > 0 && len(r.SESFields["X-SES-MESSAGE-TAGS"]) > 0 {
				t.Error("tags sent both in the header and as API parameters")
			}
			if r.ConfigurationSetName != "" && len(r.SESFields["X-SES-CONFIGURATION-SET"]) > 0 {
				t.Error("configuration set sent both in the header and as an API parameter")
			}
			// Every other byte is the message's own.
			if !strings.HasSuffix(string(r.Raw), "From: a@example.com\r\n") && !strings.Contains(string(r.Raw), "Subject: hi\r\n\r\nbody\r\n") {
				t.Errorf("raw message %q", r.Raw)
			}
		})
	}
}

func TestSendThrottlingIsRetried(t *testing.T) {
	for _, api := range []parse.API{parse.V1, parse.V2} {
		t.Run(api.String(), func(t *testing.T) {
			srv := newServer(t)
			srv.Respond = func(n int, _ fakeses.Request) fakeses.Fault {
				if n <= 2 {
					return fakeses.Throttle
				}
				return fakeses.OK
			}
			reps, sum := send(t, sender(srv, api, nil), msgs(plain))
			if sum.Sent != 1 || reps[0].Attempts != 3 || reps[0].MessageID != "0100019a-fake-000003" {
				t.Errorf("summary %+v, report %+v", sum, reps[0])
			}
			if n := len(srv.Requests()); n != 3 {
				t.Errorf("%d requests, want 3", n)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		api      parse.API
		fault    fakeses.Fault
		code     string
		requests int
	}{
		{parse.V1, fakeses.Throttle, "Throttling", 3},
		{parse.V2, fakeses.Throttle, "TooManyRequestsException", 3},
		{parse.V1, fakeses.Invalid, "InvalidParameterValue", 1},
		{parse.V2, fakeses.Invalid, "BadRequestException", 1},
	}
	for _, tc := range tests {
		t.Run(tc.api.String()+" "+tc.code, func(t *testing.T) {
			srv := newServer(t)
			srv.Respond = func(int, fakeses.Request) fakeses.Fault { return tc.fault }
			reps, sum := send(t, sender(srv, tc.api, nil), msgs(plain))
			if sum.Failed != 1 {
				t.Fatalf("summary %+v", sum)
			}
			ae, ok := errors.AsType[smithy.APIError](reps[0].Err)
			if !ok || ae.ErrorCode() != tc.code {
				t.Errorf("err = %v, want API error %s", reps[0].Err, tc.code)
			}
			if reps[0].MessageID != "" {
				t.Errorf("MessageID %q on failure", reps[0].MessageID)
			}
			if n := len(srv.Requests()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

// TestFakeValidates sends what awsses would refuse straight through the
// SDK, to show the fake answers like SES.
func TestFakeValidates(t *testing.T) {
	srv := newServer(t)
	v1, _ := clients(srv, 3)
	_, err := v1.SendRawEmail(context.Background(), &ses.SendRawEmailInput{
		RawMessage: &sestypes.RawMessage{Data: []byte(plain)},
		Tags:       []sestypes.MessageTag{{Name: aws.String("to"), Value: aws.String("x@example.com")}},
	})
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok || ae.ErrorCode() != "InvalidParameterValue" ||
		ae.ErrorMessage() != "Invalid tag value <x@example.com>: only alphanumeric ASCII characters, '_', and '-' are allowed." {
		t.Errorf("err = %v", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no retry)", n)
	}
}

func TestSendMalformedAnswer(t *testing.T) {
	for _, api := range []parse.API{parse.V1, parse.V2} {
		srv := newServer(t)
		srv.Respond = func(int, fakeses.Request) fakeses.Fault { return fakeses.Malformed }
		reps, sum := send(t, sender(srv, api, nil), msgs(plain))
		if sum.Failed != 1 || reps[0].Err == nil {
			t.Errorf("%v: summary %+v, report %+v", api, sum, reps[0])
		}
	}
}

// TestSendMixed sends a stream where some messages fail before a request
// is made; those never reach SES and the others still go.
func TestSendMixed(t *testing.T) {
	srv := newServer(t)
	bodies := []string{plain, tagged, "", plain, "X-SES-MESSAGE-TAGS: a=x@y\r\n\r\n", plain}
	s := sender(srv, parse.V1, &awsses.Options{ConfigurationSet: "other"})
	ms := func(yield func(awsses.Message) bool) {
		for m := range msgs(bodies...) {
			if !yield(m) {
				return
			}
		}
		yield(awsses.Message{Name: "unreadable", Err: os.ErrPermission})
	}
	reps, sum := send(t, s, ms)
	if sum != (awsses.Summary{Sent: 3, Failed: 4}) {
		t.Errorf("summary %+v", sum)
	}
	want := []error{nil, awsses.ErrConflict, mimeheaders.ErrEmpty, nil, awsses.ErrInvalidField, nil, os.ErrPermission}
	for i, r := range reps {
		if r.Index != i || (want[i] == nil) != (r.Err == nil) || want[i] != nil && !errors.Is(r.Err, want[i]) {
			t.Errorf("report %d: %+v, want err %v", i, r, want[i])
		}
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	for _, r := range srv.Requests() {
		if got := r.SESFields["X-SES-CONFIGURATION-SET"]; !cmp.Equal(got, []string{"other"}) {
			t.Errorf("configuration set field %q", got)
		}
	}
}

// countingClient is an EmailClient that records how many calls overlap.
type countingClient struct {
	in, max atomic.Int32
	calls   atomic.Int32
}

func (c *countingClient) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	n := c.in.Add(1)
	defer c.in.Add(-1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	c.calls.Add(1)
	time.Sleep(2 * time.Millisecond)
	return &sesv2.SendEmailOutput{MessageId: aws.String("id")}, nil
}

func TestSendConcurrencyBound(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		c := &countingClient{}
		s := &awsses.Sender{V2: c, Concurrency: n}
		bodies := make([]string, 40)
		for i := range bodies {
			bodies[i] = plain
		}
		var mu sync.Mutex
		inReport := false
		sum, err := s.Send(context.Background(), msgs(bodies...), func(awsses.Report) {
			if !mu.TryLock() || inReport {
				t.Error("report called concurrently")
				return
			}
			inReport = true
			time.Sleep(100 * time.Microsecond)
			inReport = false
			mu.Unlock()
		})
		if err != nil || sum.Sent != 40 {
			t.Fatalf("concurrency %d: %+v, %v", n, sum, err)
		}
		if got := c.max.Load(); got > int32(n) || (n > 1 && got < 2) {
			t.Errorf("concurrency %d: at most %d in flight", n, got)
		}
	}
}

func TestSendOptionErrorsBeforeAnyRead(t *testing.T) {
	read := false
	ms := func(yield func(awsses.Message) bool) { read = true }
	tests := []struct {
		s    *awsses.Sender
		want error
	}{
		{&awsses.Sender{}, awsses.ErrInvalidOption},
		{&awsses.Sender{V1: &ses.Client{}, V2: &countingClient{}}, awsses.ErrInvalidOption},
		{&awsses.Sender{V1: &ses.Client{}, Options: &awsses.Options{TenantName: "t"}}, awsses.ErrWrongAPI},
	}
	for _, tc := range tests {
		if _, err := tc.s.Send(context.Background(), ms, nil); !errors.Is(err, tc.want) {
			t.Errorf("err = %v, want %v", err, tc.want)
		}
	}
	if read {
		t.Error("messages read despite a bad option")
	}
}

func TestSendCancel(t *testing.T) {
	c := &countingClient{}
	ctx, cancel := context.WithCancel(context.Background())
	ms := func(yield func(awsses.Message) bool) {
		for i := 0; ; i++ {
			if i == 5 {
				cancel()
			}
			if !yield(awsses.Message{Name: "m", Data: []byte(plain)}) {
				return
			}
		}
	}
	sum, err := (&awsses.Sender{V2: c, Concurrency: 2}).Send(ctx, ms, nil)
	if !errors.Is(err, context.Canceled) || sum.Sent > 6 {
		t.Errorf("sum %+v, err %v", sum, err)
	}
}

func TestDryRun(t *testing.T) {
	srv := newServer(t)
	s := sender(srv, parse.V2, nil)
	s.DryRun = true
	_, sum := send(t, s, msgs(plain, tagged, ""))
	if sum != (awsses.Summary{Sent: 2, Failed: 1}) || len(srv.Requests()) != 0 {
		t.Errorf("summary %+v, %d requests", sum, len(srv.Requests()))
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"b.eml": "b", "a.eml": "a", "note.txt": "n", "sub/c.eml": "c", "sub/d.EML": "d"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for m := range awsses.Files([]string{dir, filepath.Join(dir, "note.txt"), filepath.Join(dir, "missing.eml")}, ".eml") {
		rel, _ := filepath.Rel(dir, m.Name)
		s := rel + "=" + string(m.Data)
		if m.Err != nil {
			s = rel + " error"
		}
		got = append(got, s)
	}
	want := []string{"a.eml=a", "b.eml=b", "sub/c.eml=c", "note.txt=n", "missing.eml error"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	// Stopping early stops the walk.
	n := 0
	for range awsses.Files([]string{dir}) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("n = %d", n)
	}
}

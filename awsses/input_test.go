package awsses

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/parse"
)

const (
	plain  = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
	tagged = "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring, variant=b\r\nX-SES-SOURCE-ARN: arn:x\r\nX-SES-TENANT: acme\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
)

func tg(kv ...string) []parse.Tag {
	var ts []parse.Tag
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, parse.Tag{Name: kv[i], Value: kv[i+1]})
	}
	return ts
}

func v1Tags(ts []sestypes.MessageTag) []parse.Tag {
	var out []parse.Tag
	for _, t := range ts {
		out = append(out, parse.Tag{Name: aws.ToString(t.Name), Value: aws.ToString(t.Value)})
	}
	return out
}

func v2Tags(ts []sesv2types.MessageTag) []parse.Tag {
	var out []parse.Tag
	for _, t := range ts {
		out = append(out, parse.Tag{Name: aws.ToString(t.Name), Value: aws.ToString(t.Value)})
	}
	return out
}

func TestRawEmailInput(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		opts     *Options
		wantMsg  string
		wantCS   string
		wantTags []parse.Tag
	}{
		{
			name:    "nil options send the message as it is",
			msg:     tagged,
			wantMsg: tagged,
		},
		{
			name:    "headers placement writes the fields",
			msg:     plain,
			opts:    &Options{ConfigurationSet: "news", Tags: tg("campaign", "spring")},
			wantMsg: "X-SES-CONFIGURATION-SET: news\r\nX-SES-MESSAGE-TAGS: campaign=spring\r\n" + plain,
		},
		{
			name:    "headers placement with equal tags in another order is no conflict",
			msg:     tagged,
			opts:    &Options{Tags: tg("variant", "b", "campaign", "spring")},
			wantMsg: strings.Replace(tagged, "campaign=spring, variant=b", "variant=b, campaign=spring", 1),
		},
		{
			name:    "headers placement, merge",
			msg:     tagged,
			opts:    &Options{Tags: tg("variant", "c", "team", "growth"), OnConflict: Merge},
			wantMsg: strings.Replace(tagged, "campaign=spring, variant=b", "campaign=spring, variant=c, team=growth", 1),
		},
		{
			name:    "headers placement, override",
			msg:     tagged,
			opts:    &Options{ConfigurationSet: "other", Tags: tg("team", "growth"), OnConflict: Override},
			wantMsg: strings.NewReplacer("campaign=spring, variant=b", "team=growth", ": news", ": other").Replace(tagged),
		},
		{
			name:     "params placement lifts the message's values and strips their fields only",
			msg:      tagged,
			opts:     &Options{Placement: AsParameters},
			wantMsg:  "X-SES-SOURCE-ARN: arn:x\r\nX-SES-TENANT: acme\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			wantCS:   "news",
			wantTags: tg("campaign", "spring", "variant", "b"),
		},
		{
			name:     "params placement, options only",
			msg:      plain,
			opts:     &Options{Placement: AsParameters, ConfigurationSet: "news", Tags: tg("a", "1")},
			wantMsg:  plain,
			wantCS:   "news",
			wantTags: tg("a", "1"),
		},
		{
			name:     "params placement, merge",
			msg:      "x-ses-message-tags: a=1, b=2\nSubject: s\n\nbody\n",
			opts:     &Options{Placement: AsParameters, Tags: tg("b", "3", "c", "4"), OnConflict: Merge},
			wantMsg:  "Subject: s\n\nbody\n",
			wantTags: tg("a", "1", "b", "3", "c", "4"),
		},
		{
			name:    "params placement, override skips invalid message tags",
			msg:     "X-SES-MESSAGE-TAGS: a=x@y\r\n\r\n",
			opts:    &Options{Placement: AsParameters, Tags: tg("b", "3"), OnConflict: Override},
			wantMsg: "\r\n", wantTags: tg("b", "3"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := RawEmailInput([]byte(tc.msg), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantMsg, string(in.RawMessage.Data)); diff != "" {
				t.Errorf("RawMessage.Data (-want +got):\n%s", diff)
			}
			if got := aws.ToString(in.ConfigurationSetName); got != tc.wantCS {
				t.Errorf("ConfigurationSetName = %q, want %q", got, tc.wantCS)
			}
			if diff := cmp.Diff(tc.wantTags, v1Tags(in.Tags)); diff != "" {
				t.Errorf("Tags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRawEmailInputPassThrough(t *testing.T) {
	msg := []byte(plain)
	in, err := RawEmailInput(msg, &Options{From: "f@example.com", Destinations: []string{"x@example.com", "y@example.com"},
		SourceArn: "arn:s", FromArn: "arn:f", ReturnPathArn: "arn:r"})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{aws.ToString(in.Source), strings.Join(in.Destinations, " "), aws.ToString(in.SourceArn), aws.ToString(in.FromArn), aws.ToString(in.ReturnPathArn)}
	want := []string{"f@example.com", "x@example.com y@example.com", "arn:s", "arn:f", "arn:r"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if string(msg) != plain {
		t.Error("RawEmailInput modified its argument")
	}
}

func TestSendEmailInput(t *testing.T) {
	tests := []struct {
		name       string
		msg        string
		opts       *Options
		wantMsg    string
		wantCS     string
		wantTags   []parse.Tag
		wantTenant string
	}{
		{
			name:       "lifts configuration set, tags and tenant; other X-SES fields stay",
			msg:        tagged,
			wantMsg:    "X-SES-SOURCE-ARN: arn:x\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			wantCS:     "news",
			wantTags:   tg("campaign", "spring", "variant", "b"),
			wantTenant: "acme",
		},
		{
			name:       "options on a plain message",
			msg:        plain,
			opts:       &Options{ConfigurationSet: "news", Tags: tg("a", "1"), TenantName: "acme"},
			wantMsg:    plain,
			wantCS:     "news",
			wantTags:   tg("a", "1"),
			wantTenant: "acme",
		},
		{
			name:       "merge",
			msg:        tagged,
			opts:       &Options{ConfigurationSet: "other", Tags: tg("variant", "c"), TenantName: "beta", OnConflict: Merge},
			wantMsg:    "X-SES-SOURCE-ARN: arn:x\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			wantCS:     "other",
			wantTags:   tg("campaign", "spring", "variant", "c"),
			wantTenant: "beta",
		},
		{
			name:       "override",
			msg:        tagged,
			opts:       &Options{Tags: tg("team", "growth"), OnConflict: Override},
			wantMsg:    "X-SES-SOURCE-ARN: arn:x\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n",
			wantCS:     "news",
			wantTags:   tg("team", "growth"),
			wantTenant: "acme",
		},
		{
			name:     "mixed case names and duplicated tag field read as one list",
			msg:      "x-ses-message-tags: a=1\nX-Ses-Message-Tags: b=2\nSubject: s\n\nb\n",
			opts:     &Options{ConfigurationSet: "news"},
			wantMsg:  "Subject: s\n\nb\n",
			wantCS:   "news",
			wantTags: nil, // replaced below: duplicate fields are refused
		},
	}
	for _, tc := range tests[:4] {
		t.Run(tc.name, func(t *testing.T) {
			in, err := SendEmailInput([]byte(tc.msg), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantMsg, string(in.Content.Raw.Data)); diff != "" {
				t.Errorf("Content.Raw.Data (-want +got):\n%s", diff)
			}
			if got := aws.ToString(in.ConfigurationSetName); got != tc.wantCS {
				t.Errorf("ConfigurationSetName = %q, want %q", got, tc.wantCS)
			}
			if diff := cmp.Diff(tc.wantTags, v2Tags(in.EmailTags)); diff != "" {
				t.Errorf("EmailTags (-want +got):\n%s", diff)
			}
			if got := aws.ToString(in.TenantName); got != tc.wantTenant {
				t.Errorf("TenantName = %q, want %q", got, tc.wantTenant)
			}
			if in.Content.Simple != nil || in.Content.Template != nil {
				t.Error("Content has more than Raw")
			}
		})
	}
	_, err := SendEmailInput([]byte(tests[4].msg), tests[4].opts)
	if fe, ok := errors.AsType[*FieldError](err); !ok || fe.Finding.Code != "tags-duplicate-field" || fe.Finding.Line != 2 {
		t.Errorf("duplicate tags fields: err = %v, want a *FieldError for line 2", err)
	}
}

func TestSendEmailInputPassThrough(t *testing.T) {
	in, err := SendEmailInput([]byte(plain), &Options{From: "f@example.com", Destinations: []string{"x@example.com"},
		FromEmailAddressIdentityArn: "arn:aws:ses:us-east-1:123456789012:identity/example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(in.FromEmailAddress) != "f@example.com" || in.Destination == nil ||
		!cmp.Equal(in.Destination.ToAddresses, []string{"x@example.com"}) ||
		aws.ToString(in.FromEmailAddressIdentityArn) != "arn:aws:ses:us-east-1:123456789012:identity/example.com" {
		t.Errorf("got %+v", in)
	}
	if in.ConfigurationSetName != nil || in.EmailTags != nil || in.TenantName != nil {
		t.Errorf("parameters set from nothing: %+v", in)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		api      parse.API
		msg      string
		opts     *Options
		sentinel error
		line     int // for *ConflictError and *FieldError
	}{
		{"tenant to v1", parse.V1, plain, &Options{TenantName: "acme"}, ErrWrongAPI, 0},
		{"identity arn to v1", parse.V1, plain, &Options{FromEmailAddressIdentityArn: "arn:x"}, ErrWrongAPI, 0},
		{"source arn to v2", parse.V2, plain, &Options{SourceArn: "arn:x"}, ErrWrongAPI, 0},
		{"return path arn to v2", parse.V2, plain, &Options{ReturnPathArn: "arn:x"}, ErrWrongAPI, 0},
		{"bad tag value", parse.V1, plain, &Options{Tags: tg("a", "x@y")}, parse.ErrInvalidTag, 0},
		{"reserved tag name", parse.V2, plain, &Options{Tags: tg("aws:x", "1")}, parse.ErrInvalidTag, 0},
		{"bad configuration set", parse.V2, plain, &Options{ConfigurationSet: "a b"}, parse.ErrInvalidConfigurationSet, 0},
		{"tag twice", parse.V2, plain, &Options{Tags: tg("a", "1", "a", "2")}, ErrDuplicateTag, 0},
		{"bad placement", parse.V1, plain, &Options{Placement: 7}, ErrInvalidOption, 0},
		{"bad conflict", parse.V1, plain, &Options{OnConflict: -1}, ErrInvalidOption, 0},
		{"v1 config set conflict", parse.V1, tagged, &Options{ConfigurationSet: "other"}, ErrConflict, 1},
		{"v1 tags conflict", parse.V1, tagged, &Options{Tags: tg("a", "1")}, ErrConflict, 2},
		{"v1 params tags conflict", parse.V1, tagged, &Options{Tags: tg("a", "1"), Placement: AsParameters}, ErrConflict, 2},
		{"v2 tags conflict", parse.V2, tagged, &Options{Tags: tg("a", "1")}, ErrConflict, 2},
		{"v2 tenant conflict", parse.V2, tagged, &Options{TenantName: "beta"}, ErrConflict, 4},
		{"v2 invalid message tag", parse.V2, "Subject: s\r\nX-SES-MESSAGE-TAGS: a=x@y\r\n\r\n", nil, ErrInvalidField, 2},
		{"v1 invalid message tag kept by merge", parse.V1, "Subject: s\r\nX-SES-MESSAGE-TAGS: a=x@y\r\n\r\n", &Options{Tags: tg("b", "1"), OnConflict: Merge}, ErrInvalidField, 2},
		{"v2 invalid message config set", parse.V2, "X-SES-CONFIGURATION-SET: a.b\r\n\r\n", nil, ErrInvalidField, 1},
		{"v2 duplicate config set", parse.V2, "X-SES-CONFIGURATION-SET: a\r\nX-SES-CONFIGURATION-SET: b\r\n\r\n", nil, ErrInvalidField, 2},
		{"v1 malformed message tag", parse.V1, "X-SES-MESSAGE-TAGS: novalue\r\n\r\n", &Options{Placement: AsParameters}, ErrInvalidField, 1},
		{"empty message", parse.V2, "", nil, mimeheaders.ErrEmpty, 0},
		{"size v1", parse.V1, plain, &Options{MaxSize: 10}, ErrTooLarge, 0},
		{"size v2", parse.V2, plain, &Options{MaxSize: 10}, ErrTooLarge, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.api == parse.V1 {
				_, err = RawEmailInput([]byte(tc.msg), tc.opts)
			} else {
				_, err = SendEmailInput([]byte(tc.msg), tc.opts)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want %v", err, tc.sentinel)
			}
			line := 0
			if ce, ok := errors.AsType[*ConflictError](err); ok {
				line = ce.Line
			}
			if fe, ok := errors.AsType[*FieldError](err); ok {
				line = fe.Finding.Line
			}
			if line != tc.line {
				t.Errorf("line = %d, want %d (%v)", line, tc.line, err)
			}
		})
	}
}

func TestSize(t *testing.T) {
	const head = "Subject: s\r\n\r\n"
	msg := func(n int) []byte { return []byte(head + strings.Repeat("a", n-len(head))) }
	tests := []struct {
		api  parse.API
		n    int
		max  int64
		fail bool
	}{
		{parse.V1, maxV1 / 4 * 3, 0, false},
		{parse.V1, maxV1/4*3 + 1, 0, true},
		{parse.V2, maxV2 / 4 * 3, 0, false},
		{parse.V2, maxV2/4*3 + 1, 0, true},
		{parse.V1, maxV2 / 4 * 3, -1, false},
		{parse.V2, 30, 40, false},
		{parse.V2, 31, 40, true},
	}
	for _, tc := range tests {
		var err error
		opts := &Options{MaxSize: tc.max}
		if tc.api == parse.V1 {
			_, err = RawEmailInput(msg(tc.n), opts)
		} else {
			_, err = SendEmailInput(msg(tc.n), opts)
		}
		se, ok := errors.AsType[*SizeError](err)
		if ok != tc.fail || (err != nil && !ok) {
			t.Errorf("%v, %d bytes, max %d: err = %v, want failure %v", tc.api, tc.n, tc.max, err, tc.fail)
			continue
		}
		if ok && (se.API != tc.api || se.Raw != int64(tc.n) || se.Size != parse.Base64Len(int64(tc.n)) || se.Size <= se.Limit) {
			t.Errorf("%v, %d bytes: %+v", tc.api, tc.n, se)
		}
	}
}

func TestSizeCountsAddedHeaders(t *testing.T) {
	// 30 raw bytes are 40 after base64; the added field makes it more.
	_, err := RawEmailInput([]byte("Subject: s\r\n\r\n0123456789abcdef"), &Options{MaxSize: 40, ConfigurationSet: "news"})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestParseNames(t *testing.T) {
	for _, p := range []Placement{InHeaders, AsParameters} {
		if got, err := ParsePlacement(p.String()); got != p || err != nil {
			t.Errorf("ParsePlacement(%q) = %v, %v", p, got, err)
		}
	}
	for _, c := range []Conflict{Refuse, Merge, Override} {
		if got, err := ParseConflict(c.String()); got != c || err != nil {
			t.Errorf("ParseConflict(%q) = %v, %v", c, got, err)
		}
	}
	if _, err := ParsePlacement("both"); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("ParsePlacement(both) err = %v", err)
	}
	if _, err := ParseConflict("ask"); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("ParseConflict(ask) err = %v", err)
	}
}

// The limits parse.V1.MaxSize and parse.V2.MaxSize return.
const (
	maxV1 = 10 << 20
	maxV2 = 40 << 20
)

// benchMsg is a 10 KB message whose configuration set goes into the
// request's parameters.
var benchMsg = []byte("From: <a@example.com>\r\nTo: <b@example.org>\r\nSubject: bench\r\nX-SES-CONFIGURATION-SET: bench\r\n\r\n" + strings.Repeat(strings.Repeat("x", 78)+"\r\n", 128))

func BenchmarkSendEmailInput(b *testing.B) {
	opts := &Options{From: "a@example.com", Destinations: []string{"b@example.org"}}
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SendEmailInput(benchMsg, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawEmailInput(b *testing.B) {
	opts := &Options{From: "a@example.com", Destinations: []string{"b@example.org"}}
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RawEmailInput(benchMsg, opts); err != nil {
			b.Fatal(err)
		}
	}
}

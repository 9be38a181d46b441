package awsses

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sesv2types "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/sesmime/sesmime/inject"
	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/parse"
)

// ErrConflict is wrapped by a *ConflictError.
var ErrConflict = errors.New("message and options disagree")

// A ConflictError reports a value the message carries in an X-SES-* field
// that differs from the one in Options, under OnConflict Refuse.
type ConflictError struct {
	Field   string // X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS or TenantField
	Line    int    // 1-based line of the field in the message
	Message string // the message's value (tags in canonical form)
	Option  string // the Options' value (tags in canonical form)
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("line %d: %v: %s is %q in the message but %q in the options (choose merge or override)",
		e.Line, ErrConflict, e.Field, e.Message, e.Option)
}

func (e *ConflictError) Unwrap() error { return ErrConflict }

// ErrInvalidField is wrapped by a *FieldError.
var ErrInvalidField = errors.New("message has an SES field SES would refuse")

// A FieldError reports an X-SES-CONFIGURATION-SET or X-SES-MESSAGE-TAGS field
// of the message whose value would be sent but is invalid or ambiguous
// (a bad name, a malformed tag, a duplicate). Values that Options replace
// are not checked.
type FieldError struct {
	Finding parse.Finding // what parse.Inspect found, with its line and code
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("line %d: %v: %s: %s", e.Finding.Line, ErrInvalidField, e.Finding.Code, e.Finding.Message)
}

func (e *FieldError) Unwrap() error { return ErrInvalidField }

// prepared is a message ready to send and the parameters that go with it.
type prepared struct {
	msg    []byte
	cs     string
	tags   []parse.Tag
	tenant string
}

// RawEmailInput returns the SES v1 SendRawEmail request for msg. The
// configuration set and tags go where opts.Placement says: into the
// message's X-SES-* fields (ConfigurationSetName and Tags stay nil) or into
// ConfigurationSetName and Tags (the fields are stripped from the message).
// msg itself is not modified.
//
// The errors are those of Options.Validate, a *ConflictError, a
// *FieldError, a *SizeError, or a header error from package mimeheaders.
func RawEmailInput(msg []byte, opts *Options) (*ses.SendRawEmailInput, error) {
	p, err := prepare(msg, opts, parse.V1)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	in := &ses.SendRawEmailInput{
		RawMessage:    &sestypes.RawMessage{Data: p.msg},
		Source:        str(opts.From),
		Destinations:  slices.Clone(opts.Destinations),
		SourceArn:     str(opts.SourceArn),
		FromArn:       str(opts.FromArn),
		ReturnPathArn: str(opts.ReturnPathArn),
	}
	if opts.Placement == AsParameters {
		in.ConfigurationSetName = str(p.cs)
		for _, t := range p.tags {
			in.Tags = append(in.Tags, sestypes.MessageTag{Name: aws.String(t.Name), Value: aws.String(t.Value)})
		}
	}
	return in, nil
}

// SendEmailInput returns the SESv2 SendEmail request for msg, sent as
// Content.Raw. The configuration set, tags and tenant always go into
// ConfigurationSetName, EmailTags and TenantName: from opts and/or lifted out
// of the message's X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS and
// X-SES-TENANT fields, which are stripped from the raw data. Other X-SES-*
// fields are left in the message. msg itself is not modified.
//
// The errors are those of RawEmailInput.
func SendEmailInput(msg []byte, opts *Options) (*sesv2.SendEmailInput, error) {
	p, err := prepare(msg, opts, parse.V2)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	in := &sesv2.SendEmailInput{
		Content:                     &sesv2types.EmailContent{Raw: &sesv2types.RawMessage{Data: p.msg}},
		ConfigurationSetName:        str(p.cs),
		FromEmailAddress:            str(opts.From),
		FromEmailAddressIdentityArn: str(opts.FromEmailAddressIdentityArn),
		TenantName:                  str(p.tenant),
	}
	if len(opts.Destinations) > 0 {
		in.Destination = &sesv2types.Destination{ToAddresses: slices.Clone(opts.Destinations)}
	}
	for _, t := range p.tags {
		in.EmailTags = append(in.EmailTags, sesv2types.MessageTag{Name: aws.String(t.Name), Value: aws.String(t.Value)})
	}
	return in, nil
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// prepare reads msg's SES fields, settles them against opts and returns the
// message to send with the values that go into API parameters.
func prepare(msg []byte, opts *Options, api parse.API) (*prepared, error) {
	if err := opts.Validate(api); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &Options{}
	}
	br := readers.Get().(*bufio.Reader)
	defer func() { br.Reset(nil); readers.Put(br) }()
	br.Reset(bytes.NewReader(msg))
	info, err := parse.Inspect(br, &parse.Options{Limits: opts.Limits})
	if err != nil {
		return nil, err
	}
	// Where the fields are: msg is in memory, and Inspect has read its
	// header within the limits.
	br.Reset(bytes.NewReader(msg))
	h, err := mimeheaders.Read(br, mimeheaders.Limits{MaxHeaderBytes: -1, MaxLineBytes: -1, MaxFields: -1})
	if err != nil {
		return nil, err
	}
	var csLine, tagsLine, tenantLine int
	var tenant string
	for _, f := range h.Fields() {
		switch {
		case f.Is(configurationSetField) && csLine == 0:
			csLine = f.Line()
		case f.Is(tagsField) && tagsLine == 0:
			tagsLine = f.Line()
		case f.Is(TenantField) && tenantLine == 0:
			tenantLine, tenant = f.Line(), f.Value()
		}
	}

	p := &prepared{}
	// The configuration set.
	msgCS := info.ConfigurationSet
	useMsgCS := csLine > 0 && opts.ConfigurationSet == ""
	switch {
	case opts.ConfigurationSet == "":
		p.cs = msgCS
	case csLine == 0 || msgCS == opts.ConfigurationSet || opts.OnConflict != Refuse:
		p.cs = opts.ConfigurationSet
		useMsgCS = useMsgCS || msgCS == opts.ConfigurationSet
	default:
		return nil, &ConflictError{Field: configurationSetField, Line: csLine, Message: msgCS, Option: opts.ConfigurationSet}
	}

	// The tags.
	useMsgTags := tagsLine > 0
	switch {
	case len(opts.Tags) == 0:
		p.tags = info.Tags
	case tagsLine == 0:
		p.tags = opts.Tags
	case sameTags(info.Tags, opts.Tags):
		p.tags = opts.Tags
	case opts.OnConflict == Merge:
		p.tags = parse.MergeTags(info.Tags, opts.Tags)
	case opts.OnConflict == Override:
		p.tags = opts.Tags
		useMsgTags = false
	default:
		return nil, &ConflictError{Field: tagsField, Line: tagsLine, Message: parse.FormatTags(info.Tags), Option: parse.FormatTags(opts.Tags)}
	}

	// Findings about values that will be sent.
	for _, f := range info.Findings {
		if !f.Error {
			continue
		}
		switch f.Code {
		case "config-set-invalid", "config-set-duplicate":
			if useMsgCS {
				return nil, &FieldError{Finding: f}
			}
		case "tags-duplicate-field", "tag-malformed", "tag-invalid", "tag-duplicate-name":
			if useMsgTags {
				return nil, &FieldError{Finding: f}
			}
		}
	}

	rw := stripV1
	if api == parse.V1 && opts.Placement == InHeaders {
		rw = keep
		if opts.ConfigurationSet != "" || len(opts.Tags) > 0 {
			io := inject.Options{ConfigurationSet: opts.ConfigurationSet}
			if len(opts.Tags) > 0 {
				io.Tags = p.tags
			}
			if rw, err = inject.NewRewriter(&io); err != nil {
				return nil, err
			}
		}
	}
	if api == parse.V2 {
		// The tenant, which only SESv2 has as a parameter.
		switch {
		case opts.TenantName == "":
			p.tenant = tenant
		case tenantLine == 0 || tenant == opts.TenantName || opts.OnConflict != Refuse:
			p.tenant = opts.TenantName
		default:
			return nil, &ConflictError{Field: TenantField, Line: tenantLine, Message: tenant, Option: opts.TenantName}
		}
		rw = stripV2
	}
	out, _, err := rw.Bytes(msg)
	if err != nil {
		return nil, err
	}
	if err := checkSize(api, int64(len(out)), opts.MaxSize); err != nil {
		return nil, err
	}
	p.msg = out
	return p, nil
}

// readers are the buffers prepare reads headers through.
var readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// stripV1 and stripV2 take the fields whose values go into API parameters
// out of a message, keep changes nothing (but refuses what any rewrite
// refuses); kept, so that each call reuses their buffers.
var (
	keep    = mustRewriter(nil)
	stripV1 = mustRewriter(&inject.Options{RemoveConfigurationSet: true, RemoveTags: true})
	stripV2 = mustRewriter(&inject.Options{RemoveConfigurationSet: true, RemoveTags: true, RemoveHeaders: []string{TenantField}})
)

func mustRewriter(o *inject.Options) *inject.Rewriter {
	rw, err := inject.NewRewriter(o)
	if err != nil {
		panic(err)
	}
	return rw
}

// sameTags reports whether a and b hold the same name=value pairs.
func sameTags(a, b []parse.Tag) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if !slices.Contains(b, t) {
			return false
		}
	}
	return true
}

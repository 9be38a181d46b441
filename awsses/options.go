package awsses

import (
	"errors"
	"fmt"

	"github.com/sesmime/sesmime/mimeheaders"
	"github.com/sesmime/sesmime/parse"
)

// TenantField is the SMTP form of the SESv2 TenantName parameter.
const TenantField = "X-SES-TENANT"

// The fields SES reads the configuration set and the tags from.
const (
	configurationSetField = "X-SES-CONFIGURATION-SET"
	tagsField             = "X-SES-MESSAGE-TAGS"
)

// Placement says where RawEmailInput puts the configuration set and tags
// for SES v1. SESv2 always takes them as API parameters.
type Placement int

const (
	// InHeaders writes them into the message's X-SES-CONFIGURATION-SET and
	// X-SES-MESSAGE-TAGS fields and leaves ConfigurationSetName and Tags
	// unset.
	InHeaders Placement = iota
	// AsParameters sets ConfigurationSetName and Tags and strips those
	// fields from the message.
	AsParameters
)

func (p Placement) String() string {
	switch p {
	case InHeaders:
		return "headers"
	case AsParameters:
		return "params"
	}
	return fmt.Sprintf("Placement(%d)", int(p))
}

// ParsePlacement returns the Placement named s: "headers" or "params".
func ParsePlacement(s string) (Placement, error) {
	for _, p := range []Placement{InHeaders, AsParameters} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: placement %q (want headers or params)", ErrInvalidOption, s)
}

// Conflict says what happens when Options and the message's own X-SES-*
// fields give different values for the same thing.
type Conflict int

const (
	// Refuse returns a *ConflictError. Equal values (tags compared as a set)
	// are no conflict.
	Refuse Conflict = iota
	// Merge uses parse.MergeTags(the message's tags, Options.Tags); for
	// the configuration set and tenant, which hold one value, Options win.
	Merge
	// Override uses the Options' values and drops the message's.
	Override
)

func (c Conflict) String() string {
	switch c {
	case Refuse:
		return "refuse"
	case Merge:
		return "merge"
	case Override:
		return "override"
	}
	return fmt.Sprintf("Conflict(%d)", int(c))
}

// ParseConflict returns the Conflict named s: "refuse", "merge" or
// "override".
func ParseConflict(s string) (Conflict, error) {
	for _, c := range []Conflict{Refuse, Merge, Override} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w: conflict %q (want refuse, merge or override)", ErrInvalidOption, s)
}

// Options says how a message becomes a send request. The zero value (or
// nil) sends the message as it is, with its own configuration set and tags
// (lifted into API parameters for SESv2).
type Options struct {
	// ConfigurationSet is the configuration set; "" keeps the message's.
	ConfigurationSet string
	// Tags are the message tags; empty keeps the message's.
	Tags []parse.Tag
	// Placement says where SES v1 gets the configuration set and tags.
	Placement Placement
	// OnConflict says what happens when the message carries a different
	// configuration set, tags or tenant.
	OnConflict Conflict

	// From is the envelope sender: Source (v1), FromEmailAddress (v2).
	// Empty lets SES take it from the message.
	From string
	// Destinations are the envelope recipients: Destinations (v1),
	// Destination.ToAddresses (v2). Empty lets SES take them from the
	// message's To, Cc and Bcc fields.
	Destinations []string

	// SourceArn, FromArn and ReturnPathArn are the SES v1 sending
	// authorization parameters. SESv2 refuses them with ErrWrongAPI.
	SourceArn, FromArn, ReturnPathArn string

	// FromEmailAddressIdentityArn is the SESv2 sending authorization
	// parameter. SES v1 refuses it with ErrWrongAPI.
	FromEmailAddressIdentityArn string
	// TenantName is the SESv2 tenant; "" keeps the message's X-SES-TENANT
	// field. SES v1 refuses it with ErrWrongAPI.
	TenantName string

	// MaxSize is the largest message accepted, counted after base64 as SES
	// counts it: 0 means the API's (parse.API.MaxSize), negative means no limit.
	MaxSize int64
	// Limits bound the header block read from the message.
	Limits mimeheaders.Limits
}

// Errors about Options, returned before any message is read.
var (
	ErrInvalidOption = errors.New("invalid option")
	ErrDuplicateTag  = errors.New("tag name given twice")
	// ErrWrongAPI reports a value the chosen API has no parameter for;
	// the SDK would send it nowhere, so it is refused instead.
	ErrWrongAPI = errors.New("option belongs to the other API")
)

// Validate checks o for api: every value against SES's rules (package parse)
// and that o sets nothing api would ignore.
func (o *Options) Validate(api parse.API) error {
	if api != parse.V1 && api != parse.V2 {
		return fmt.Errorf("%w: %v", ErrInvalidOption, api)
	}
	if o == nil {
		return nil
	}
	if o.ConfigurationSet != "" {
		if err := parse.ValidateConfigurationSet(o.ConfigurationSet); err != nil {
			return err
		}
	}
	for i, t := range o.Tags {
		if err := parse.ValidateTag(t); err != nil {
			return fmt.Errorf("tag %d: %w", i+1, err)
		}
		for _, u := range o.Tags[:i] {
			if u.Name == t.Name {
				return fmt.Errorf("%w: %q", ErrDuplicateTag, t.Name)
			}
		}
	}
	if o.Placement < InHeaders || o.Placement > AsParameters {
		return fmt.Errorf("%w: %v", ErrInvalidOption, o.Placement)
	}
	if o.OnConflict < Refuse || o.OnConflict > Override {
		return fmt.Errorf("%w: %v", ErrInvalidOption, o.OnConflict)
	}
	switch api {
	case parse.V1:
		if o.TenantName != "" {
			return fmt.Errorf("%w: TenantName is an SESv2 parameter", ErrWrongAPI)
		}
		if o.FromEmailAddressIdentityArn != "" {
			return fmt.Errorf("%w: FromEmailAddressIdentityArn is an SESv2 parameter (v1 has SourceArn, FromArn, ReturnPathArn)", ErrWrongAPI)
		}
	case parse.V2:
		if o.SourceArn != "" || o.FromArn != "" || o.ReturnPathArn != "" {
			return fmt.Errorf("%w: SourceArn, FromArn and ReturnPathArn are SES v1 parameters (SESv2 has FromEmailAddressIdentityArn)", ErrWrongAPI)
		}
	}
	return nil
}

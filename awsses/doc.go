// Package awsses turns a raw email into an Amazon SES send request for the
// aws-sdk-go-v2 clients, and sends many messages with bounded concurrency.
//
// It is a separate module (github.com/sesmime/sesmime/awsses), so that users
// of the core sesmime module never download the AWS SDK.
//
// RawEmailInput builds a *ses.SendRawEmailInput for the SES v1 API
// (SendRawEmail). The configuration set and tags go either into the
// message's X-SES-CONFIGURATION-SET and X-SES-MESSAGE-TAGS fields (InHeaders,
// the default) or into the ConfigurationSetName and Tags parameters with those
// fields stripped (AsParameters), never both: SES uses only the API tags when
// both are present and does not merge them.
//
// SendEmailInput builds a *sesv2.SendEmailInput for the SESv2 API (SendEmail
// with Content.Raw). Whether SESv2 honours the X-SES-* fields of a raw
// message is undocumented, so the configuration set, tags and tenant always
// go into ConfigurationSetName, EmailTags and TenantName: they are lifted out
// of the message's own X-SES-CONFIGURATION-SET, X-SES-MESSAGE-TAGS and
// X-SES-TENANT fields, which are then stripped.
//
// When Options give a configuration set, tags or a tenant and the message
// carries a different one, Options.OnConflict decides: Refuse (the default)
// returns a *ConflictError, Merge and Override combine them explicitly. A
// value that belongs to the other API (TenantName to v1, SourceArn to v2) is
// refused with ErrWrongAPI rather than silently dropped.
//
// A Sender sends a stream of messages (for example the .eml files of a
// directory, see Files) through either client with bounded concurrency and
// reports each message's SES MessageId or error. Throttling is retried by
// the SDK client's own retryer; the Sender never retries on its own.
//
// Every other byte of a message is left as it is: the rewriting is done by
// package github.com/sesmime/sesmime/inject.
//
// # Limits
//
// SES counts the message size after base64 encoding (4·⌈n/3⌉ bytes for n raw
// bytes): at most 10 MiB for SendRawEmail and 40 MiB for
// SESv2. Both builders check the size of the message they will send and
// return a *SizeError (ErrTooLarge) before building a request; Options.MaxSize
// changes the limit. The header block is read with Options.Limits (see
// mimeheaders.Limits); the whole message is held in memory, as the SDK needs
// it as one []byte.
package awsses

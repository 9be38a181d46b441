package awsses

import (
	"errors"
	"fmt"

	"github.com/sesmime/sesmime/parse"
)

// Message size limits, counted after base64 as SES counts them: the same
// numbers `sesmime check` (package parse) uses, so the lint and the sender
// never disagree. SES's own error for SendRawEmail names 10485760 bytes.
// Options.MaxSize sets another limit.
const (
	MaxSizeV1 = parse.MaxSizeV1 // SendRawEmail: 10 MiB
	MaxSizeV2 = parse.MaxSize   // SESv2 SendEmail: 40 MiB
)

// ErrTooLarge is wrapped by a *SizeError.
var ErrTooLarge = errors.New("message too large")

// A SizeError reports a message over the size limit of an API.
type SizeError struct {
	API   API
	Raw   int64 // bytes of the message as it would be sent
	Size  int64 // bytes after base64: 4·⌈Raw/3⌉
	Limit int64 // the limit Size is over
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%v: %d bytes (%d after base64), %v allows %d", ErrTooLarge, e.Raw, e.Size, e.API, e.Limit)
}

func (e *SizeError) Unwrap() error { return ErrTooLarge }

// Base64Len returns how many bytes n raw bytes take after base64: 4·⌈n/3⌉.
func Base64Len(n int64) int64 { return (n + 2) / 3 * 4 }

// checkSize returns a *SizeError if n raw bytes exceed max (0: the API's
// limit, negative: none) after base64.
func checkSize(api API, n, max int64) error {
	if max == 0 {
		max = MaxSizeV1
		if api == V2 {
			max = MaxSizeV2
		}
	}
	if max < 0 {
		return nil
	}
	if size := Base64Len(n); size > max {
		return &SizeError{API: api, Raw: n, Size: size, Limit: max}
	}
	return nil
}

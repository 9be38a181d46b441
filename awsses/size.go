package awsses

import (
	"errors"
	"fmt"
)

// Message size limits, counted after base64 as SES counts them. The SES
// quotas say "10 MB" and "40 MB" without saying whether a MB is 10^6 or
// 2^20 bytes; these are the smaller reading, so a message that passes is
// never refused by SES for its size. Options.MaxSize sets another limit.
const (
	MaxSizeV1 = 10_000_000 // SendRawEmail
	MaxSizeV2 = 40_000_000 // SESv2 SendEmail
)

// ErrTooLarge is wrapped by a *SizeError.
var ErrTooLarge = errors.New("awsses: message too large")

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

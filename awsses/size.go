package awsses

import (
	"errors"
	"fmt"

	"github.com/sesmime/sesmime/parse"
)

// Message size limits are those of package parse (parse.API.MaxSize,
// counted after base64 with parse.Base64Len), so that `sesmime check` and
// the sender never disagree: 10 MiB for SendRawEmail, 40 MiB for SESv2
// SendEmail. Options.MaxSize sets another limit.

// ErrTooLarge is wrapped by a *SizeError.
var ErrTooLarge = errors.New("message too large")

// A SizeError reports a message over the size limit of an API.
type SizeError struct {
	API   parse.API // V1 or V2
	Raw   int64     // bytes of the message as it would be sent
	Size  int64     // bytes after base64: 4·⌈Raw/3⌉
	Limit int64     // the limit Size is over
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%v: %d bytes (%d after base64), %v allows %d", ErrTooLarge, e.Raw, e.Size, e.API, e.Limit)
}

func (e *SizeError) Unwrap() error { return ErrTooLarge }

// checkSize returns a *SizeError if n raw bytes exceed max (0: the API's
// limit, negative: none) after base64.
func checkSize(api parse.API, n, max int64) error {
	if max == 0 {
		max = api.MaxSize()
	}
	if max < 0 {
		return nil
	}
	if size := parse.Base64Len(n); size > max {
		return &SizeError{API: api, Raw: n, Size: size, Limit: max}
	}
	return nil
}

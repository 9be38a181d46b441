//go:build !linux

package kcopy

import (
	"context"
	"os"
)

// Splice moves the rest of src to dst with splice(2) on Linux; elsewhere
// it does nothing and reports handled false, and the caller copies.
func Splice(ctx context.Context, dst, src *os.File) (n int64, handled bool, err error) {
	return 0, false, nil
}

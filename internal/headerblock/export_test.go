package headerblock

import "io"

// Names the tests use that the package does not export.
const (
	CRLF                  = crlf
	LF                    = lf
	MaxLineLength         = maxLineLength
	DefaultMaxHeaderBytes = defaultMaxHeaderBytes
	DefaultMaxLineBytes   = defaultMaxLineBytes
	DefaultMaxFields      = defaultMaxFields
)

func (h *Header) From() []byte { return h.from }
func (h *Header) Lead() []byte { return h.lead }
func (h *Header) EOL() string  { return h.eol }
func (h *Header) Tail() []byte { return h.tail }

func (h *Header) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(h.AppendTo(nil))
	return int64(n), err
}

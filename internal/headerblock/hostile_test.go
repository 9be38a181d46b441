package headerblock_test

import (
	"bufio"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/sesmime/sesmime/internal/headerblock"
)

// generator produces prefix, then pattern repeated, n bytes in all, without
// ever holding more than one Read's worth.
type generator struct {
	prefix  []byte
	pattern []byte
	n       int64 // bytes left
	pos     int   // position in prefix, then in pattern
	read    int64 // bytes handed out
}

func (g *generator) Read(p []byte) (int, error) {
	if g.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	k := 0
	for k < len(p) && len(g.prefix) > 0 {
		c := copy(p[k:], g.prefix)
		g.prefix = g.prefix[c:]
		k += c
	}
	for k < len(p) {
		c := copy(p[k:], g.pattern[g.pos:])
		g.pos = (g.pos + c) % len(g.pattern)
		k += c
	}
	g.n -= int64(k)
	g.read += int64(k)
	return k, nil
}

// memDelta runs f and returns how much it allocated in all (TotalAlloc) and
// how much more heap is live afterwards (HeapAlloc after a GC).
func memDelta(f func()) (total, live int64) {
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	runtime.GC()
	runtime.ReadMemStats(&m2)
	return int64(m1.TotalAlloc - m0.TotalAlloc), int64(m2.HeapAlloc) - int64(m0.HeapAlloc)
}

const gib = 1 << 30

func TestHostileInput(t *testing.T) {
	const slack = 256 << 10 // the bufio buffer, the error, runtime noise
	tests := []struct {
		name  string
		gen   func() *generator
		lim   headerblock.Limits
		err   error
		bound int64 // bytes the limits allow Read to hold; TotalAlloc may be five times that (append grows large slices by 1.25x, whose sum is 5x the last)
	}{
		{
			name:  "1 GiB header line, default limits",
			gen:   func() *generator { return &generator{prefix: []byte("X: "), pattern: []byte("a"), n: gib} },
			err:   headerblock.ErrLineTooLong,
			bound: headerblock.DefaultMaxLineBytes + 4096,
		},
		{
			name:  "1 GiB header line, no line limit",
			gen:   func() *generator { return &generator{prefix: []byte("X: "), pattern: []byte("a"), n: gib} },
			lim:   headerblock.Limits{MaxLineBytes: -1},
			err:   headerblock.ErrHeaderTooLarge,
			bound: headerblock.DefaultMaxHeaderBytes + 4096,
		},
		{
			name:  "1 GiB continuation line",
			gen:   func() *generator { return &generator{prefix: []byte("X: a\r\n "), pattern: []byte("a"), n: gib} },
			lim:   headerblock.Limits{MaxLineBytes: 1 << 10, MaxHeaderBytes: 1 << 20},
			err:   headerblock.ErrLineTooLong,
			bound: 1<<10 + 4096,
		},
		{
			name:  "1 GiB lead line",
			gen:   func() *generator { return &generator{prefix: []byte(" "), pattern: []byte("a b "), n: gib} },
			err:   headerblock.ErrLineTooLong,
			bound: headerblock.DefaultMaxLineBytes + 4096,
		},
		{
			name:  "1 GiB mbox From line",
			gen:   func() *generator { return &generator{prefix: []byte("From "), pattern: []byte("x"), n: gib} },
			err:   headerblock.ErrLineTooLong,
			bound: headerblock.DefaultMaxLineBytes + 4096,
		},
		{
			name: "10 million tiny fields, default limits",
			gen:  func() *generator { return &generator{pattern: []byte("A:\n"), n: 3e7} },
			err:  headerblock.ErrTooManyFields,
			// 20,000 fields of 3 bytes and their bookkeeping (a span of 5 ints).
			bound: headerblock.DefaultMaxFields*(3+40) + 4096,
		},
		{
			name:  "1 GiB of fields, small block limit",
			gen:   func() *generator { return &generator{pattern: []byte("Received: from x by y\r\n"), n: gib} },
			lim:   headerblock.Limits{MaxHeaderBytes: 64 << 10, MaxFields: -1},
			err:   headerblock.ErrHeaderTooLarge,
			bound: 64<<10 + 4096 + (64<<10/23+1)*64,
		},
		{
			name: "1 GiB folded field",
			gen: func() *generator {
				return &generator{prefix: []byte("X: a\r\n"), pattern: []byte(" folded continuation\r\n"), n: gib}
			},
			err:   headerblock.ErrHeaderTooLarge,
			bound: headerblock.DefaultMaxHeaderBytes + 4096,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.gen()
			var h headerblock.Header // kept alive so that live heap counts its buffer
			var err error
			total, live := memDelta(func() {
				err = h.Reset(bufio.NewReader(g), tc.lim)
			})
			runtime.KeepAlive(&h)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Reset = %v, want %v", err, tc.err)
			}
			if _, ok := errors.AsType[*headerblock.SyntaxError](err); !ok {
				t.Errorf("error %T is not a *SyntaxError", err)
			}
			if max := 5*tc.bound + slack; total > max {
				t.Errorf("allocated %d bytes, want <= %d", total, max)
			}
			if max := tc.bound + slack; live > max {
				t.Errorf("%d bytes still live, want <= %d", live, max)
			}
			if max := tc.bound + 64<<10; g.read > max {
				t.Errorf("read %d bytes of input, want <= %d", g.read, max)
			}
			t.Logf("read %d bytes, allocated %d, live %d", g.read, total, live)
		})
	}
}

// TestHostileNoFieldLimit documents that without MaxFields the memory for
// field bookkeeping grows with the number of fields (tens of bytes per field
// on top of the block), bounded by MaxHeaderBytes.
func TestHostileNoFieldLimit(t *testing.T) {
	g := &generator{pattern: []byte("A:\n"), n: gib}
	var err error
	total, _ := memDelta(func() {
		_, err = headerblock.Read(bufio.NewReader(g), headerblock.Limits{MaxFields: -1})
	})
	if !errors.Is(err, headerblock.ErrHeaderTooLarge) {
		t.Fatalf("Read = %v, want ErrHeaderTooLarge", err)
	}
	// 1 MiB of 3-byte fields is about 350,000 fields of 40 bytes of
	// bookkeeping each, in a slice grown by append: tens of MB, not the GiB.
	if max := int64(160 << 20); total > max {
		t.Errorf("allocated %d bytes, want <= %d", total, max)
	}
	t.Logf("read %d bytes, allocated %d", g.read, total)
}

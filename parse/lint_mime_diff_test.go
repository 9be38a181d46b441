package parse

import (
	"bufio"
	"bytes"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"maps"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	gmtextproto "github.com/emersion/go-message/textproto"

	"github.com/sesmime/sesmime/internal/headerblock"
	"github.com/sesmime/sesmime/internal/testmsg"
)

// The MIME walker follows go-message's textproto reading of RFC 2046, which
// Lint used before it had its own. These tests walk messages with both and
// compare the part trees: go-message is the oracle.

// A treeHeader is what a part tree notes of a header.
type treeHeader struct {
	names []string // canonical field names, in order
	ct    string   // the first Content-Type value, unfolded
	hasCT bool
	cte   []string // Content-Transfer-Encoding values
}

// A treeReader reads MIME structure for a part tree: the walker's readers,
// or go-message's.
type treeReader interface {
	// parts returns an iterator over the parts of the multipart body in r;
	// it returns io.EOF after the last.
	parts(r io.Reader, boundary string) func() (treeHeader, io.Reader, error)
	// header reads the header of an attached message in r and returns the
	// reader of its body.
	header(r io.Reader) (treeHeader, io.Reader, error)
}

// tree appends to out a line for each part and attached message of the
// entity in r, walked as Lint walks it, and one for the error that stopped
// a multipart or an attached message's header.
func tree(tr treeReader, r io.Reader, ct string, cte []string, depth int, out *[]string) {
	e := entering(ct, cte, depth)
	switch {
	case e.multipart && e.boundary != "":
		treeParts(tr, tr.parts(r, e.boundary), e.digest, depth, out)
	case e.message:
		h, body, err := tr.header(r)
		if err != nil {
			*out = append(*out, errorLine(depth, err))
			return
		}
		*out = append(*out, fmt.Sprintf("%d message %q %q", depth+1, h.ct, h.names))
		tree(tr, body, h.ct, h.cte, depth+1, out)
	}
}

// errorLine returns the line of a tree for the error that stopped a walk
// at depth: where it stopped, not its wording (the walker says it in
// sesmime's words, go-message in its own), except for the walker's own
// limit on part headers, which go-message does not have.
func errorLine(depth int, err error) string {
	if err == errHeaderTooLarge {
		return fmt.Sprintf("%d error: part header too large", depth+1)
	}
	return fmt.Sprintf("%d error", depth+1)
}

// treeParts appends to out the parts next returns, each "DEPTH part
// CONTENT-TYPE [NAMES] len=N crc=X" of its raw body followed by its own
// tree, and the error that stopped them.
func treeParts(tr treeReader, next func() (treeHeader, io.Reader, error), digest bool, depth int, out *[]string) {
	for {
		h, body, err := next()
		switch {
		case err == io.EOF:
			return
		case err != nil:
			*out = append(*out, errorLine(depth, err))
			return
		}
		ct := h.ct
		if !h.hasCT && digest {
			ct = "message/rfc822"
		}
		var sub []string
		sum := &countHash{h: crc32.NewIEEE()}
		tee := io.TeeReader(body, sum)
		tree(tr, tee, ct, h.cte, depth+1, &sub)
		io.Copy(io.Discard, tee)
		*out = append(*out, fmt.Sprintf("%d part %q %q len=%d crc=%08x", depth+1, h.ct, h.names, sum.n, sum.h.Sum32()))
		*out = append(*out, sub...)
	}
}

// A countHash counts and hashes what is written to it.
type countHash struct {
	h hash.Hash32
	n int64
}

// Write counts and hashes b.
func (c *countHash) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return c.h.Write(b)
}

// ours reads with the walker's feeder, multipartReader and readPartHeader,
// headers within the walker's budget.
type ours struct{}

// parts reads with a multipartReader, each header within the budget.
func (ours) parts(r io.Reader, boundary string) func() (treeHeader, io.Reader, error) {
	f := newFeeder(r, 1)
	mr := newMultipartReader(f, boundary)
	return func() (treeHeader, io.Reader, error) {
		f.arm(maxPartHeaderBytes)
		p, h, err := mr.next()
		f.disarm()
		if err != nil {
			return treeHeader{}, nil, err
		}
		return oursHeader(h), p, nil
	}
}

// header reads with readPartHeader, within the budget.
func (ours) header(r io.Reader) (treeHeader, io.Reader, error) {
	f := newFeeder(r, 1)
	f.arm(maxPartHeaderBytes)
	h, err := readPartHeader(f)
	f.disarm()
	if err != nil {
		return treeHeader{}, nil, err
	}
	return oursHeader(h), &feederReader{f: f}, nil
}

// oursHeader returns the tree's view of h.
func oursHeader(h partHeader) treeHeader {
	var th treeHeader
	for _, fd := range h {
		th.names = append(th.names, textproto.CanonicalMIMEHeaderKey(fd.name))
	}
	ct, line := h.get("Content-Type")
	th.ct, th.hasCT = ct, line > 0
	th.cte = h.values("Content-Transfer-Encoding")
	return th
}

// A feederReader reads the rest of a feeder's stream.
type feederReader struct {
	f    *feeder
	rest []byte // of the piece fetched last
}

// Read reads the pieces of r.f.
func (r *feederReader) Read(b []byte) (int, error) {
	if len(r.rest) == 0 {
		p, ok := r.f.next()
		if !ok {
			return 0, io.EOF
		}
		r.rest = p
	}
	n := copy(b, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

// theirs reads with go-message's textproto, as Lint did: a part's reader
// ends with io.EOF where go-message's ends with io.ErrUnexpectedEOF (the
// input ended inside the part), as Lint's feeder made go-message see it.
type theirs struct {
	cut *int // parts cut off by the end of the input
}

// parts reads with go-message's MultipartReader.
func (t theirs) parts(r io.Reader, boundary string) func() (treeHeader, io.Reader, error) {
	mr := gmtextproto.NewMultipartReader(r, boundary)
	return func() (treeHeader, io.Reader, error) {
		p, err := mr.NextPart()
		if err != nil {
			return treeHeader{}, nil, err
		}
		return theirsHeader(p.Header), &eofReader{r: p, cut: t.cut}, nil
	}
}

// An eofReader reads r, ending with io.EOF whatever error ends r, and
// counts a cut when that is io.ErrUnexpectedEOF.
type eofReader struct {
	r   io.Reader
	cut *int
	err error
}

// Read reads r.r.
func (r *eofReader) Read(b []byte) (int, error) {
	if r.err != nil {
		return 0, io.EOF
	}
	n, err := r.r.Read(b)
	if err != nil {
		r.err = err
		if err == io.ErrUnexpectedEOF && r.cut != nil {
			*r.cut++
		}
		err = io.EOF
	}
	return n, err
}

// header reads with go-message's ReadHeader.
func (theirs) header(r io.Reader) (treeHeader, io.Reader, error) {
	br := bufio.NewReader(r)
	h, err := gmtextproto.ReadHeader(br)
	if err != nil {
		return treeHeader{}, nil, err
	}
	return theirsHeader(h), br, nil
}

// theirsHeader returns the tree's view of h.
func theirsHeader(h gmtextproto.Header) treeHeader {
	var th treeHeader
	for fs := h.Fields(); fs.Next(); {
		th.names = append(th.names, fs.Key())
		if fs.Key() == "Content-Type" && !th.hasCT {
			th.ct, th.hasCT = fs.Value(), true
		}
	}
	th.cte = h.Values("Content-Transfer-Encoding")
	return th
}

// messageTree returns the part tree of msg read by tr, from the body that
// follows the header Lint reads with mimeheaders, or ok false when Lint
// refuses the header.
func messageTree(tr treeReader, msg []byte) (out []string, ok bool) {
	h, err := headerblock.Read(bufio.NewReader(bytes.NewReader(msg)), headerblock.Limits{})
	if err != nil {
		return nil, false
	}
	body := msg[h.Len():]
	if h.End() == headerblock.EndBlank {
		body = body[bytes.IndexByte(body, '\n')+1:]
	}
	ct := ""
	for _, f := range h.Fields() {
		if f.Is("Content-Type") {
			ct = f.Value()
			break
		}
	}
	if ct != "" {
		tree(tr, bytes.NewReader(body), ct, h.Values("Content-Transfer-Encoding"), 0, &out)
	}
	return out, true
}

// Reasons the two trees of a message may differ that are not bugs.
const (
	agree       = "agree"
	bigHeader   = "a part header over 64 KiB: the walker reports it, go-message reads on"
	eofLastLine = "a header line of 4 KiB or more ends its part or the input: go-message drops it when it fills its 4 KiB buffer exactly (bufio.Reader.ReadLine then returns io.EOF without bytes), the walker does not"
)

// ownError matches the walker's errors that go-message does not make.
var ownError = regexp.MustCompile(`^\d+ error: part header too large$`)

// longLastLine reports whether msg has a line of 4 KiB or more that is
// the last of a part or of the input: one followed by the end of the input
// or by a line starting with "--".
func longLastLine(msg []byte) bool {
	for len(msg) > 0 {
		line, rest, _ := bytes.Cut(msg, []byte("\n"))
		msg = rest
		if len(bytes.TrimSuffix(line, []byte("\r"))) >= pieceSize && (len(rest) == 0 || bytes.HasPrefix(rest, []byte("--"))) {
			return true
		}
	}
	return false
}

// A treeDiff is how the part trees of a message compare.
type treeDiff struct {
	reason       string   // agree, one of the reasons above, or "" when the trees differ for no known reason
	cut          int      // parts cut off by the end of the input (go-message: io.ErrUnexpectedEOF)
	ours, theirs []string // the trees
}

// compareTrees walks msg with the walker and with go-message.
func compareTrees(msg []byte) treeDiff {
	d := treeDiff{reason: agree}
	a, ok := messageTree(ours{}, msg)
	if !ok {
		return d // Lint refuses the header
	}
	b, _ := messageTree(theirs{cut: &d.cut}, msg)
	d.ours, d.theirs = a, b
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	switch {
	case i == len(a) && i == len(b):
	case i < len(a) && ownError.MatchString(a[i]):
		d.reason = bigHeader
	case longLastLine(msg):
		d.reason = eofLastLine
	default:
		d.reason = ""
	}
	return d
}

// treeFiles returns the messages the differential test walks: testdata of
// the root and of parse, and the corpus when SESMIME_CORPUS is set.
func treeFiles(t *testing.T) []string {
	var files []string
	for _, glob := range []string{"../testdata/*.eml", "testdata/lint/*.eml"} {
		m, err := filepath.Glob(glob)
		if err != nil || len(m) == 0 {
			t.Fatalf("no %s: %v", glob, err)
		}
		files = append(files, m...)
	}
	t.Run("corpus", func(t *testing.T) { files = append(files, testmsg.CorpusFiles(t)...) })
	return files
}

// TestMIMEDifferential walks every message of testdata and of the corpus
// with the walker and with go-message and compares the part trees.
func TestMIMEDifferential(t *testing.T) {
	counts := map[string]int{}
	entries, cut := 0, 0
	for _, file := range treeFiles(t) {
		msg, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		d := compareTrees(msg)
		if d.reason == "" {
			t.Errorf("%s: part trees differ:\nwalker:\n\t%s\ngo-message:\n\t%s", file, join(d.ours), join(d.theirs))
			continue
		}
		counts[d.reason]++
		entries += len(d.ours)
		cut += d.cut
	}
	for _, reason := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("%4d messages: %s", counts[reason], reason)
	}
	t.Logf("%d parts, attached messages and stops walked; %d parts cut off by the end of the input", entries, cut)
}

// FuzzMIMEDifferential compares the part trees of the walker and of
// go-message on any input.
func FuzzMIMEDifferential(f *testing.F) {
	testmsg.AddSeeds(f, "testdata/lint/*.eml", 4<<10)
	testmsg.AddSeeds(f, "../testdata/*.eml", 4<<10)
	testmsg.AddCorpusSeeds(f, 1, 4<<10)
	for _, seed := range mimeSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if d := compareTrees(msg); d.reason == "" {
			t.Errorf("part trees differ on %q:\nwalker:\n\t%s\ngo-message:\n\t%s", msg, join(d.ours), join(d.theirs))
		}
	})
}

// join lists a tree one entry a line, indented.
func join(lines []string) string { return strings.Join(lines, "\n\t") }

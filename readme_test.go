package sesmime_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeGo lists, per README, what its Go blocks take as given: the
// parameters of the function each block becomes the body of, and the
// packages they use (fmt always: a package builds only if it uses each
// import, and the file uses fmt itself).
var readmeGo = []struct {
	file, params string
	imports      []string
}{
	{"README.md", "w io.Writer, r io.Reader, raw []byte, data io.Writer, opts sesmime.Options",
		[]string{"fmt", "io", "github.com/sesmime/sesmime"}},
	{"awsses/README.md", "ctx context.Context, cfg aws.Config, raw []byte, opts awsses.Options",
		[]string{"context", "fmt", "github.com/aws/aws-sdk-go-v2/aws", "github.com/aws/aws-sdk-go-v2/service/ses",
			"github.com/aws/aws-sdk-go-v2/service/sesv2", "github.com/sesmime/sesmime/awsses", "github.com/sesmime/sesmime/parse"}},
}

// TestReadmeGo builds every Go block of the READMEs against this tree, each
// as the body of a function, in a module of its own that replaces ours
// with this checkout: a block that does not compile as written (a name the
// API no longer has, a variable declared twice) fails. "{ ... }" stands
// for code left out.
func TestReadmeGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build; skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var sum []byte
	for _, m := range []string{"go.sum", "awsses/go.sum"} {
		sum = append(sum, readFile(t, m)...)
	}
	writeFile(t, filepath.Join(dir, "go.sum"), sum)
	writeFile(t, filepath.Join(dir, "go.mod"), []byte(sprintf(`module readme

go 1.26.0

require (
	github.com/sesmime/sesmime v0.1.0
	github.com/sesmime/sesmime/awsses v0.1.0
)

replace github.com/sesmime/sesmime => %s

replace github.com/sesmime/sesmime/awsses => %s
`, root, filepath.Join(root, "awsses"))))
	n := 0
	for k, rg := range readmeGo {
		var src bytes.Buffer
		fmt.Fprintf(&src, "package main\n\nimport (\n")
		for _, p := range rg.imports {
			fmt.Fprintf(&src, "\t%q\n", p)
		}
		fmt.Fprintf(&src, ")\n\nfunc main() {}\n")
		for i, b := range goBlocks(string(readFile(t, rg.file))) {
			n++
			b = strings.ReplaceAll(b, "{ ... }", "{ panic(err) }")
			var lines []string
			for l := range strings.SplitSeq(b, "\n") {
				if !strings.HasPrefix(l, "import ") {
					lines = append(lines, l)
				}
			}
			body := strings.Join(lines, "\n")
			fmt.Fprintf(&src, "\n// %s, Go block %d\nfunc block%d(%s) {\n%s\n%s}\n", rg.file, i+1, n, rg.params, body, used(t, body))
		}
		fmt.Fprintf(&src, "\nvar _ = fmt.Sprint\n")
		sub := filepath.Join(dir, sprintf("readme%d", k+1))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(sub, "main.go"), src.Bytes())
	}
	if n < 4 {
		t.Fatalf("found %d Go blocks in the READMEs, want at least 4", n)
	}
	cmd := exec.Command(gobin, "build", "-o", os.DevNull, "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the READMEs' Go blocks do not build: %v\n%s", err, out)
	}
}

// goBlocks returns the bodies of the ```go blocks of a Markdown text.
func goBlocks(md string) []string {
	var out []string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}

// used returns "_ = x" for each variable body declares with :=, so that a
// block that only shows a call still compiles.
func used(t *testing.T, body string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc f() {\n"+body+"\n}\n", 0)
	if err != nil {
		t.Fatalf("a README Go block does not parse: %v\n%s", err, body)
	}
	var b strings.Builder
	seen := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if as, ok := n.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
			for _, e := range as.Lhs {
				if id, ok := e.(*ast.Ident); ok && id.Name != "_" && !seen[id.Name] {
					seen[id.Name] = true
					fmt.Fprintf(&b, "\t_ = %s\n", id.Name)
				}
			}
		}
		return true
	})
	return b.String()
}

// Command apicount counts the exported identifiers of Go packages: package
// level constants, variables, functions and types, and the exported methods
// of exported types (struct fields are counted apart). Test files are
// skipped.
//
//	go run ./scripts/apicount . ./mimeheaders ./parse ./inject
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	verbose := flag.Bool("v", false, "list the names")
	flag.Parse()
	total, totalFields := 0, 0
	for _, dir := range flag.Args() {
		names, fields := count(dir)
		total += len(names)
		totalFields += fields
		fmt.Printf("%-16s %4d identifiers, %3d exported struct fields\n", dir, len(names), fields)
		if *verbose {
			for _, n := range names {
				fmt.Printf("\t%s\n", n)
			}
		}
	}
	fmt.Printf("%-16s %4d identifiers, %3d exported struct fields\n", "total", total, totalFields)
}

func count(dir string) ([]string, int) {
	fset := token.NewFileSet()
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var names []string
	fields := 0
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		{
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if !d.Name.IsExported() {
						continue
					}
					if d.Recv == nil {
						names = append(names, d.Name.Name)
						continue
					}
					t := d.Recv.List[0].Type
					if s, ok := t.(*ast.StarExpr); ok {
						t = s.X
					}
					if id, ok := t.(*ast.Ident); ok && id.IsExported() {
						names = append(names, id.Name+"."+d.Name.Name)
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						switch s := s.(type) {
						case *ast.ValueSpec:
							for _, n := range s.Names {
								if n.IsExported() {
									names = append(names, n.Name)
								}
							}
						case *ast.TypeSpec:
							if !s.Name.IsExported() {
								continue
							}
							names = append(names, s.Name.Name)
							if st, ok := s.Type.(*ast.StructType); ok {
								for _, fl := range st.Fields.List {
									for _, n := range fl.Names {
										if n.IsExported() {
											fields++
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(names)
	return names, fields
}

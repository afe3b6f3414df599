// Command apidump prints the exported API of every public package of the
// module in the current directory: each package's import path and the
// declarations of its exported constants, variables, types, functions and
// methods, without doc comments or bodies, in a stable order. The output is
// kept in api/asynctrace.txt; `make lint` fails when the code no longer
// matches it, so that every change to the API is deliberate and shows in
// review. `make api` writes it anew.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apidump:", err)
		os.Exit(1)
	}
}

func run(out *os.File) error {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		return err
	}
	var module string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			module = strings.Trim(strings.TrimSpace(rest), `"`)
			break
		}
	}
	if module == "" {
		return fmt.Errorf("go.mod names no module")
	}
	var dirs []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if path != "." {
			if name == "internal" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	for _, dir := range dirs {
		importPath := module
		if dir != "." {
			importPath += "/" + filepath.ToSlash(dir)
		}
		if err := dumpPackage(w, dir, importPath); err != nil {
			return err
		}
	}
	return w.Flush()
}

func dumpPackage(w *bufio.Writer, dir, importPath string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" || hasIgnoreBuildTag(f) {
			continue
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil
	}
	pkg, err := doc.NewFromFiles(fset, files, importPath)
	if err != nil {
		return err
	}
	var lines []string
	add := func(node any) {
		lines = append(lines, format(fset, node))
	}
	for _, v := range pkg.Consts {
		add(v.Decl)
	}
	for _, v := range pkg.Vars {
		add(v.Decl)
	}
	for _, f := range pkg.Funcs {
		add(f.Decl)
	}
	for _, t := range pkg.Types {
		add(t.Decl)
		for _, v := range t.Consts {
			add(v.Decl)
		}
		for _, v := range t.Vars {
			add(v.Decl)
		}
		for _, f := range t.Funcs {
			add(f.Decl)
		}
		for _, m := range t.Methods {
			add(m.Decl)
		}
	}
	fmt.Fprintf(w, "package %s\n", importPath)
	for _, l := range lines {
		fmt.Fprintf(w, "\t%s\n", strings.ReplaceAll(l, "\n", "\n\t"))
	}
	fmt.Fprintln(w)
	return nil
}

// hasIgnoreBuildTag reports a file built only on request (//go:build
// ignore), such as a generator.
func hasIgnoreBuildTag(f *ast.File) bool {
	for _, c := range f.Comments {
		for _, l := range c.List {
			if strings.HasPrefix(l.Text, "//go:build") && slices.Contains(strings.Fields(l.Text), "ignore") {
				return true
			}
		}
	}
	return false
}

// format prints a declaration without its doc comments or body.
func format(fset *token.FileSet, node any) string {
	switch d := node.(type) {
	case *ast.FuncDecl:
		cp := *d
		cp.Doc, cp.Body = nil, nil
		node = &cp
	case *ast.GenDecl:
		cp := *d
		cp.Doc = nil
		node = &cp
	}
	ast.Inspect(node.(ast.Node), func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.Field:
			x.Doc, x.Comment = nil, nil
		case *ast.ValueSpec:
			x.Doc, x.Comment = nil, nil
		case *ast.TypeSpec:
			x.Doc, x.Comment = nil, nil
		}
		return true
	})
	var buf bytes.Buffer
	if err := (&printer.Config{Mode: printer.UseSpaces, Tabwidth: 4}).Fprint(&buf, fset, node); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return buf.String()
}

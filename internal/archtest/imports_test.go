// Package archtest checks the layering of the hexagonal layout against the
// table in README.md ("Layout and import rules"): every package directory of
// the module has a row there, and every import of its non-test files is one
// the row allows. The README is the one place the rules are written, so the
// table a newcomer reads is the rule the build enforces.
package archtest

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/orderflow/orderflow/"

// The section of README.md that holds the table.
const section = "## Layout and import rules"

// rule is one row of the table: what the package at dir may import from the
// module (patterns: "ports" is that package, "app/..." is app and everything
// under it, "*" anything) and which libraries (nil: any; empty: the
// standard library only; else module path prefixes).
type rule struct {
	dir       string
	local     []string
	libraries []string
}

func TestEveryPackageIsInTheLayoutTable(t *testing.T) {
	rules := readRules(t)
	pkgs := packageDirs(t)
	for _, dir := range pkgs {
		if _, ok := rules[dir]; !ok {
			t.Errorf("package %s has no row in README.md's %q table", dir, section)
		}
	}
	for dir := range rules {
		if !slices.Contains(pkgs, dir) {
			t.Errorf("README.md's %q table lists %s, which is not a package of the module", section, dir)
		}
	}
}

func TestImportsFollowTheLayoutTable(t *testing.T) {
	rules := readRules(t)
	root := moduleRoot(t)
	checked := 0
	for _, dir := range packageDirs(t) {
		r, ok := rules[dir]
		if !ok {
			continue // reported by TestEveryPackageIsInTheLayoutTable
		}
		for _, file := range goFiles(t, filepath.Join(root, dir)) {
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if msg := r.violation(p); msg != "" {
					rel, _ := filepath.Rel(root, file)
					t.Errorf("%s imports %s: %s (README.md, %q)", filepath.ToSlash(rel), p, msg, section)
				}
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: is the walk rooted right?", checked)
	}
}

// The rule parser itself: a pattern that allows too much would let every
// import through and the test above could never fail.
func TestRuleMatching(t *testing.T) {
	r := rule{dir: "adapters/postgres", local: []string{"ports", "app/apperr", "internal/..."}, libraries: []string{"github.com/jackc/pgx/v5"}}
	for imp, ok := range map[string]bool{
		module + "ports":                     true,
		module + "ports/porttest":            false,
		module + "app/apperr":                true,
		module + "app/command":               false,
		module + "internal/eventwire":        true,
		module + "adapters/sqlite":           false,
		module + "adapters/postgres":         true, // itself
		"github.com/jackc/pgx/v5/pgxpool":    true,
		"github.com/jackc/pgx/v4":            false,
		"github.com/ThreeDotsLabs/watermill": false,
		"context":                            true,
		"github.com/jackc/pgx/v5extra/trick": false,
	} {
		if got := r.violation(imp) == ""; got != ok {
			t.Errorf("%s: allowed = %v, want %v", imp, got, ok)
		}
	}
}

func (r rule) violation(imp string) string {
	if local, ok := strings.CutPrefix(imp, module); ok {
		if local == r.dir {
			return ""
		}
		for _, p := range r.local {
			if p == "*" || local == p || (strings.HasSuffix(p, "/...") &&
				(local == strings.TrimSuffix(p, "/...") || strings.HasPrefix(local, strings.TrimSuffix(p, "...")))) {
				return ""
			}
		}
		return "the table does not allow it (imports point inward only)"
	}
	first := strings.SplitN(imp, "/", 2)[0]
	if !strings.Contains(first, ".") || r.libraries == nil {
		return "" // the standard library, or a package free to use libraries
	}
	for _, l := range r.libraries {
		if imp == l || strings.HasPrefix(imp, l+"/") {
			return ""
		}
	}
	return "a library the table does not allow here"
}

// readRules parses the table: | `dir` | what | may import | libraries |.
// The import and library columns list backquoted items; "—" means none,
// "any" (libraries) means any.
func readRules(t *testing.T) map[string]rule {
	t.Helper()
	f, err := os.Open(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rules := map[string]rule{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == section
			continue
		case !in || !strings.HasPrefix(line, "| `"):
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 4 {
			t.Fatalf("README.md table row %q: want 4 cells, got %d", line, len(cells))
		}
		dir := strings.Trim(strings.TrimSpace(cells[0]), "`")
		r := rule{dir: dir, local: ticked(cells[2])}
		if strings.TrimSpace(cells[3]) != "any" {
			r.libraries = ticked(cells[3])
			if r.libraries == nil {
				r.libraries = []string{}
			}
		}
		if _, dup := rules[dir]; dup {
			t.Fatalf("README.md table lists %s twice", dir)
		}
		rules[dir] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 20 {
		t.Fatalf("found only %d rows under %q in README.md", len(rules), section)
	}
	return rules
}

// ticked returns the backquoted items of a cell.
func ticked(cell string) []string {
	var out []string
	parts := strings.Split(cell, "`")
	for i := 1; i < len(parts); i += 2 {
		out = append(out, parts[i])
	}
	return out
}

// packageDirs lists, relative to the module root, every directory holding a
// non-test Go file.
func packageDirs(t *testing.T) []string {
	t.Helper()
	root := moduleRoot(t)
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "data" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}

func goFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(fmt.Errorf("module root: %w", err))
	}
	return root
}

// Package archtest checks the layering rule of the hexagonal layout: imports
// point inward only. It parses every non-test Go file of the module.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/orderflow/orderflow/"

// rule says what a package under prefix may import from the module and
// which third-party import prefixes it may use (nil: any).
type rule struct {
	prefix     string
	exact      bool // prefix names one package, not its subpackages
	allowLocal []string
	// allowExact lists packages allowed by themselves, not their subpackages.
	allowExact  []string
	allowThird  []string // nil means any third-party import is allowed
	noSiblingOf string   // packages under this prefix may not import each other
}

var rules = []rule{
	{prefix: "app/domain/", allowLocal: []string{"app/apperr"}, allowThird: []string{"github.com/google/uuid", "golang.org/x/text/"}},
	{prefix: "app/", allowLocal: []string{"app/", "ports"}, allowThird: []string{"github.com/google/uuid"}},
	{prefix: "ports/porttest", allowLocal: []string{"ports"}, allowThird: []string{"github.com/google/uuid"}},
	{prefix: "ports", allowLocal: []string{}, allowThird: []string{}},
	{prefix: "internal/eventwire", allowLocal: []string{"ports", "app/apperr"}, allowThird: []string{"github.com/ThreeDotsLabs/watermill"}},
	{prefix: "migrations/", allowLocal: []string{}},
	// The broker base links no broker client; brokers import only the base,
	// never each other; package all lists them, brokertest tests them.
	{prefix: "adapters/broker", exact: true, allowLocal: []string{}, allowThird: []string{"github.com/ThreeDotsLabs/watermill"}},
	{prefix: "adapters/broker/all", allowLocal: []string{"adapters/broker/"}},
	{prefix: "adapters/broker/brokertest", allowExact: []string{"adapters/broker"}, allowLocal: []string{"internal/"}},
	{prefix: "adapters/broker/", allowExact: []string{"adapters/broker"},
		allowLocal: []string{"adapters/sqlite/sqlitepubsub", "internal/", "ports", "app/apperr"}, noSiblingOf: "adapters/broker/"},
	{prefix: "adapters/", allowLocal: []string{"adapters/", "ports", "app/apperr", "app/decorator", "internal/", "migrations/"}, noSiblingOf: "adapters/"},
	{prefix: "handlers/", allowLocal: []string{"handlers/", "app", "ports", "internal/eventwire"}},
	{prefix: "outbox", allowExact: []string{"adapters/broker"}, allowLocal: []string{"ports", "internal/", "app/apperr"}},
	{prefix: "router", allowExact: []string{"adapters/broker"}, allowLocal: []string{"app", "ports", "handlers/", "internal/eventwire"}},
}

func TestImportsPointInward(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "data" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		r, ok := ruleFor(rel)
		if !ok {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if msg := r.violation(rel, p); msg != "" {
				t.Errorf("%s imports %s: %s", filepath.ToSlash(strings.TrimPrefix(path, root+string(os.PathSeparator))), p, msg)
			}
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: is the walk rooted right?", checked)
	}
}

func ruleFor(dir string) (rule, bool) {
	for _, r := range rules {
		if r.exact {
			if dir == r.prefix {
				return r, true
			}
			continue
		}
		if dir == strings.TrimSuffix(r.prefix, "/") || strings.HasPrefix(dir, r.prefix) || (!strings.HasSuffix(r.prefix, "/") && strings.HasPrefix(dir, r.prefix+"/")) {
			return r, true
		}
	}
	return rule{}, false
}

func (r rule) violation(dir, imp string) string {
	if local, ok := strings.CutPrefix(imp, module); ok {
		if r.noSiblingOf != "" && strings.HasPrefix(local, r.noSiblingOf) {
			own := strings.SplitN(strings.TrimPrefix(dir, r.noSiblingOf), "/", 2)[0]
			other := strings.SplitN(strings.TrimPrefix(local, r.noSiblingOf), "/", 2)[0]
			if own != other {
				return "adapters do not import each other"
			}
			return ""
		}
		if slices.Contains(r.allowExact, local) {
			return ""
		}
		for _, a := range r.allowLocal {
			if local == strings.TrimSuffix(a, "/") || (strings.HasSuffix(a, "/") && strings.HasPrefix(local, a)) || strings.HasPrefix(local, a+"/") {
				return ""
			}
		}
		return "points outward or sideways"
	}
	first := strings.SplitN(imp, "/", 2)[0]
	if !strings.Contains(first, ".") || r.allowThird == nil {
		return "" // standard library, or a layer free to use libraries
	}
	for _, a := range r.allowThird {
		if imp == strings.TrimSuffix(a, "/") || strings.HasPrefix(imp, a) {
			return ""
		}
	}
	return "infrastructure library in the core"
}

// TestRulesKeepBrokersApart checks the rules on the imports they exist to
// refuse, so that a rule edited by mistake does not silently allow them.
func TestRulesKeepBrokersApart(t *testing.T) {
	for _, tc := range []struct {
		dir, imp string
		allowed  bool
	}{
		{"adapters/broker", "github.com/ThreeDotsLabs/watermill/message", true},
		{"adapters/broker", "github.com/IBM/sarama", false},
		{"adapters/broker", module + "adapters/broker/kafka", false},
		{"adapters/broker/kafka", module + "adapters/broker", true},
		{"adapters/broker/kafka", "github.com/IBM/sarama", true},
		{"adapters/broker/kafka", module + "adapters/broker/nats", false},
		{"adapters/broker/kafka", module + "adapters/postgres", false},
		{"adapters/broker/sql", module + "adapters/sqlite/sqlitepubsub", true},
		{"adapters/broker/sql", module + "adapters/sqlite", false},
		{"adapters/broker/all", module + "adapters/broker/kafka", true},
		{"router", module + "adapters/broker", true},
		{"router", module + "adapters/broker/kafka", false},
		{"router", module + "adapters/postgres", false},
		{"router", module + "outbox", false},
		{"outbox", module + "adapters/broker", true},
		{"outbox", module + "adapters/broker/sql", false},
		{"outbox", module + "router", false},
		{"outbox", module + "internal/eventwire", true},
	} {
		r, ok := ruleFor(tc.dir)
		if !ok {
			t.Fatalf("no rule for %s", tc.dir)
		}
		if got := r.violation(tc.dir, tc.imp) == ""; got != tc.allowed {
			t.Errorf("%s importing %s: allowed = %v, want %v", tc.dir, tc.imp, got, tc.allowed)
		}
	}
}

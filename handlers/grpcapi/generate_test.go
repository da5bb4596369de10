package grpcapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the Go code of proto/ (buf.gen.yaml,
// the generators pinned in tools/go.mod) into a temporary directory and
// compares it with the committed orderflowv1: a .proto change without
// `make proto`, or an edit by hand, fails here.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds buf and the protoc plugins")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cmd := exec.Command("go", "tool", "-modfile=tools/go.mod", "buf", "generate", "-o", tmp)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buf generate: %v\n%s", err, out)
	}
	const dir = "handlers/grpcapi/orderflowv1"
	fresh := readDir(t, filepath.Join(tmp, dir))
	committed := readDir(t, filepath.Join(root, dir))
	for name, want := range fresh {
		if got, ok := committed[name]; !ok {
			t.Errorf("%s/%s is not committed: run make proto", dir, name)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s/%s is stale: run make proto", dir, name)
		}
	}
	for name := range committed {
		if _, ok := fresh[name]; !ok {
			t.Errorf("%s/%s is not generated from proto/: remove it", dir, name)
		}
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

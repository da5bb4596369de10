package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orderflow/orderflow/service"
)

// buildBinary builds the real orderflow binary once per test run.
var buildBinary = goBuildOnce("../cmd/orderflow", "orderflow")

// goBuildOnce returns a function that builds the Go command in pkg, once per
// test run, into a temporary directory as name, and returns its path.
func goBuildOnce(pkg, name string) func() (string, error) {
	return sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", name+"-bin-")
		if err != nil {
			return "", err
		}
		bin := filepath.Join(dir, name)
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", name, err, out)
		}
		return bin, nil
	})
}

// mustBuildBinary is buildBinary for a test: it fails the test when the
// build fails.
func mustBuildBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// storeBinary is the real binary set up on one store's data and a free
// loopback address: what the crash and restart tests start, kill and start
// again on the same data.
type storeBinary struct {
	bin  string
	cfg  service.Config
	base string
	env  []string
}

// newStoreBinary sets bin up to serve cfg's store on a free loopback
// address, with extraEnv added to the environment of every start.
func newStoreBinary(t *testing.T, bin string, cfg service.Config, extraEnv ...string) *storeBinary {
	t.Helper()
	addr := freeAddr(t)
	env := append([]string{"ORDERFLOW_HTTP_ADDR=" + addr, "ORDERFLOW_DATA_DIR=" + cfg.DataDir,
		"ORDERFLOW_POSTGRES_URL=" + cfg.PostgresURL}, extraEnv...)
	return &storeBinary{bin: bin, cfg: cfg, base: "http://" + addr, env: env}
}

// start starts the binary (with extraEnv added for this start only) and
// waits until it is ready.
func (b *storeBinary) start(t *testing.T, extraEnv ...string) *process {
	t.Helper()
	p := startProcess(t, b.bin, append(slices.Clip(b.env), extraEnv...))
	waitReady(t, b.base, p)
	return p
}

// eachStoreBinary builds the real binary and runs fn as a subtest for each
// store, with the binary set up on a fresh copy of that store's data.
func eachStoreBinary(t *testing.T, fn func(t *testing.T, store string, b *storeBinary), extraEnv ...string) {
	bin := mustBuildBinary(t)
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			fn(t, s.name, newStoreBinary(t, bin, s.config(t), extraEnv...))
		})
	}
}

// orderflow runs the real binary with args, as an operator would, and
// returns its error (an *exec.ExitError when it exits non-zero; its message
// is on stderr).
func orderflow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	bin, err := buildBinary()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// process is the real binary running `orderflow serve`.
type process struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

func startProcess(t *testing.T, bin string, env []string) *process {
	t.Helper()
	level := "warn"
	if l := os.Getenv(EnvTestLogLevel); l != "" {
		level = l
	}
	cmd := exec.Command(bin, "serve", "--poll-interval", "20ms", "--log-level", level)
	cmd.Env = append(os.Environ(), env...)
	p := &process{cmd: cmd, out: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			if err := <-p.done; err == nil {
				t.Logf("the process had exited cleanly before the cleanup's kill")
			}
		}
	})
	return p
}

// waitKilled waits until the process, sent SIGKILL by the test or by its
// own crash injection, has ended, and fails the test if it exited cleanly
// instead: a SIGKILL always ends it with an *exec.ExitError.
func (p *process) waitKilled(t *testing.T) {
	t.Helper()
	if err := <-p.done; err == nil {
		t.Fatalf("the process exited cleanly, want it killed:\n%s", p.out)
	}
}

func waitReady(t *testing.T, base string, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			t.Fatalf("process exited: %v\n%s", err, p.out)
		default:
		}
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("not ready after 30s:\n%s", p.out)
}

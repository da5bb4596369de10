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
	"sync"
	"testing"
	"time"
)

// buildBinary builds the real orderflow binary once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "orderflow-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "orderflow")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/orderflow").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

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
			<-p.done
		}
	})
	return p
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

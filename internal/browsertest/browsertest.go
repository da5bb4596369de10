// Package browsertest runs Debian's headless Chromium for tests that check
// what a browser makes of a page (the /docs page, the loadtest's report),
// with every host name but 127.0.0.1 unresolvable, so a page that asks for
// anything elsewhere shows it in the console instead of reaching it.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Chromium finds the browser. Under CI=true its absence fails the test
// (.ci/run installs it); elsewhere it skips the test. what names the test's
// subject in the message.
func Chromium(t testing.TB, what string) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	hint := "chromium is not installed; the " + what + " browser test needs it: apt-get install -y chromium"
	if os.Getenv("CI") == "true" {
		t.Fatal(hint + " (.ci/run installs it)")
	}
	t.Skip(hint)
	return ""
}

// Headless runs chromium on url with the flags that keep it from reaching
// anything but url's server: no background networking, no component or
// sync updates, every host name but 127.0.0.1 unresolvable. It returns
// stdout, and stderr, where --enable-logging puts the page's console
// (Content-Security-Policy violations included).
func Headless(t testing.TB, what, url string, action ...string) (stdout, stderr string) {
	t.Helper()
	bin := Chromium(t, what)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000",
	}, action...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\nstderr:\n%s", strings.Join(action, " "), err, errOut.String())
	}
	return out.String(), errOut.String()
}

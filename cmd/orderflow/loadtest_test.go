package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The loadtest subcommand refuses what it cannot run, before loading
// anything: bad flags, a remote target, a service that refuses the stock.
func TestLoadtestCommandRefuses(t *testing.T) {
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"title":"no"}`, http.StatusServiceUnavailable)
	}))
	defer refusing.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--steps", "10,abc"}, `--steps: "abc" is not a rate`},
		{[]string{"--target", "http://192.0.2.1:8080"}, "not a loopback address"},
		{[]string{"--rate", "0"}, "--rate must be positive"},
		{[]string{"--declined", "0.7", "--timed-out", "0.5"}, "--declined plus --timed-out"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--target", refusing.URL, "--skus", "3", "--max-items", "1", "--duration", "2s"}, "set stock of LT-"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"loadtest"}, c.args...), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("loadtest %v: %v, want an error saying %q", c.args, err, c.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("loadtest %v printed a summary:\n%s", c.args, stdout.String())
		}
	}
}

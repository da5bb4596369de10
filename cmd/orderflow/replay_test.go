package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/orderflow/orderflow/ports"
)

func TestReplayFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--data-dir", dir}, "--projection must be order_summary"},
		{[]string{"replay", "--data-dir", dir, "--projection", "nope"}, "--projection must be order_summary"},
		{[]string{"replay", "--data-dir", dir, "--projection", "order_summary", "--from-position", "x/1"}, "want N or COMMIT/PREPARE"},
		{[]string{"replay", "--data-dir", dir, "--projection", "order_summary", "--from-position", "7"}, "no order_summary_shadow to resume"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	for in, want := range map[string]ports.Position{"": {}, "12": {Commit: 12, Prepare: 12}, "7/9": {Commit: 7, Prepare: 9}} {
		if got, err := parsePosition(in); err != nil || got != want || (in != "" && got.Compact() != in) {
			t.Errorf("position %q: %v %v", in, got, err)
		}
	}
}

func TestReplayTopicFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay-topic", "--data-dir", dir}, "--topic and --handler are required"},
		{[]string{"replay-topic", "--data-dir", dir, "--topic", "t", "--handler", "h", "--since", "yesterday"}, "want an RFC 3339 time"},
		{[]string{"replay-topic", "--data-dir", dir, "--topic", "t", "--handler", "nope"}, `unknown handler "nope"`},
		{[]string{"replay-topic", "--data-dir", dir, "--topic", "t", "--handler", "h", "--from-partition", "1"}, "only Kafka topics have partitions, not sqlite ones"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}

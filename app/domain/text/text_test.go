package text_test

import (
	"testing"

	"github.com/orderflow/orderflow/app/domain/text"
)

func TestProblem(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fine bool
	}{
		{"", true},
		{"Ada Lovelace", true},
		{"Zürich 8001 — 東京", true},
		{"\ufffd is a character", true},
		{"\U0001F600", true},
		{"a\x00b", false},
		{"tab\there", false},
		{"line\nbreak", false},
		{"\x1f", false},
		{"del\x7f", false},
		{"c1\u0085", false},
		{"\xff", false},
		{"ab\xc3", false},
		{"\xed\xa0\x80", false}, // a UTF-16 surrogate, encoded
	} {
		if got := text.Valid(tc.in); got != tc.fine {
			t.Errorf("Valid(%q) = %v, want %v (%s)", tc.in, got, tc.fine, text.Problem(tc.in))
		}
	}
}

// Package text holds the one rule for text that reaches storage: every
// string an aggregate records, and every string used to look something up,
// is valid UTF-8 without control characters.
//
// Stores cannot all keep such text (PostgreSQL refuses NUL in text and
// jsonb with SQLSTATE 22021), and no customer, SKU, address or carrier needs
// it. Refused: invalid UTF-8, the C0 controls U+0000–U+001F (tab and line
// breaks included: every field is a single line), U+007F DELETE, and the C1
// controls U+0080–U+009F, which are as unprintable as C0 and are what a
// Latin-1 string misread as UTF-8 leaves behind.
package text

import (
	"unicode/utf8"
)

// Problem describes what makes s unfit for storage, for a FieldError's
// message; "" when s is fine.
func Problem(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			return "must be valid UTF-8"
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return "must not contain control characters (U+0000–U+001F, U+007F–U+009F)"
		}
	}
	return ""
}

// Valid reports whether Problem(s) is "".
func Valid(s string) bool { return Problem(s) == "" }

// validAt reports whether the U+FFFD decoded at s[i] is really there (three
// bytes EF BF BD) rather than the marker of an invalid byte.
func validAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 3
}

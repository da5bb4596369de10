package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/orderflow/orderflow/app/apperr"
)

// tokenScan is what one streaming pass over a JSON body finds that a decoded
// value no longer shows: keys given twice in one object (encoding/json keeps
// the last) and strings that are not valid UTF-8 (encoding/json turns each
// bad byte, and each lone surrogate escape such as \ud800, into U+FFFD).
// Each is named by its JSON path, as shapeCheck names fields.
type tokenScan struct {
	duplicates []apperr.FieldError
	badText    []apperr.FieldError
}

// scanFrame is one open object or array.
type scanFrame struct {
	path    string
	object  bool
	keys    map[string]bool // object: the keys seen so far
	key     string          // object: the key whose value comes next
	wantKey bool            // object: the next token is a key
	index   int             // array: the index of the next element
}

func (f *scanFrame) childPath() string {
	if !f.object {
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	if f.path == "" {
		return f.key
	}
	return f.path + "." + f.key
}

// scanTokens walks body, which must be one valid JSON value (decodeBody has
// decoded it already), token by token. Its memory is bounded by the body's
// size, which maxBodyBytes bounds.
func scanTokens(body []byte) tokenScan {
	var ts tokenScan
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var stack []*scanFrame
	// valueDone moves the innermost frame past the value just read.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.object {
			f.wantKey = true
		} else {
			f.index++
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil { // io.EOF; a syntax error cannot happen after a successful Decode
			return ts
		}
		var top *scanFrame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				valueDone()
				continue
			}
			key, _ := tok.(string)
			top.key, top.wantKey = key, false
			if top.keys[key] {
				ts.duplicates = append(ts.duplicates, apperr.FieldError{Field: top.childPath(), Message: "appears more than once"})
			}
			top.keys[key] = true
			continue
		}
		path := ""
		if top != nil {
			path = top.childPath()
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &scanFrame{path: path, object: true, keys: map[string]bool{}, wantKey: true})
			case '[':
				stack = append(stack, &scanFrame{path: path})
			default: // ']'
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			if !validJSONString(t, body[start:dec.InputOffset()]) {
				ts.badText = append(ts.badText, apperr.FieldError{Field: path, Message: "must be valid UTF-8"})
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

// validJSONString reports whether the JSON string whose decoded value is s
// and whose source (with, perhaps, a separator and white space before it) is
// raw held valid UTF-8 only: raw bytes that are, and no escape that decodes
// to a lone surrogate. Every U+FFFD in s must be one the source spelled out.
func validJSONString(s string, raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	replacements := strings.Count(s, "\uFFFD")
	if replacements == 0 {
		return true
	}
	lower := bytes.ToLower(raw)
	spelled := bytes.Count(raw, []byte("\uFFFD")) + bytes.Count(lower, []byte(`\ufffd`))
	return replacements <= spelled
}

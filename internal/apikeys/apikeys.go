// Package apikeys holds the service's API keys, as the HTTP and gRPC APIs
// check them: compared in constant time, as SHA-256 digests so that lengths
// leak nothing either, every key compared whichever matches.
package apikeys

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Set is a set of API keys; the zero Set has none (the API is open).
type Set struct {
	digests [][sha256.Size]byte
}

// New returns the set of keys, blanks trimmed and empty ones dropped.
func New(keys []string) Set {
	var s Set
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			s.digests = append(s.digests, sha256.Sum256([]byte(k)))
		}
	}
	return s
}

// Empty reports whether the set has no key: nothing is to be checked.
func (s Set) Empty() bool { return len(s.digests) == 0 }

// Scope reports whether k is one of the keys, and the key's scope: the first
// 8 bytes of its SHA-256 digest in hex, which names the key in stored records
// (Idempotency-Keys belong to the API key that used them) without storing it.
func (s Set) Scope(k string) (string, bool) {
	if k == "" || s.Empty() {
		return "", false
	}
	d := sha256.Sum256([]byte(k))
	ok := 0
	for _, want := range s.digests {
		ok |= subtle.ConstantTimeCompare(d[:], want[:])
	}
	if ok != 1 {
		return "", false
	}
	return hex.EncodeToString(d[:8]), true
}

// Bearer returns the key of an Authorization value "Bearer <key>" (the
// scheme in any case), or "".
func Bearer(authorization string) string {
	if len(authorization) > 7 && strings.EqualFold(authorization[:7], "bearer ") {
		return strings.TrimSpace(authorization[7:])
	}
	return ""
}

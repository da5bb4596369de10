package apikeys_test

import (
	"testing"

	"github.com/orderflow/orderflow/internal/apikeys"
)

func TestScope(t *testing.T) {
	keys := apikeys.New([]string{" k1 ", "", "k2"})
	if keys.Empty() || !apikeys.New(nil).Empty() || !apikeys.New([]string{" "}).Empty() {
		t.Fatal("Empty")
	}
	s1, ok1 := keys.Scope("k1")
	s2, ok2 := keys.Scope("k2")
	if !ok1 || !ok2 || s1 == s2 || len(s1) != 16 {
		t.Errorf("scopes %q %v, %q %v", s1, ok1, s2, ok2)
	}
	for _, bad := range []string{"", "k3", " k1 ", "K1"} {
		if _, ok := keys.Scope(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, ok := apikeys.New(nil).Scope("k1"); ok {
		t.Error("a key accepted by an empty set")
	}
}

func TestBearer(t *testing.T) {
	for in, want := range map[string]string{"Bearer k1": "k1", "bearer  k1 ": "k1", "BEARER k": "k", "Basic k1": "", "Bearer": "", "": ""} {
		if got := apikeys.Bearer(in); got != want {
			t.Errorf("Bearer(%q) = %q, want %q", in, got, want)
		}
	}
}

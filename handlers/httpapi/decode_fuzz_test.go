package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/orderflow/orderflow/app/apperr"
)

// FuzzDecodeBody feeds arbitrary bodies to the request decoder of every
// command. It must never panic, must refuse with an *httpError or an
// apperr-coded error only, and whatever it accepts must survive a JSON round
// trip (what the use case sees is plain data).
func FuzzDecodeBody(f *testing.F) {
	for _, seed := range []string{
		`{"customer_id":"c","currency":"EUR","items":[{"sku":"S","quantity":1,"unit_price":100}],` +
			`"shipping_address":{"name":"A","line1":"B","city":"C","postal_code":"1","country":"GB"},"payment_method":"tok_visa"}`,
		`{"reason":"changed my mind"}`,
		`{"carrier":"DHL","tracking_number":"123"}`,
		`{}`, ``, ` `, `null`, `[]`, `{"items":[null]}`, `{"quantity":"3"}`, `{"a":1}{"b":2}`,
		`{"customer_id":"\u0000"}`, `{"items":[{"quantity":1e309}]}`, `{"x":{"y":{"z":[[[[]]]]}}}`,
		`{"reason":"a","reason":"b"}`, `{"items":[{"sku":"a","sku":"b"}]}`, `{"a":{"b":1,"b":2},"a":[]}`,
		"{\"reason\":\"\xff\"}", "{\"reason\":\"\xed\xa0\x80\"}", `{"reason":"\ud800"}`, `{"reason":"\ufffd\ud800"}`,
		`{"items":[{"sku":"\u001f"},{"sku":"\u007f"}]}`, "{\"items\":[{\"sku\":\"\xc3\"}]}",
	} {
		f.Add([]byte(seed), "application/json")
	}
	f.Add([]byte(`{}`), "text/plain")
	f.Add([]byte(`{}`), "application/json; charset=utf-8")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		for _, dst := range []any{&placeOrderRequest{}, &cancelRequest{}, &shipRequest{}, &emptyRequest{}} {
			r := httptest.NewRequest(http.MethodPost, "/v1/orders", bytes.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			err := decodeBody(httptest.NewRecorder(), r, dst, true)
			if err != nil {
				var he *httpError
				if !errors.As(err, &he) {
					if c := apperr.CodeOf(err); c == apperr.Internal {
						t.Fatalf("decoder error of unknown kind %T: %v", err, err)
					}
				}
				continue
			}
			out, mErr := json.Marshal(dst)
			if mErr != nil {
				t.Fatalf("accepted body does not re-encode: %v", mErr)
			}
			if err := json.Unmarshal(out, dst); err != nil {
				t.Fatalf("accepted body does not round-trip: %v", err)
			}
		}
	})
}

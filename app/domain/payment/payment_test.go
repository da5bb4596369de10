package payment_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/payment"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const orderID = "0193a1b2-0000-7000-8000-000000000001"

var authorized = payment.Authorized{OrderID: orderID, AuthorizationID: "auth_1", Amount: 500, Currency: "EUR", AuthorizedAt: now}

func TestPaymentGivenWhenThen(t *testing.T) {
	cases := []struct {
		name    string
		given   []payment.Event
		when    func(*payment.Payment) error
		then    []payment.Event
		errCode apperr.Code
		status  payment.Status
	}{
		{"authorize", nil, func(p *payment.Payment) error { return p.Authorize("auth_1", 500, "EUR", now) },
			[]payment.Event{authorized}, "", payment.StatusAuthorized},
		{"authorize again is a no-op", []payment.Event{authorized},
			func(p *payment.Payment) error { return p.Authorize("auth_1", 500, "EUR", now) }, nil, "", payment.StatusAuthorized},
		{"second authorization conflicts", []payment.Event{authorized},
			func(p *payment.Payment) error { return p.Authorize("auth_2", 500, "EUR", now) }, nil, apperr.Conflict, payment.StatusAuthorized},
		{"decline", nil, func(p *payment.Payment) error { return p.Decline("card_declined", now) },
			[]payment.Event{payment.Declined{OrderID: orderID, DeclineCode: "card_declined", DeclinedAt: now}}, "", payment.StatusDeclined},
		{"capture", []payment.Event{authorized}, func(p *payment.Payment) error { return p.Capture(now) },
			[]payment.Event{payment.Captured{OrderID: orderID, AuthorizationID: "auth_1", CapturedAt: now}}, "", payment.StatusCaptured},
		{"capture twice is a no-op", []payment.Event{authorized, payment.Captured{OrderID: orderID, AuthorizationID: "auth_1"}},
			func(p *payment.Payment) error { return p.Capture(now) }, nil, "", payment.StatusCaptured},
		{"capture without authorization conflicts", nil, func(p *payment.Payment) error { return p.Capture(now) },
			nil, apperr.Conflict, payment.StatusNone},
		{"void", []payment.Event{authorized}, func(p *payment.Payment) error { return p.Void(now) },
			[]payment.Event{payment.Voided{OrderID: orderID, AuthorizationID: "auth_1", VoidedAt: now}}, "", payment.StatusVoided},
		{"void after capture conflicts", []payment.Event{authorized, payment.Captured{OrderID: orderID, AuthorizationID: "auth_1"}},
			func(p *payment.Payment) error { return p.Void(now) }, nil, apperr.Conflict, payment.StatusCaptured},
		{"void a declined payment conflicts", []payment.Event{payment.Declined{OrderID: orderID, DeclineCode: "x"}},
			func(p *payment.Payment) error { return p.Void(now) }, nil, apperr.Conflict, payment.StatusDeclined},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := payment.FromHistory(orderID, c.given)
			err := c.when(p)
			if c.errCode != "" {
				if !apperr.Is(err, c.errCode) {
					t.Fatalf("err = %v, want %s", err, c.errCode)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := p.Changes(); (len(got) != 0 || len(c.then) != 0) && !reflect.DeepEqual(got, c.then) {
				t.Fatalf("events %#v, want %#v", got, c.then)
			}
			if p.Status() != c.status {
				t.Fatalf("status %q, want %q", p.Status(), c.status)
			}
		})
	}
}

func TestPaymentEventsRoundTrip(t *testing.T) {
	for _, e := range []payment.Event{authorized,
		payment.Declined{OrderID: orderID, DeclineCode: "card_declined", DeclinedAt: now},
		payment.Captured{OrderID: orderID, AuthorizationID: "auth_1", CapturedAt: now},
		payment.Voided{OrderID: orderID, AuthorizationID: "auth_1", VoidedAt: now}} {
		data, err := payment.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := payment.DecodeEvent(e.EventType(), data); err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("%s: %#v %v", e.EventType(), got, err)
		}
	}
}

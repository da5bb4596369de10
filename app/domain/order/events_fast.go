package order

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// The fast path of DecodeEvent. Replaying the event store decodes every
// stored event, and encoding/json spends most of a rebuild's CPU on it (it
// validates the whole document first, then decodes it by reflection). The
// stored form is always json.Marshal's of the event, so each decoder here
// reads that form only: an object of the event's own fields by their exact
// names, each at most once, with no whitespace; strings without escapes,
// in valid UTF-8; integers in plain decimal; timestamps as
// time.Time.UnmarshalJSON reads them. Anything else (a null, an escape,
// another key, a duplicate, a number with a fraction, trailing bytes) makes
// it give up, and encoding/json decodes the event as before: the fast path
// never refuses an event, and what it accepts it decodes exactly as
// encoding/json would (FuzzDecodeEvent compares them).

// fastPlaced decodes a Placed.
func fastPlaced(data []byte) (e Placed, ok bool) {
	s := scanner{b: data}
	var seen uint
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "order_id":
			return s.once(&seen, 0) && s.str(&e.OrderID)
		case "customer_id":
			return s.once(&seen, 1) && s.str(&e.CustomerID)
		case "currency":
			return s.once(&seen, 2) && s.str(&e.Currency)
		case "items":
			return s.once(&seen, 3) && s.items(&e.Items)
		case "shipping_address":
			return s.once(&seen, 4) && s.address(&e.ShippingAddress)
		case "payment_method":
			return s.once(&seen, 5) && s.str(&e.PaymentMethod)
		case "total":
			return s.once(&seen, 6) && s.int(&e.Total)
		case "placed_at":
			return s.once(&seen, 7) && s.time(&e.PlacedAt)
		}
		return false
	})
	return e, ok && s.end()
}

// fastConfirmed decodes a Confirmed.
func fastConfirmed(data []byte) (e Confirmed, ok bool) {
	s := scanner{b: data}
	var seen uint
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "order_id":
			return s.once(&seen, 0) && s.str(&e.OrderID)
		case "confirmed_at":
			return s.once(&seen, 1) && s.time(&e.ConfirmedAt)
		}
		return false
	})
	return e, ok && s.end()
}

// fastCancelled decodes a Cancelled.
func fastCancelled(data []byte) (e Cancelled, ok bool) {
	s := scanner{b: data}
	var seen uint
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "order_id":
			return s.once(&seen, 0) && s.str(&e.OrderID)
		case "reason":
			return s.once(&seen, 1) && s.str(&e.Reason)
		case "cancelled_at":
			return s.once(&seen, 2) && s.time(&e.CancelledAt)
		}
		return false
	})
	return e, ok && s.end()
}

// fastShipped decodes a Shipped.
func fastShipped(data []byte) (e Shipped, ok bool) {
	s := scanner{b: data}
	var seen uint
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "order_id":
			return s.once(&seen, 0) && s.str(&e.OrderID)
		case "carrier":
			return s.once(&seen, 1) && s.str(&e.Carrier)
		case "tracking_number":
			return s.once(&seen, 2) && s.str(&e.TrackingNumber)
		case "shipped_at":
			return s.once(&seen, 3) && s.time(&e.ShippedAt)
		}
		return false
	})
	return e, ok && s.end()
}

// fastDelivered decodes a Delivered.
func fastDelivered(data []byte) (e Delivered, ok bool) {
	s := scanner{b: data}
	var seen uint
	ok = s.object(func(key []byte) bool {
		switch string(key) {
		case "order_id":
			return s.once(&seen, 0) && s.str(&e.OrderID)
		case "delivered_at":
			return s.once(&seen, 1) && s.time(&e.DeliveredAt)
		}
		return false
	})
	return e, ok && s.end()
}

// scanner reads b from i on; every method reports false where the fast
// path gives up.
type scanner struct {
	b []byte
	i int
}

// end: nothing follows.
func (s *scanner) end() bool { return s.i == len(s.b) }

// byte consumes c if it comes next.
func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// once marks field bit of seen, and refuses a field seen before.
func (s *scanner) once(seen *uint, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// object reads {"key":value,...}, value read by field, which reports false
// for a key it does not take.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.byte('{') {
		return false
	}
	if s.byte('}') {
		return true
	}
	for {
		key, ok := s.raw()
		if !ok || !s.byte(':') || !field(key) {
			return false
		}
		if s.byte(',') {
			continue
		}
		return s.byte('}')
	}
}

// raw reads a string with no escapes and no control characters, in valid
// UTF-8 (encoding/json would replace invalid bytes), and returns its bytes
// between the quotes.
func (s *scanner) raw() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// str reads a string into v.
func (s *scanner) str(v *string) bool {
	b, ok := s.raw()
	if ok {
		*v = string(b)
	}
	return ok
}

// int reads an integer without fraction or exponent into v; one that
// overflows int64 gives up (encoding/json refuses it).
func (s *scanner) int(v *int64) bool {
	start := s.i
	s.byte('-')
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	n := s.i - digits
	if n == 0 || (n > 1 && s.b[digits] == '0') {
		return false // not a JSON number, or a leading zero
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return false
	}
	x, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	*v = x
	return err == nil
}

// time reads a timestamp string into v with time.Time.UnmarshalJSON, as
// encoding/json does (with the quotes).
func (s *scanner) time(v *time.Time) bool {
	start := s.i
	if _, ok := s.raw(); !ok {
		return false
	}
	return v.UnmarshalJSON(s.b[start:s.i]) == nil
}

// items reads an array of Item objects into v: [] is an empty slice, as
// encoding/json leaves it.
func (s *scanner) items(v *[]Item) bool {
	if !s.byte('[') {
		return false
	}
	items := []Item{}
	if !s.byte(']') {
		for {
			var it Item
			var seen uint
			ok := s.object(func(key []byte) bool {
				switch string(key) {
				case "sku":
					return s.once(&seen, 0) && s.str(&it.SKU)
				case "quantity":
					return s.once(&seen, 1) && s.int(&it.Quantity)
				case "unit_price":
					return s.once(&seen, 2) && s.int(&it.UnitPrice)
				case "line_total":
					return s.once(&seen, 3) && s.int(&it.LineTotal)
				}
				return false
			})
			if !ok {
				return false
			}
			items = append(items, it)
			if s.byte(',') {
				continue
			}
			if !s.byte(']') {
				return false
			}
			break
		}
	}
	*v = items
	return true
}

// address reads an Address object into v.
func (s *scanner) address(v *Address) bool {
	var seen uint
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "name":
			return s.once(&seen, 0) && s.str(&v.Name)
		case "line1":
			return s.once(&seen, 1) && s.str(&v.Line1)
		case "line2":
			return s.once(&seen, 2) && s.str(&v.Line2)
		case "city":
			return s.once(&seen, 3) && s.str(&v.City)
		case "postal_code":
			return s.once(&seen, 4) && s.str(&v.PostalCode)
		case "country":
			return s.once(&seen, 5) && s.str(&v.Country)
		}
		return false
	})
}

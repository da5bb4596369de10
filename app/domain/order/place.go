package order

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/app/domain/text"
	"golang.org/x/text/currency"
	"golang.org/x/text/language"
)

// Limits of one order.
const (
	MaxItems       = 100
	MaxQuantity    = 1_000_000
	MaxUnitPrice   = 1_000_000_000_000 // minor units
	maxTextLength  = 200
	maxTokenLength = 500
)

// PlaceParams is what a customer submits to place an order.
type PlaceParams struct {
	OrderID         string
	CustomerID      string
	Currency        string
	Items           []Item
	ShippingAddress Address
	PaymentMethod   string
}

// validate checks every field and returns the order total in minor units.
// Currency codes are checked against ISO 4217 and countries against
// ISO 3166-1 alpha-2 (golang.org/x/text carries both tables).
func (p PlaceParams) validate() (int64, error) {
	var fields []apperr.FieldError
	add := func(field, msg string) { fields = append(fields, apperr.FieldError{Field: field, Message: msg}) }

	if p.OrderID == "" {
		add("order_id", "is required")
	}
	fields = requireText(fields, "customer_id", p.CustomerID, maxTextLength)
	if !validCurrency(p.Currency) {
		add("currency", "must be an ISO 4217 currency code such as EUR or USD")
	}

	var total int64
	overflow := false
	switch {
	case len(p.Items) == 0:
		add("items", "must contain at least one item")
	case len(p.Items) > MaxItems:
		add("items", fmt.Sprintf("must contain at most %d items", MaxItems))
	}
	for i, it := range p.Items {
		prefix := fmt.Sprintf("items[%d].", i)
		fields = requireText(fields, prefix+"sku", it.SKU, 64)
		if it.Quantity <= 0 {
			add(prefix+"quantity", "must be greater than 0")
		} else if it.Quantity > MaxQuantity {
			add(prefix+"quantity", fmt.Sprintf("must be at most %d", MaxQuantity))
		}
		if it.UnitPrice < 0 {
			add(prefix+"unit_price", "must be 0 or more (minor units)")
		} else if it.UnitPrice > MaxUnitPrice {
			add(prefix+"unit_price", fmt.Sprintf("must be at most %d (minor units)", MaxUnitPrice))
		}
		if it.Quantity > 0 && it.UnitPrice > 0 && !overflow {
			line := it.Quantity * it.UnitPrice // both bounded: cannot overflow
			if total > math.MaxInt64-line {
				overflow = true
			} else {
				total += line
			}
		}
	}
	if overflow {
		add("items", "order total is too large")
	}

	a := p.ShippingAddress
	fields = requireText(fields, "shipping_address.name", a.Name, maxTextLength)
	fields = requireText(fields, "shipping_address.line1", a.Line1, maxTextLength)
	if utf8.RuneCountInString(a.Line2) > maxTextLength {
		add("shipping_address.line2", fmt.Sprintf("must be at most %d characters", maxTextLength))
	} else if msg := text.Problem(a.Line2); msg != "" {
		add("shipping_address.line2", msg)
	}
	fields = requireText(fields, "shipping_address.city", a.City, maxTextLength)
	fields = requireText(fields, "shipping_address.postal_code", a.PostalCode, 20)
	if !validCountry(a.Country) {
		add("shipping_address.country", "must be an ISO 3166-1 alpha-2 country code such as DE or US")
	}
	fields = requireText(fields, "payment_method", p.PaymentMethod, maxTokenLength)

	if err := apperr.Validation("the order is invalid", fields); err != nil {
		return 0, err
	}
	return total, nil
}

// requireText checks a required text field: not blank, at most max
// characters, and storable (see package text).
func requireText(fields []apperr.FieldError, field, v string, max int) []apperr.FieldError {
	switch {
	case strings.TrimSpace(v) == "":
		return append(fields, apperr.FieldError{Field: field, Message: "is required"})
	case utf8.RuneCountInString(v) > max:
		return append(fields, apperr.FieldError{Field: field, Message: fmt.Sprintf("must be at most %d characters", max)})
	}
	if msg := text.Problem(v); msg != "" {
		return append(fields, apperr.FieldError{Field: field, Message: msg})
	}
	return fields
}

func validCurrency(code string) bool {
	if len(code) != 3 || strings.ToUpper(code) != code {
		return false
	}
	_, err := currency.ParseISO(code)
	return err == nil
}

func validCountry(code string) bool {
	if len(code) != 2 || strings.ToUpper(code) != code {
		return false
	}
	r, err := language.ParseRegion(code)
	return err == nil && r.IsCountry() && r.String() == code
}

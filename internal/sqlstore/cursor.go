package sqlstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// cursor is the keyset (created_at, order_id) of the last row of a page.
type cursor struct {
	createdAt time.Time
	orderID   string
}

// cursorCodec puts a cursor on the wire as base64url of a small JSON
// object. Each database keeps the format it has always issued, so that a
// cursor stays valid across versions.
type cursorCodec interface {
	encode(cursor) string
	decode(string) (cursor, error)
}

func invalidCursor(cause error) error {
	return apperr.Detail(fmt.Errorf("%w: %w", ports.ErrInvalidCursor, cause), "invalid cursor")
}

// microsCursor (Postgres) holds the time in Unix microseconds, the
// precision of timestamptz, so the boundary row compares equal.
type microsCursor struct{}

type microsCursorJSON struct {
	CreatedAt *int64 `json:"t"`
	OrderID   string `json:"id"`
}

func (microsCursor) encode(c cursor) string {
	micros := c.createdAt.UnixMicro()
	b, _ := json.Marshal(microsCursorJSON{CreatedAt: &micros, OrderID: c.orderID}) // cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func (microsCursor) decode(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, invalidCursor(err)
	}
	var c microsCursorJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, invalidCursor(err)
	}
	if c.CreatedAt == nil || c.OrderID == "" {
		return cursor{}, invalidCursor(errors.New("missing fields"))
	}
	return cursor{createdAt: time.UnixMicro(*c.CreatedAt).UTC(), orderID: c.OrderID}, nil
}

// textCursor (SQLite) holds the time as stored (TextTime).
type textCursor struct{}

type textCursorJSON struct {
	CreatedAt string `json:"c"`
	OrderID   string `json:"o"`
}

func (textCursor) encode(c cursor) string {
	b, _ := json.Marshal(textCursorJSON{CreatedAt: TextTime(c.createdAt), OrderID: c.orderID}) // cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func (textCursor) decode(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, invalidCursor(errors.New("not base64url"))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c textCursorJSON
	if err := dec.Decode(&c); err != nil || dec.More() {
		return cursor{}, invalidCursor(errors.New("not a cursor"))
	}
	if c.OrderID == "" {
		return cursor{}, invalidCursor(errors.New("no order id"))
	}
	t, err := ParseTextTime(c.CreatedAt)
	if err != nil {
		return cursor{}, invalidCursor(errors.New("bad time"))
	}
	return cursor{createdAt: t, orderID: c.OrderID}, nil
}

// Package idempotency is the Idempotency-Key protocol of the inbound
// adapters (the HTTP API; any other API reuses it), as payment APIs define
// it:
//
//   - a request with a key reserves it (in flight, under an owner token)
//     before it runs; a second request with the key while the first runs is
//     ErrInFlight (409), or ErrReused (422) when it is a different request;
//   - a response is stored only once the request began executing, and it is
//     stored in the same transaction as the request's effects (the
//     ports.Transactor unit of the event store's database), so an order and
//     its key are committed together or not at all;
//   - a request refused before it began executing (the adapter's own
//     refusals: malformed, too large, unsupported media type, unauthorized)
//     and a request that failed (5xx) store nothing and free the key, so a
//     corrected retry with the same key runs;
//   - a reservation whose lock ran out may be taken over by a retry; its
//     former holder can then neither store its response nor free the key:
//     its unit rolls back with ports.ErrIdempotencyKeyLost.
//
// The response stored is the adapter's own encoding (ports.StoredResponse):
// a retry with the same key and request gets it back, byte for byte.
package idempotency

import (
	"context"
	"log/slog"
	"time"

	"github.com/orderflow/orderflow/app/apperr"
	"github.com/orderflow/orderflow/ports"
)

// Errors of Guard.Do for a key that another request holds or used.
var (
	// ErrInFlight: the key is reserved by a request still running (or whose
	// process died, until its lock runs out). Retry later.
	ErrInFlight = apperr.New(apperr.Conflict, "a request with this Idempotency-Key is still in progress; retry later")
	// ErrReused: the key was used, or is in use, for a different request.
	ErrReused = apperr.New(apperr.Invalid, "this Idempotency-Key was used for a different request")
)

// Config configures a Guard.
type Config struct {
	// Store keeps the keys and responses; Tx runs units of work on the same
	// database (the event store's), so that Complete commits with the
	// request's effects. Both are required.
	Store ports.IdempotencyStore
	Tx    ports.Transactor
	// Lock is how long a reservation holds its key against concurrent
	// retries; a process that dies mid-request frees its keys after it.
	// Default 1m.
	Lock time.Duration
	// TTL is how long a key and its response are kept. Default 24h.
	TTL    time.Duration
	Logger *slog.Logger
}

// Guard runs requests at most once per Idempotency-Key. It is safe for
// concurrent use.
type Guard struct {
	store     ports.IdempotencyStore
	tx        ports.Transactor
	lock, ttl time.Duration
	logger    *slog.Logger
}

// New returns a Guard. It panics without a store or a transactor.
func New(cfg Config) *Guard {
	if cfg.Store == nil || cfg.Tx == nil {
		panic("idempotency: nil store or transactor")
	}
	if cfg.Lock <= 0 {
		cfg.Lock = time.Minute
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Guard{store: cfg.Store, tx: cfg.Tx, lock: cfg.Lock, ttl: cfg.TTL, logger: cfg.Logger}
}

// Outcome is what Guard.Do answers with.
type Outcome struct {
	Response ports.StoredResponse
	// Replayed: Response is the one stored by an earlier request with the
	// key; nothing ran.
	Replayed bool
}

// Reservation is the key a request holds while it runs, as the context of
// its run function carries it (ReservationFrom).
type Reservation struct {
	Key, Token string
}

type reservationKey struct{}

// ReservationFrom returns the reservation of the request ctx belongs to.
func ReservationFrom(ctx context.Context) (Reservation, bool) {
	r, ok := ctx.Value(reservationKey{}).(Reservation)
	return r, ok
}

// Do runs the request identified by fingerprint at most once for key:
//
//   - a key with a stored response for the same fingerprint replays it;
//   - a key in use, or used, with another fingerprint is ErrReused;
//   - a key in flight with the same fingerprint is ErrInFlight;
//   - otherwise the key is reserved and run runs inside a unit of work
//     (ports.Transactor), whose context carries the Reservation; the
//     response run returns is completed in the same unit. When run returns
//     an error, or the key was taken over meanwhile (an error wrapping
//     ports.ErrIdempotencyKeyLost), the unit rolls back, the key is freed
//     and Do returns run's response with the error, for the adapter to send.
//
// run must keep to the rules of a unit of work: nothing outside the
// database. A request whose effect leaves the database uses DoOutside.
func (g *Guard) Do(ctx context.Context, key, fingerprint string,
	run func(ctx context.Context) (ports.StoredResponse, error)) (Outcome, error) {
	return g.do(ctx, key, fingerprint, run, true)
}

// DoOutside is Do for a request whose effect leaves the database (a
// message published to a broker): run runs outside any transaction and
// the response is completed after it, so a crash in between leaves the
// effect done and the key in flight until its lock runs out (at least
// once, as a retry then runs it again).
func (g *Guard) DoOutside(ctx context.Context, key, fingerprint string,
	run func(ctx context.Context) (ports.StoredResponse, error)) (Outcome, error) {
	return g.do(ctx, key, fingerprint, run, false)
}

func (g *Guard) do(ctx context.Context, key, fingerprint string,
	run func(ctx context.Context) (ports.StoredResponse, error), inUnit bool) (Outcome, error) {
	rec, reserved, err := g.store.Reserve(ctx, key, fingerprint, g.lock, g.ttl)
	if err != nil {
		return Outcome{}, err
	}
	if !reserved {
		switch {
		case rec.Fingerprint != fingerprint:
			return Outcome{}, ErrReused
		case rec.Response == nil:
			return Outcome{}, ErrInFlight
		default:
			return Outcome{Response: *rec.Response, Replayed: true}, nil
		}
	}
	ctx = context.WithValue(ctx, reservationKey{}, Reservation{Key: key, Token: rec.Token})
	var resp ports.StoredResponse
	unit := func(ctx context.Context) error {
		var err error
		if resp, err = run(ctx); err != nil {
			return err
		}
		return g.store.Complete(ctx, key, rec.Token, resp)
	}
	if inUnit {
		err = g.tx.InTx(ctx, unit)
	} else {
		err = unit(ctx)
	}
	if err != nil {
		g.release(ctx, key, rec.Token)
		return Outcome{Response: resp}, err
	}
	return Outcome{Response: resp}, nil
}

// release frees a key whose request stored nothing. The client may be gone:
// the bookkeeping must still happen.
func (g *Guard) release(ctx context.Context, key, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := g.store.Release(ctx, key, token); err != nil {
		g.logger.ErrorContext(ctx, "idempotency key not released; it frees itself when its lock runs out",
			"key", key, "error", err)
	}
}

package ports

import (
	"context"
	"github.com/orderflow/orderflow/app/apperr"
	"time"
)

// DedupKey names one message as seen by one handler: the message id (a UUID
// chosen by the publisher, never a hash of the payload, since two different
// orders may carry identical payloads) in the handler's own namespace.
type DedupKey struct {
	Handler   string
	MessageID string
}

// Claim is the state DedupStore.Claim found a message in.
type Claim int

const (
	// ClaimAcquired: nobody has handled the message; the caller handles it,
	// renews the claim while that takes, and then calls Complete (success)
	// or Release (failure) with the claim's token.
	ClaimAcquired Claim = iota + 1
	// ClaimDone: the message was handled within the retention window; drop it.
	ClaimDone
	// ClaimInFlight: another consumer holds an unexpired claim; try later.
	ClaimInFlight
)

// ClaimResult is the outcome of DedupStore.Claim.
type ClaimResult struct {
	State Claim
	// Token names the owner of an acquired claim (State ClaimAcquired; ""
	// otherwise). Renew, Complete and Release act only while the claim
	// still carries it, so that a holder whose lease ran out cannot undo
	// or overwrite the claim of the consumer that took the message over.
	Token string
}

// ErrClaimLost is wrapped by DedupStore.Complete and Renew when the token no
// longer owns the claim: its lease ran out and another consumer took the
// message over, or the store forgot the expired claim. The caller's work may
// then run, or have run, twice: it must not assume it was the only one.
var ErrClaimLost = apperr.New(apperr.Conflict, "deduplication claim lost to another consumer")

// DedupStore is the durable, shared memory of which messages each handler
// has already handled, so that a redelivery (after a nack, a crash, or a
// broker's at-least-once duplicate) has no effect twice.
//
// Claim takes a lease on key for lease and returns a token naming the new
// owner; a claim whose lease ran out (its holder crashed or stalled) may be
// taken again, under a new token. The holder keeps its claim by calling
// Renew before the lease ends (the lease then ends lease after the call).
//
// The other methods act only while token owns the claim:
//   - Renew extends the claim, or returns an error wrapping ErrClaimLost;
//   - Complete turns the claim into a "done" mark kept for retention, or
//     returns an error wrapping ErrClaimLost and changes nothing;
//   - Release drops the claim so the message can be handled again; it is a
//     no-op, not an error, when token does not own the claim (lost, absent,
//     or already done).
//
// A token whose lease ran out but whose claim nobody took over may still
// own it (the SQL stores keep it until cleanup) or not (Redis forgets it):
// the holder cannot rely on either. All methods are safe for concurrent use
// by several processes.
type DedupStore interface {
	Claim(ctx context.Context, key DedupKey, lease time.Duration) (ClaimResult, error)
	Renew(ctx context.Context, key DedupKey, token string, lease time.Duration) error
	Complete(ctx context.Context, key DedupKey, token string, retention time.Duration) error
	Release(ctx context.Context, key DedupKey, token string) error
}

// StoredResponse is an HTTP response kept for an idempotency key.
type StoredResponse struct {
	Status int
	Header map[string]string
	Body   []byte
}

// IdempotencyRecord is what is stored under an idempotency key.
// Response is nil while the first request is still in flight.
type IdempotencyRecord struct {
	Key         string
	Fingerprint string
	Response    *StoredResponse
	// Token names the owner of a reservation: set on the record Reserve
	// returns with reserved=true, "" on a record someone else holds.
	Token string
}

// ErrIdempotencyKeyLost is wrapped by IdempotencyStore.Complete when the
// token no longer owns the key: its lock ran out and another request took
// the key over (or the record expired). The former holder must not store
// its response: it rolls its work back instead (see app/idempotency).
var ErrIdempotencyKeyLost = apperr.New(apperr.Conflict,
	"the Idempotency-Key was taken over by another request after this one held it too long; retry")

// IdempotencyStore keeps the responses of requests made with an
// Idempotency-Key, so that a retried request gets the original answer.
//
// Reserve records key with the request's fingerprint as in flight, held for
// lock and kept for ttl, and returns the record with a new owner token and
// reserved=true; when an unexpired record exists it returns that record
// (without a token) and reserved=false instead, unless the record is in
// flight with its lock run out (the first request's process died), in which
// case the caller takes it over (reserved=true, fingerprint and token
// replaced).
//
// Complete and Release act only while token owns the reservation. Complete
// stores the response, or returns an error wrapping ErrIdempotencyKeyLost
// and changes nothing. Release forgets the key (the request was refused or
// failed in a way a retry may fix); it is a no-op when token does not own an
// in-flight reservation of key. Both write with ctx: inside a
// ports.Transactor unit of the same database they commit with it.
type IdempotencyStore interface {
	Reserve(ctx context.Context, key, fingerprint string, lock, ttl time.Duration) (IdempotencyRecord, bool, error)
	Complete(ctx context.Context, key, token string, resp StoredResponse) error
	Release(ctx context.Context, key, token string) error
}

// PoisonedMessage is a message a handler could never process, parked with
// the reason.
type PoisonedMessage struct {
	// ID identifies the parked copy (a UUIDv7, so ids sort by time); the same
	// message poisoned by two handlers is two entries.
	ID            string
	MessageID     string
	Topic         string // the topic the handler consumed it from
	Handler       string
	Reason        string
	Payload       []byte
	Metadata      map[string]string
	FirstFailedAt time.Time
	PoisonedAt    time.Time
}

// ErrPoisonNotFound is wrapped by PoisonStore.Get and Delete for an unknown id.
var ErrPoisonNotFound = apperr.New(apperr.NotFound, "no such poisoned message")

// PoisonStore is the durable poison queue.
//
// Add stores m; adding an id already stored changes nothing (publishers
// retry). List returns up to limit entries with ID > afterID, in ID order
// ("" starts at the beginning). Get and Delete of an unknown id return an
// error wrapping ErrPoisonNotFound.
type PoisonStore interface {
	Add(ctx context.Context, m PoisonedMessage) error
	List(ctx context.Context, afterID string, limit int) ([]PoisonedMessage, error)
	Get(ctx context.Context, id string) (PoisonedMessage, error)
	Delete(ctx context.Context, id string) error
}

// PoisonRepublisher sends a parked message back to the topic it was
// consumed from (m.Topic), with its original message id, payload and
// metadata minus the marks the poison queue added, so that the handler that
// parked it sees it again and the handlers that had processed it drop it as
// a duplicate. It does not touch the PoisonStore: removing the parked copy
// is the caller's next step.
type PoisonRepublisher interface {
	Republish(ctx context.Context, m PoisonedMessage) error
}

// RetryingMessage is a message a handler failed with a transient error, set
// aside in the RetryStore so that the messages behind it flow on, and
// delivered to that handler again when due.
type RetryingMessage struct {
	// ID identifies the entry (a UUIDv7); (Handler, MessageID) is unique.
	ID        string
	MessageID string
	Topic     string // the topic the handler consumed it from
	Handler   string
	Payload   []byte
	Metadata  map[string]string
	// Attempts is the number of failed deliveries so far (1 when set aside).
	Attempts      int
	LastError     string
	FirstFailedAt time.Time
	// Token names the claim Claim returned the entry under ("" otherwise).
	Token string
}

// ErrRetryClaimLost is wrapped by RetryStore.Reschedule and Delete when the
// token no longer owns the entry: its lease ran out and it was claimed
// again (or removed).
var ErrRetryClaimLost = apperr.New(apperr.Conflict, "retry claim lost: the entry was claimed again after its lease ran out")

// RetryStore is the durable retry queue of the router: per-message backoff
// without holding up a partition.
//
//   - Add sets m aside, due after delay. A message already set aside for
//     m.Handler (same MessageID) is kept as it is, and Add returns nil: a
//     redelivered copy does not start its backoff again.
//   - Claim returns up to limit entries of handler that are due, the
//     longest due first, each under a new Token and hidden from other
//     claims for lease (a claimer that dies frees its entries when the
//     lease ends). Concurrent claims never return the same entry.
//   - Reschedule records a further failed attempt and makes the entry due
//     after delay; Delete removes it (handled, or parked in the poison
//     queue). Both act only while token still owns the entry, and otherwise
//     return an error wrapping ErrRetryClaimLost and change nothing.
//   - Pending counts the entries set aside, per handler.
type RetryStore interface {
	Add(ctx context.Context, m RetryingMessage, delay time.Duration) error
	Claim(ctx context.Context, handler string, limit int, lease time.Duration) ([]RetryingMessage, error)
	Reschedule(ctx context.Context, id, token string, attempts int, lastErr string, delay time.Duration) error
	Delete(ctx context.Context, id, token string) error
	Pending(ctx context.Context) (map[string]int, error)
}

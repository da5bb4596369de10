package sqlstore

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Deferred commits: PostgreSQL's synchronous_commit off, for the writes of
// message handlers whose delivery is acknowledged in the same database.
//
// A handler's transaction on the Postgres broker is followed by the
// acknowledgement of its message: the consumer group's offset, written and
// committed in the same PostgreSQL, with synchronous_commit on. That commit
// flushes the write-ahead log up to its own record, and with it every
// record before it, the handler's included. So the handler's commit need
// not wait for its own flush: if the server crashes before the flush, the
// acknowledgement is lost with the effect, and the message is delivered
// again. A deferred commit is visible to other transactions at once; what
// reads it and acts outside the database (the payment provider, a webhook)
// does so at least once anyway, with idempotency keys.
//
// It is not safe where the acknowledgement is elsewhere (Kafka, NATS, a
// broker in another PostgreSQL server): the offset could move on while the
// effect is still unflushed. The composition root enables it only for the
// Postgres broker on the store's own server (service.deferCommits).

type deferKey struct{}

// DeferCommits marks ctx: the stores of a DB made by PostgresDeferring, and
// the Postgres event store with a deferred pool, run its statements (and the
// transactions they begin) on the deferred pool, whose sessions commit
// without waiting for their flush. Elsewhere the mark changes nothing.
func DeferCommits(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferKey{}, true)
}

// CommitsDeferred reports whether ctx is marked by DeferCommits.
func CommitsDeferred(ctx context.Context) bool {
	d, _ := ctx.Value(deferKey{}).(bool)
	return d
}

// PostgresDeferring is Postgres(pool), but a statement or transaction begun
// with a context marked by DeferCommits runs on deferred instead: a pool of
// the same database whose sessions have synchronous_commit off. Its
// transactions are still pool's for every store and event store of pool
// (the Transactor's ambient transaction), so a unit of work joins them as
// before.
func PostgresDeferring(pool, deferred *pgxpool.Pool) DB {
	db := Postgres(pool)
	if deferred == nil {
		return db
	}
	d := Postgres(deferred)
	d.owner = pool
	db.deferred = &d
	return db
}

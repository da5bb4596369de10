package ports

import "context"

// Transactor runs a unit of work in one database transaction: fn gets a
// context carrying the transaction, and every store of the same database
// called with that context (the event store, the checkout, checkpoint,
// snapshot and read model stores) works in it, so that their writes commit
// together or not at all. The transaction commits when fn returns nil and
// rolls back otherwise; fn's error is returned as it is. Inside a
// transaction of the same Transactor, InTx runs fn in it.
//
// fn must not call anything outside the database (a payment provider, a
// webhook) and must be safe to run again: a caller retries the whole unit
// when it fails with ErrConcurrency.
//
// On Postgres the transaction is READ COMMITTED: a read inside it sees what
// other transactions committed before the read, and the transaction's own
// writes.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

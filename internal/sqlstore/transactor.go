package sqlstore

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/orderflow/orderflow/ports"
)

var _ ports.Transactor = Transactor{}

// Transactor is ports.Transactor on one database: InTx opens a transaction
// and puts it in the context it gives fn. Every DB of the same database
// (the stores of Open) joins it, and so do the event stores of
// adapters/postgres and adapters/sqlite through PgxTx and SQLTx.
type Transactor struct{ db DB }

// NewTransactor returns the Transactor of db's database.
func NewTransactor(db DB) Transactor { return Transactor{db: db} }

// InTx implements ports.Transactor. Inside a transaction of the same
// database, fn runs in it.
func (t Transactor) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if t.db.in(ctx).begin == nil {
		return fn(ctx)
	}
	return t.db.InTx(ctx, func(tx DB) error {
		return fn(context.WithValue(ctx, ambientKey{}, ambient{owner: tx.owner, conn: tx.conn}))
	})
}

// ambient is the transaction a Transactor opened, in the context of its fn.
type ambient struct {
	owner any
	conn  conn // a pgxTx or a sqlTx
}

type ambientKey struct{}

// in returns db inside the transaction ctx carries, if it is one of db's
// database; db itself otherwise.
func (db DB) in(ctx context.Context) DB {
	if db.begin == nil {
		return db // already a transaction
	}
	a, ok := ctx.Value(ambientKey{}).(ambient)
	if !ok || a.owner != db.owner {
		return db
	}
	return DB{conn: a.conn, owner: db.owner, Dialect: db.Dialect}
}

// PgxTx returns the transaction of pool that a Transactor opened, if ctx
// carries one: the Postgres event store appends and reads in it.
func PgxTx(ctx context.Context, pool any) (pgx.Tx, bool) {
	a, ok := ctx.Value(ambientKey{}).(ambient)
	if !ok || a.owner != pool {
		return nil, false
	}
	t, ok := a.conn.(pgxTx)
	return t.tx, ok
}

// SQLTx returns the transaction of db that a Transactor opened, if ctx
// carries one: the SQLite event store appends and reads in it.
func SQLTx(ctx context.Context, db *sql.DB) (*sql.Tx, bool) {
	a, ok := ctx.Value(ambientKey{}).(ambient)
	if !ok || a.owner != any(db) {
		return nil, false
	}
	t, ok := a.conn.(sqlTx)
	return t.tx, ok
}

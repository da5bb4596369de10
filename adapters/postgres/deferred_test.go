package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/postgres"
	"github.com/orderflow/orderflow/internal/sqlstore"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/ports"
)

// A context marked by sqlstore.DeferCommits runs a unit of work on the
// deferred pool (synchronous_commit off), and the event store's appends
// and the row stores join that unit as they join any other: a rollback
// undoes both. An unmarked context keeps synchronous commits.
func TestDeferredCommitsRunOnTheDeferredPool(t *testing.T) {
	pool, _ := testenv.PostgresPool(t)
	pc := pool.Config()
	pc.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	deferred, err := pgxpool.NewWithConfig(t.Context(), pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(deferred.Close)
	cfg := postgres.EventStoreConfig{DeferredPool: deferred}
	if err := postgres.InitializeOutbox(t.Context(), pool, cfg); err != nil {
		t.Fatal(err)
	}
	es, err := postgres.NewEventStore(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := sqlstore.Open(sqlstore.PostgresDeferring(pool, deferred))

	unit := func(ctx context.Context, commit bool) (setting string, stream ports.Stream) {
		t.Helper()
		stream = ports.Stream{Type: "t", ID: uuid.NewString()}
		errRollback := context.Canceled
		err := rows.Tx.InTx(ctx, func(ctx context.Context) error {
			tx, ok := sqlstore.PgxTx(ctx, pool)
			if !ok {
				t.Fatal("the unit's transaction is not the pool's")
			}
			if err := tx.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&setting); err != nil {
				return err
			}
			if _, err := es.Append(ctx, stream, 0, newEvents(1)); err != nil {
				return err
			}
			if err := rows.Checkpoints.SaveCheckpoint(ctx, "deferred-"+stream.ID, ports.Position{Commit: 1}); err != nil {
				return err
			}
			if !commit {
				return errRollback
			}
			return nil
		})
		if commit && err != nil {
			t.Fatal(err)
		}
		return setting, stream
	}
	stored := func(stream ports.Stream) (events int, checkpoint bool) {
		t.Helper()
		es, err := es.Load(t.Context(), stream, 1)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := rows.Checkpoints.Checkpoint(t.Context(), "deferred-"+stream.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(es), cp != (ports.Position{})
	}

	marked := sqlstore.DeferCommits(t.Context())
	if setting, stream := unit(marked, true); setting != "off" {
		t.Fatalf("a marked unit ran with synchronous_commit %q, want off", setting)
	} else if n, cp := stored(stream); n != 1 || !cp {
		t.Fatalf("after a marked unit's commit: %d events, checkpoint %v; want 1 and true", n, cp)
	}
	_, rolledBack := unit(marked, false)
	if n, cp := stored(rolledBack); n != 0 || cp {
		t.Fatalf("after a marked unit's rollback: %d events, checkpoint %v; want neither", n, cp)
	}
	if setting, _ := unit(t.Context(), true); setting != "on" {
		t.Fatalf("an unmarked unit ran with synchronous_commit %q, want on", setting)
	}

	// Outside a unit: a marked append commits on the deferred pool.
	stream := ports.Stream{Type: "t", ID: uuid.NewString()}
	if _, err := es.Append(marked, stream, 0, newEvents(1)); err != nil {
		t.Fatal(err)
	}
	if n, _ := stored(stream); n != 1 {
		t.Fatalf("a marked append outside a unit: %d events stored, want 1", n)
	}
}

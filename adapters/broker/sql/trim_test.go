package sql_test

import (
	stdsql "database/sql"
	"slices"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orderflow/orderflow/adapters/broker"
	"github.com/orderflow/orderflow/adapters/broker/brokertest"
	sqlbroker "github.com/orderflow/orderflow/adapters/broker/sql"
	"github.com/orderflow/orderflow/internal/storetest"
	"github.com/orderflow/orderflow/internal/testenv"
)

// trimTables is what the trim test reads and changes behind a broker's
// back: which messages of a topic are left, how many of them a group has
// acked, and a message's age.
type trimTables struct {
	left  func(t *testing.T, topic string) []string
	acked func(t *testing.T, topic, group string) int
	age   func(t *testing.T, topic, uuid string, by time.Duration)
}

func postgresTrimTables(pool *pgxpool.Pool) trimTables {
	messages := func(topic string) string { return wsql.DefaultPostgreSQLSchema{}.MessagesTable(topic) }
	return trimTables{
		left: func(t *testing.T, topic string) []string {
			rows, err := pool.Query(t.Context(), `SELECT uuid FROM `+messages(topic)+` ORDER BY "offset"`)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			return ids
		},
		acked: func(t *testing.T, topic, group string) (n int) {
			err := pool.QueryRow(t.Context(), `SELECT count(*) FROM `+messages(topic)+` m, `+
				wsql.DefaultPostgreSQLOffsetsAdapter{}.MessagesOffsetsTable(topic)+` o WHERE o.consumer_group = $1
				AND (m.transaction_id, m."offset") <= (o.last_processed_transaction_id, o.offset_acked)`, group).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		age: func(t *testing.T, topic, uuid string, by time.Duration) {
			if _, err := pool.Exec(t.Context(), `UPDATE `+messages(topic)+` SET created_at = created_at - make_interval(secs => $1)
				WHERE uuid = $2`, by.Seconds(), uuid); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func sqliteTrimTables(db *stdsql.DB) trimTables {
	return trimTables{
		left: func(t *testing.T, topic string) []string {
			rows, err := db.QueryContext(t.Context(), `SELECT uuid FROM pubsub_messages WHERE topic = ? ORDER BY "offset"`, topic)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var ids []string
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			return ids
		},
		acked: func(t *testing.T, topic, group string) (n int) {
			err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pubsub_messages m JOIN pubsub_offsets o
				ON o.topic = m.topic AND o.consumer_group = ? WHERE m.topic = ? AND m."offset" <= o.acked_offset`,
				group, topic).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			return n
		},
		age: func(t *testing.T, topic, uuid string, by time.Duration) {
			if _, err := db.ExecContext(t.Context(), `UPDATE pubsub_messages SET created_at = ? WHERE topic = ? AND uuid = ?`,
				time.Now().Add(-by).UTC().Format(time.RFC3339Nano), topic, uuid); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// TestTrim: a message is trimmed once every consumer group of its topic has
// passed it and it is older than the retention (on a topic no group reads,
// by age alone); a message one group has not passed stays, and so does one
// newer than the retention, and one of an excepted topic (the outbox).
func TestTrim(t *testing.T) {
	for _, bc := range []struct {
		name string
		open func(t *testing.T) (broker.Broker, trimTables)
	}{
		{"postgres", func(t *testing.T) (broker.Broker, trimTables) {
			pool, _ := testenv.PostgresPool(t)
			b, err := sqlbroker.NewPostgres(pool, 10*time.Millisecond, logger)
			return brokertest.OpenedBare(t, b, err), postgresTrimTables(pool)
		}},
		{"sqlite", func(t *testing.T) (broker.Broker, trimTables) {
			db := storetest.SQLiteDB(t)
			b, err := sqlbroker.NewSQLite(t.Context(), db, 10*time.Millisecond, logger)
			return brokertest.OpenedBare(t, b, err), sqliteTrimTables(db)
		}},
	} {
		t.Run(bc.name, func(t *testing.T) {
			b, tables := bc.open(t)
			const topic, unread, outbox = "trim_events", "trim_unread", "trim_outbox"
			publish := func(topic string) string {
				t.Helper()
				msg := message.NewMessage(watermill.NewUUID(), []byte(`{}`))
				if err := b.Publisher.Publish(topic, msg); err != nil {
					t.Fatal(err)
				}
				return msg.UUID
			}
			// watermill-sql stores a group's acks when the batch it read
			// ends: each group reads what is there, then m3 comes.
			m1, m2 := publish(topic), publish(topic)
			u1, u2, o1 := publish(unread), publish(unread), publish(outbox)
			consume := func(topic, group string, n, acked int) {
				t.Helper()
				sub, err := b.Subscriber(group)
				if err != nil {
					t.Fatal(err)
				}
				testenv.ReceiveAcked(t, sub, topic, n)
				testenv.WaitCount(t, group+"'s acked messages", acked, func() (int, error) { return tables.acked(t, topic, group), nil })
				if err := sub.Close(); err != nil {
					t.Fatal(err)
				}
			}
			consume(topic, "group_a", 2, 2)
			consume(topic, "group_b", 2, 2)
			consume(outbox, "forwarder", 1, 1)
			m3 := publish(topic)
			consume(topic, "group_a", 1, 3) // group_b has not passed m3

			for _, old := range []struct{ topic, id string }{{topic, m1}, {topic, m3}, {unread, u1}, {outbox, o1}} {
				tables.age(t, old.topic, old.id, 2*time.Hour)
			}
			n, err := b.Trim(t.Context(), time.Hour, 100, outbox)
			if err != nil {
				t.Fatal(err)
			}
			if left := tables.left(t, topic); n != 2 || !slices.Equal(left, []string{m2, m3}) {
				t.Fatalf("trimmed %d, %v left; want m1 and u1 trimmed and m2 (new) and m3 (not passed by group_b) left: %v",
					n, left, []string{m1, m2, m3})
			}
			if left := tables.left(t, unread); !slices.Equal(left, []string{u2}) {
				t.Fatalf("a topic no group reads: %v left, want its old message trimmed by age and the new one %s kept", left, u2)
			}
			if left := tables.left(t, outbox); !slices.Equal(left, []string{o1}) {
				t.Fatalf("an excepted topic was trimmed: %v left", left)
			}
		})
	}
}

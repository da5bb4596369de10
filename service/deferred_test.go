package service

import (
	"testing"

	"github.com/orderflow/orderflow/internal/testenv"
)

// The handlers commit without waiting for their flush only where their
// messages' acknowledgements are synchronous commits of the same server:
// the Postgres broker on the store's own database, unless
// --sync-handler-commits says otherwise. Those sessions have
// synchronous_commit off; the store's own keep it on.
func TestDeferredCommitsOnlyWhereTheAckFlushesThem(t *testing.T) {
	pool, url := testenv.PostgresPool(t)
	for _, tc := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"the postgres broker", Config{PostgresURL: url}, true},
		{"kafka", Config{PostgresURL: url, BrokerConfig: BrokerConfig{Broker: "kafka"}}, false},
		{"a broker database of its own", Config{PostgresURL: url, Reliability: ReliabilityConfig{BrokerPostgresURL: url}}, false},
		{"--sync-handler-commits", Config{PostgresURL: url, Reliability: ReliabilityConfig{SyncHandlerCommits: true}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg.WithDefaults()
			deferred, err := deferredPool(t.Context(), cfg, pool)
			if err != nil {
				t.Fatal(err)
			}
			if (deferred != nil) != tc.want {
				t.Fatalf("deferred pool %v, want one: %v", deferred != nil, tc.want)
			}
			if deferred == nil {
				return
			}
			defer deferred.Close()
			var setting, own string
			if err := deferred.QueryRow(t.Context(), `SELECT current_setting('synchronous_commit')`).Scan(&setting); err != nil {
				t.Fatal(err)
			}
			if err := pool.QueryRow(t.Context(), `SELECT current_setting('synchronous_commit')`).Scan(&own); err != nil {
				t.Fatal(err)
			}
			if setting != "off" || own != "on" {
				t.Fatalf("synchronous_commit: deferred %q, the store's %q; want off and on", setting, own)
			}
		})
	}
}

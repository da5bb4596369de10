package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/testenv"
)

// EnvTestBroker chooses the broker of the multi-process test (default
// postgres). Each name maps to the environment that points the processes
// at it; a broker that needs a server of its own starts it here.
const EnvTestBroker = "ORDERFLOW_TEST_BROKER"

var multiProcessBrokers = map[string]func(t *testing.T) []string{
	"postgres": func(*testing.T) []string { return []string{"ORDERFLOW_BROKER=postgres"} },
}

// TestMultiProcessSurvivesSIGKILL runs three orderflow processes on one
// Postgres schema, with the Redis read cache, each with a different mix of
// roles. Under a bounded load spread over their APIs, the process that runs
// every role is killed with SIGKILL; the others take over its forwarding and
// projecting; later it is restarted. Then every accepted order must be in
// the read model exactly once, at the state its acknowledged commands made,
// with an event stream free of duplicates whose length is the read model's
// version, through every process's API and cache.
func TestMultiProcessSurvivesSIGKILL(t *testing.T) {
	broker := os.Getenv(EnvTestBroker)
	if broker == "" {
		broker = "postgres"
	}
	brokerEnv, ok := multiProcessBrokers[broker]
	if !ok {
		t.Fatalf("%s=%s: this test knows no such broker", EnvTestBroker, broker)
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	shared := append([]string{
		"ORDERFLOW_POSTGRES_URL=" + testenv.PostgresURL(t),
		"ORDERFLOW_CACHE_REDIS_URL=" + testenv.RedisURL(),
		"ORDERFLOW_CACHE_KEY_PREFIX=" + testenv.RedisKeyPrefix(t),
	}, brokerEnv(t)...)
	roles := []string{"api,forwarder", "api,projections", rolesWithoutSaga}
	const victim = 2
	envs := make([][]string, len(roles))
	procs := make([]*process, len(roles))
	c := &cluster{bases: make([]string, len(roles)), up: make([]bool, len(roles))}
	for i, r := range roles {
		addr := freeAddr(t)
		envs[i] = append([]string{"ORDERFLOW_HTTP_ADDR=" + addr, "ORDERFLOW_ROLES=" + r}, shared...)
		c.bases[i] = "http://" + addr
		// One at a time: the first creates the broker's tables.
		procs[i] = startProcess(t, bin, envs[i])
		waitReady(t, c.bases[i], procs[i])
		c.setUp(i, true)
	}

	const total, workers, killAt = 300, 6, 100
	customer := "multi-" + uuid.NewString()
	var killed time.Time
	start := time.Now()
	res := runLoad(c, customer, total, workers, func(n int) {
		if n == killAt {
			c.setUp(victim, false)
			killed = time.Now()
			_ = procs[victim].cmd.Process.Signal(syscall.SIGKILL)
		}
	})
	if killed.IsZero() {
		t.Fatalf("only %d orders accepted, the kill never happened", len(res.accepted))
	}
	loadEnded := time.Now()
	<-procs[victim].done

	// The survivors finish the victim's work.
	for i, o := range res.accepted {
		if o.refused != "" {
			t.Fatalf("order %s: unexpected answer %s", o.id, o.refused)
		}
		converge(t, c.pick(i), o)
	}
	recovered := time.Since(loadEnded)

	restarted := time.Now()
	procs[victim] = startProcess(t, bin, envs[victim])
	waitReady(t, c.bases[victim], procs[victim])
	c.setUp(victim, true)
	restartReady := time.Since(restarted)

	// Every process's API, the restarted one's included, answers the same.
	lost, dups := 0, 0
	for _, o := range res.accepted {
		var isLost, isDup bool
		for _, base := range c.bases {
			ck := checkOrder(t, base, o)
			isLost, isDup = isLost || ck.lost > 0, isDup || ck.dups > 0
		}
		lost, dups = lost+btoi(isLost), dups+btoi(isDup)
	}
	seen := listAll(t, c.bases[victim], customer)
	for _, o := range res.accepted {
		switch seen[o.id] {
		case 0:
			lost++
		case 1:
		default:
			dups++
		}
	}
	committedWithoutReply := len(seen) - len(res.accepted)
	uncertain := 0
	for _, o := range res.accepted {
		if o.uncertain {
			uncertain++
		}
	}
	t.Logf("broker %s, roles %q, killed %q after %d accepted orders: accepted %d, lost %d, duplicates %d; "+
		"commands acknowledged %d, replies lost %d (orders in doubt %d); places without reply %d (committed %d); "+
		"load %s, kill at %s; read model complete %s after the load ended; restarted process ready in %s",
		broker, roles, roles[victim], killAt, len(res.accepted), lost, dups,
		res.commandsOK, res.commandsUnknown, uncertain, res.placeLost, committedWithoutReply,
		loadEnded.Sub(start).Round(time.Millisecond), killed.Sub(start).Round(time.Millisecond), recovered.Round(time.Millisecond), restartReady.Round(time.Millisecond))
	if lost != 0 || dups != 0 || committedWithoutReply < 0 || int64(committedWithoutReply) > res.placeLost {
		t.Fatal("the kill broke the guarantees")
	}
}

// converge waits until the read model behind base holds o at the version of
// its event stream.
func converge(t *testing.T, base string, o *plannedOrder) {
	t.Helper()
	waitFor(t, 60*time.Second, "order "+o.id+" in the read model", func() bool {
		events := orderEvents(t, base, o.id)
		got, r := getOrder(t, fmt.Sprintf("%s/v1/orders/%s?min_version=%d", base, o.id, len(events)))
		return r.status == http.StatusOK && got.Version == int64(len(events)) && len(events) >= int(o.wantVersion())
	})
}

type eventRow struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Version int64  `json:"version"`
}

func orderEvents(t *testing.T, base, id string) []eventRow {
	t.Helper()
	var events []eventRow
	r := do(t, "GET", base+"/v1/orders/"+id+"/events", nil)
	expectStatus(t, r, http.StatusOK)
	r.json(t, &events)
	return events
}

type orderCheck struct{ lost, dups int }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkOrder compares o's stream, read model row and cached row through
// base, reporting each discrepancy and counting what was lost or happened
// twice.
func checkOrder(t *testing.T, base string, o *plannedOrder) orderCheck {
	t.Helper()
	var c orderCheck
	fail := func(format string, args ...any) {
		t.Errorf("order %s via %s: "+format, append([]any{o.id, base}, args...)...)
	}
	events := orderEvents(t, base, o.id)
	ids := map[string]bool{}
	for i, e := range events {
		if ids[e.EventID] || e.Version != int64(i+1) {
			c.dups++
			fail("event %d is %+v (duplicate or out of sequence)", i+1, e)
		}
		ids[e.EventID] = true
	}
	n := int64(len(events))
	switch {
	case n < o.wantVersion():
		c.lost++
		fail("%d events, but %d commands were acknowledged", n, o.wantVersion())
	case n > o.wantVersion()+1 || (n > o.wantVersion() && !o.uncertain):
		c.dups++
		fail("%d events for %d acknowledged commands (in doubt: %v)", n, o.wantVersion(), o.uncertain)
	}
	if n == 0 {
		return c
	}
	last := events[n-1].Type // order.<status>.v<N>
	wantStatus := strings.TrimPrefix(last, "order.")
	wantStatus = wantStatus[:strings.LastIndex(wantStatus, ".v")]
	if n == o.wantVersion() && wantStatus != o.wantStatus() {
		fail("last event %s, want status %s", last, o.wantStatus())
	}
	// The plain read may come from the cache: it must be as new as the store.
	got, r := getOrder(t, base+"/v1/orders/"+o.id)
	if r.status != http.StatusOK || got.Version != n || got.Status != wantStatus {
		c.lost++
		fail("read model/cache answers %d v%d %q, stream is at v%d %q", r.status, got.Version, got.Status, n, wantStatus)
	}
	return c
}

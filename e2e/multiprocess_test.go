package e2e

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/google/uuid"
	"github.com/orderflow/orderflow/internal/testenv"
	"github.com/orderflow/orderflow/service"
)

// EnvTestBroker chooses the broker of the multi-process test (default
// kafka: one devkafka broker shared by the processes). Each name maps to the environment that points the processes at
// it; a broker that needs a server of its own starts it here.
const EnvTestBroker = "ORDERFLOW_TEST_BROKER"

// EnvTestLogDir, when set, is a directory where the multi-process test
// writes each process's whole output (the killed incarnation's too).
const EnvTestLogDir = "ORDERFLOW_TEST_LOG_DIR"

// EnvTestLogLevel sets the --log-level of the processes the tests start
// (default warn), e.g. info or debug with EnvTestLogDir to follow a run.
const EnvTestLogLevel = "ORDERFLOW_TEST_LOG_LEVEL"

// keepLog writes p's output to EnvTestLogDir, if set.
func keepLog(t *testing.T, name string, p *process) {
	dir := os.Getenv(EnvTestLogDir)
	if dir == "" {
		return
	}
	path := filepath.Join(dir, name+".log")
	if err := os.WriteFile(path, p.out.Bytes(), 0o644); err != nil {
		t.Errorf("keep the log of %s: %v", name, err)
		return
	}
	t.Logf("output of %s kept in %s", name, path)
}

// EnvTestRoles overrides the role mixes of the multi-process test,
// separated by ";" (for example "api,forwarder,saga;api,projections,saga;all").
// The last process is the one killed.
const EnvTestRoles = "ORDERFLOW_TEST_ROLES"

var multiProcessBrokers = map[string]func(t *testing.T) []string{
	"kafka": func(t *testing.T) []string {
		return []string{"ORDERFLOW_BROKER=kafka", "ORDERFLOW_KAFKA_BROKERS=" + startDevKafka(t), "ORDERFLOW_KAFKA_PARTITIONS=3"}
	},
	"postgres": func(*testing.T) []string { return []string{"ORDERFLOW_BROKER=postgres"} },
}

// buildDevKafka builds the cmd/devkafka binary once per test run.
var buildDevKafka = goBuildOnce("../cmd/devkafka", "devkafka")

// startDevKafka runs the devkafka binary on a free loopback port until the
// test ends (after the processes started later, cleanups being LIFO) and
// returns the address it printed.
func startDevKafka(t *testing.T) string {
	t.Helper()
	bin, err := buildDevKafka()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--partitions", "3")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("devkafka: %v", err)
		}
	})
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatal("devkafka printed no address")
		}
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("devkafka printed no address within 30s")
		return ""
	}
}

// TestMultiProcessSurvivesSIGKILL runs one devkafka broker, Postgres, the
// Redis read cache and three orderflow processes, with role mixes that run
// the checkout saga in all three and every other role in two. Under a
// bounded load spread over their APIs (orders only placed, cancelled by the
// client, or shipped and delivered once checkout confirmed them) one of
// them, running every role, is killed with SIGKILL and restarted while the
// load goes on. Then every accepted order must be in the read model exactly
// once in its final state, no effect may have happened twice (events,
// payment authorizations, stock), the payment provider must show each
// checkout's authorization in the state the checkout left it, and the
// stock must add up.
func TestMultiProcessSurvivesSIGKILL(t *testing.T) {
	broker := os.Getenv(EnvTestBroker)
	if broker == "" {
		broker = "kafka"
	}
	brokerEnv, ok := multiProcessBrokers[broker]
	if !ok {
		t.Fatalf("%s=%s: this test knows no such broker", EnvTestBroker, broker)
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	postgresURL := testenv.PostgresURL(t)
	shared := append([]string{
		"ORDERFLOW_POSTGRES_URL=" + postgresURL,
		"ORDERFLOW_CACHE_REDIS_URL=" + testenv.RedisURL(),
		"ORDERFLOW_CACHE_KEY_PREFIX=" + testenv.RedisKeyPrefix(t),
	}, brokerEnv(t)...)
	// The checkout saga runs in every process, the killed one included: the
	// saga's topics have a consumer group each, so one checkout's steps are
	// spread over the processes (and move to the others while the victim is
	// down). That works because the saga's state and the payment sandbox's
	// authorizations both live in Postgres, shared by all processes: a
	// capture or void finds the authorization whichever process made it.
	// EnvTestRoles runs other mixes (the victim is last).
	roles := []string{"api,forwarder,saga", "api,projections,saga", "all"}
	if r := os.Getenv(EnvTestRoles); r != "" {
		roles = strings.Split(r, ";")
	}
	victim := len(roles) - 1
	envs := make([][]string, len(roles))
	procs := make([]*process, len(roles))
	c := &cluster{bases: make([]string, len(roles)), up: make([]bool, len(roles)),
		provider: openSandbox(t, service.Config{PostgresURL: postgresURL})}
	// Registered before the processes start, so it runs after they stopped.
	t.Cleanup(func() {
		for i, p := range procs {
			if p == nil {
				continue
			}
			keepLog(t, fmt.Sprintf("process-%d", i), p)
			if t.Failed() {
				out := p.out.String()
				t.Logf("process %d (%s) output, last 3000 bytes:\n%s", i, roles[i], out[max(0, len(out)-3000):])
			}
		}
	})
	for i, r := range roles {
		addr := freeAddr(t)
		envs[i] = append([]string{"ORDERFLOW_HTTP_ADDR=" + addr, "ORDERFLOW_ROLES=" + r}, shared...)
		c.bases[i] = "http://" + addr
		// One at a time: the first creates the tables.
		procs[i] = startProcess(t, bin, envs[i])
		waitReady(t, c.bases[i], procs[i])
		c.setUp(i, true)
	}
	for _, sku := range skus {
		setStock(t, c.bases[0], sku.name, initialStock)
	}
	if broker == "kafka" {
		waitKafkaGroupsStable(t, brokerEnvValue(shared, "ORDERFLOW_KAFKA_BROKERS"))
	}

	const total, workers, killAt, restartAt = 240, 8, 60, 150
	customer := "multi-" + uuid.NewString()
	killedCh := make(chan time.Time, 1)
	start := time.Now()
	res := &loadResult{}
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		runLoad(c, res, customer, total, workers, func(n int) {
			if n == killAt {
				c.setUp(victim, false)
				_ = procs[victim].cmd.Process.Signal(syscall.SIGKILL)
				killedCh <- time.Now()
			}
		})
	}()
	var killed, restarted time.Time
	select {
	case killed = <-killedCh:
	case <-loadDone:
		t.Fatalf("only %d orders accepted, the kill never happened", res.count())
	}
	procs[victim].waitKilled(t)
	// Restart while the load goes on, once it is well past the kill.
	waitFor(t, 90*time.Second, fmt.Sprintf("%d accepted orders, the load to go on after the kill", restartAt), func() bool {
		select {
		case <-loadDone:
			return true
		default:
			if n := res.count(); n >= restartAt {
				return true
			}
			return false
		}
	})
	restarted = time.Now()
	keepLog(t, fmt.Sprintf("process-%d-killed", victim), procs[victim])
	procs[victim] = startProcess(t, bin, envs[victim])
	waitReady(t, c.bases[victim], procs[victim])
	c.setUp(victim, true)
	restartReady := time.Since(restarted)
	<-loadDone
	loadEnded := time.Now()

	f := verifyCluster(t, c, customer, res)
	t.Logf("broker %s, roles %q, %q SIGKILLed after %d accepted orders (at %s), restarted at %s (ready in %s); load of %d orders took %s",
		broker, roles, roles[victim], killAt, killed.Sub(start).Round(time.Millisecond),
		restarted.Sub(start).Round(time.Millisecond), restartReady.Round(time.Millisecond),
		total, loadEnded.Sub(start).Round(time.Millisecond))
	t.Logf("accepted %d (%v); commands acknowledged %d, in doubt %d, requests retried %d, places without reply %d (committed anyway %d)",
		len(res.accepted), f.plans, res.commandsOK.Load(), res.commandsUnknown.Load(), res.retried.Load(), res.placeLost.Load(), f.unreplied)
	t.Logf("final states %v; lost %d, duplicated %d, wrong state %d, effects twice %d, provider disagrees %d; read model and checkouts settled %s after the load",
		f.states, f.lost, f.dups, f.wrong, f.twice, f.provider, f.settled.Round(time.Millisecond))
	t.Logf("stock %s", f.stock)
	if f.lost != 0 || f.dups != 0 || f.wrong != 0 || f.twice != 0 || f.provider != 0 || f.unreplied < 0 || int64(f.unreplied) > res.placeLost.Load() {
		t.Fatal("the kill broke the guarantees")
	}
}

// brokerEnvValue is the value of name in env ("NAME=value" entries).
func brokerEnvValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// waitKafkaGroupsStable waits until every consumer group on the broker has
// been Stable for two seconds, so that the kill lands in steady state. The
// dev broker (kfake) never expires a member that died while its JoinGroup
// was in flight (it arms the member's session timer only once a reply was
// delivered), so a kill during the start-up rebalances leaves a dead member
// holding partitions until the next rebalance; Kafka drops such a member
// after the session timeout. A kill in steady state is what both handle alike.
func waitKafkaGroupsStable(t *testing.T, brokers string) {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	admin, err := sarama.NewClusterAdmin(strings.Split(brokers, ","), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var stableSince time.Time
	var last string
	waitFor(t, 90*time.Second, "every Kafka consumer group stable for 2s", func() bool {
		groups, err := admin.ListConsumerGroups()
		if err != nil || len(groups) == 0 {
			stableSince = time.Time{}
			return false
		}
		descs, err := admin.DescribeConsumerGroups(slices.Collect(maps.Keys(groups)))
		if err != nil {
			stableSince = time.Time{}
			return false
		}
		var states []string
		stable := true
		for _, d := range descs {
			states = append(states, fmt.Sprintf("%s=%s/%d", d.GroupId, d.State, len(d.Members)))
			stable = stable && d.State == "Stable"
		}
		last = strings.Join(states, " ")
		if !stable {
			stableSince = time.Time{}
			return false
		}
		if stableSince.IsZero() {
			stableSince = time.Now()
		}
		return time.Since(stableSince) >= 2*time.Second
	})
	t.Logf("Kafka consumer groups stable: %s", last)
}
